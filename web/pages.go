package web

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage/classify"
	"github.com/tanggap/tanggap/workflow"
)

// opdRow is one line of the city board.
type opdRow struct {
	Code, Name, Abbrev        string
	Overdue, DueSoon, OnTrack int64
	Light                     string // red, yellow, green
	Auto, Overruled           int64  // the classifier's routings to the OPD, and how many people overruled
}

// OverruledPct is the share of the classifier's routings people changed.
func (r opdRow) OverruledPct() string {
	if r.Auto == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(r.Overruled)/float64(r.Auto), 'f', 0, 64) + "%"
}

func (s *Server) opdCodes() []string {
	codes := make([]string, len(s.opt.Config.OPDs))
	for i, o := range s.opt.Config.OPDs {
		codes[i] = o.Code
	}
	return codes
}

func light(over, soon int64) string {
	switch {
	case over > 0:
		return "red"
	case soon > 0:
		return "yellow"
	}
	return "green"
}

// home is the city-wide board of the PPID Utama: every OPD red, yellow or
// green by its open items' deadlines, worst first.
func (s *Server) home(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if !p.CitywideAccess() {
		http.Redirect(w, r, "/antrian/"+url.PathEscape(p.OPD), http.StatusSeeOther)
		return nil
	}
	counts, err := s.opt.Store.OpenCounts(r.Context(), s.opdCodes(), s.opt.Now())
	if err != nil {
		return err
	}
	routing, err := s.opt.Store.Routing(r.Context())
	if err != nil {
		return err
	}
	un := counts[store.Unrouted]
	rows := []opdRow{{Code: store.Unrouted, Name: s.t(r, "unrouted"), Abbrev: "-",
		Overdue: un[tanggap.Overdue], DueSoon: un[tanggap.DueSoon], OnTrack: un[tanggap.OnTrack], Light: light(un[tanggap.Overdue], un[tanggap.DueSoon])}}
	var tot [3]int64
	for _, o := range s.opt.Config.OPDs {
		c := counts[o.Code]
		rows = append(rows, opdRow{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev,
			Overdue: c[tanggap.Overdue], DueSoon: c[tanggap.DueSoon], OnTrack: c[tanggap.OnTrack], Light: light(c[tanggap.Overdue], c[tanggap.DueSoon]),
			Auto: routing[o.Code].Auto, Overruled: routing[o.Code].Overruled})
		tot[0] += c[tanggap.Overdue]
		tot[1] += c[tanggap.DueSoon]
		tot[2] += c[tanggap.OnTrack]
	}
	sort.SliceStable(rows[1:], func(i, j int) bool {
		a, b := rows[1+i], rows[1+j]
		if a.Overdue != b.Overdue {
			return a.Overdue > b.Overdue
		}
		if a.DueSoon != b.DueSoon {
			return a.DueSoon > b.DueSoon
		}
		return a.OnTrack > b.OnTrack
	})
	return s.render(w, r, "home", map[string]any{"Rows": rows, "Overdue": tot[0], "DueSoon": tot[1], "OnTrack": tot[2]})
}

// itemView is an item as a page shows it.
type itemView struct {
	tanggap.Item
	State    tanggap.DeadlineState
	Age      string
	Left     string
	OPDName  string
	Created  string
	Deadline string
	Answered string
	Claimed  string // "" or who holds the claim
	HeldFor  string // on hold: for how long (its clocks are paused)
	HeldEnds string // on hold: when it closes without the citizen's answer ("" when the city closes none)
	PostURL  string // the platform link, only when it is http(s)
}

func (s *Server) view(r *http.Request, it tanggap.Item) itemView {
	now := s.opt.Now()
	v := itemView{Item: it, State: it.StateAt(now)}
	v.Age = s.duration(r, now.Sub(it.CreatedAt))
	if !it.Deadline.IsZero() {
		if d := it.Deadline.Sub(now); d >= 0 {
			v.Left = s.t(r, "left") + " " + s.duration(r, d)
		} else {
			v.Left = s.t(r, "late") + " " + s.duration(r, -d)
		}
		v.Deadline = s.localTime(it.Deadline)
	}
	v.Created = s.localTime(it.CreatedAt)
	if it.FirstResponseAt != nil {
		v.Answered = s.localTime(*it.FirstResponseAt)
	}
	if it.Status == tanggap.StatusOnHold && it.HeldSince != nil {
		v.HeldFor = s.duration(r, now.Sub(*it.HeldSince))
		if s.opt.Clocks != nil {
			if end := s.opt.Clocks.HoldExpiry(*it.HeldSince); !end.IsZero() {
				v.HeldEnds = s.localTime(end)
			}
		}
	}
	if it.ClaimedBy != "" && now.Before(it.ClaimUntil) {
		v.Claimed = it.ClaimedBy
	}
	v.OPDName = s.opdName(r, it.OPD)
	if tanggap.SafeURL(it.URL) {
		v.PostURL = it.URL
	}
	return v
}

func (s *Server) opdName(r *http.Request, code string) string {
	if code == "" || code == store.Unrouted {
		return s.t(r, "unrouted")
	}
	if o, ok := s.opt.Config.OPD(code); ok {
		return o.Name
	}
	return code
}

// queueSlot resolves the {opd} path value to a store slot and checks access.
func (s *Server) queueSlot(r *http.Request, p *Principal) (string, string, error) {
	opd := r.PathValue("opd")
	slot := opd
	if opd == store.Unrouted {
		slot = ""
	} else if _, ok := s.opt.Config.OPD(opd); !ok {
		return "", "", tanggap.Errorf(tanggap.ENOTFOUND, "unknown OPD %q", opd)
	}
	if !p.CanSeeOPD(slot) {
		return "", "", tanggap.Errorf(tanggap.EFORBIDDEN, "not your OPD")
	}
	return opd, slot, nil
}

// bucket is one aging bucket of the queue page.
type bucket struct {
	Label string
	N     int64
	Width int64
	Class string
}

// queuePage is how many open items a queue page lists. An OPD with a
// larger backlog gets more pages (?hal=2 …), nearest deadline first.
const queuePage = 300

func (s *Server) queueData(r *http.Request, slot string) (map[string]any, error) {
	page := int64(1)
	if n, err := strconv.ParseInt(r.URL.Query().Get("hal"), 10, 64); err == nil && n > 1 {
		page = n
	}
	now := s.opt.Now()
	load := func() (*store.Queue, error) {
		return s.opt.Store.Queue(r.Context(), slot, store.QueuePage{Offset: (page - 1) * queuePage, Limit: queuePage, Now: now})
	}
	q, err := load()
	if err == nil && len(q.Items) == 0 && page > 1 { // past the end (the queue shrank): its last page
		page = max(1, (q.Open+queuePage-1)/queuePage)
		q, err = load()
	}
	if err != nil {
		return nil, err
	}
	var overdue, fresh, answered, held []itemView
	for _, it := range q.Items {
		v := s.view(r, it)
		switch {
		case v.State == tanggap.Overdue:
			overdue = append(overdue, v)
		case it.Answered():
			answered = append(answered, v)
		default:
			fresh = append(fresh, v)
		}
	}
	for _, it := range q.Held {
		held = append(held, s.view(r, it))
	}
	buckets, err := s.aging(r, slot)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Overdue": overdue, "Fresh": fresh, "Answered": answered, "Held": held, "NHeld": q.NHeld,
		"Now": now.In(s.loc).Format("15:04:05"), "Buckets": buckets, "Page": page}
	if page == 1 && q.NHeld > int64(len(held)) {
		data["HeldNote"] = fmt.Sprintf(s.t(r, "held_note"), len(held), q.NHeld)
	}
	// A queue longer than a page says which part the page shows, and how
	// many are overdue in all: the headings count only this page's items.
	if pages := (q.Open + queuePage - 1) / queuePage; pages > 1 {
		from := (page-1)*queuePage + 1
		data["Pager"] = fmt.Sprintf(s.t(r, "queue_pager"), from, from+int64(len(q.Items))-1, q.Open, q.Overdue)
		if page > 1 {
			data["Prev"] = page - 1
		}
		if page < pages {
			data["Next"] = page + 1
		}
	}
	return data, nil
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request, p *Principal) error {
	opd, slot, err := s.queueSlot(r, p)
	if err != nil {
		return err
	}
	data, err := s.queueData(r, slot)
	if err != nil {
		return err
	}
	data["OPD"], data["OPDName"] = opd, s.opdName(r, slot)
	data["Msg"] = r.URL.Query().Get("ok")
	data["OPDs"] = s.opt.Config.OPDs
	data["ArchiveReasons"] = workflow.ArchiveReasons
	return s.render(w, r, "queue", data)
}

// aging counts the slot's open items by age (the buckets of the queue page).
func (s *Server) aging(r *http.Request, slot string) ([]bucket, error) {
	now := s.opt.Now()
	bounds := []time.Time{now.Add(-3 * time.Hour), now.Add(-24 * time.Hour)}
	hk := s.t(r, "working_days")
	labels := []string{"< 3 " + s.t(r, "hours"), "3-24 " + s.t(r, "hours"), "1-3 " + hk, "3-5 " + hk, "> 5 " + hk}
	if s.opt.Clocks != nil {
		bounds = append(bounds, s.opt.Clocks.AgoHK(now, 3), s.opt.Clocks.AgoHK(now, 5))
	}
	counts, never, err := s.opt.Store.Aging(r.Context(), slot, bounds)
	if err != nil {
		return nil, err
	}
	var maxN int64 = 1
	for _, n := range append(counts, never) {
		maxN = max(maxN, n)
	}
	var out []bucket
	for i, n := range counts {
		if i < len(labels) {
			out = append(out, bucket{Label: labels[i], N: n, Width: n * 240 / maxN, Class: []string{"f-on_track", "f-on_track", "f-due_soon", "f-due_soon", "f-overdue"}[i]})
		}
	}
	return append(out, bucket{Label: s.t(r, "never_answered"), N: never, Width: never * 240 / maxN, Class: "f-neutral"}), nil
}

// queueRows is the part of the queue page the browser refreshes every
// few seconds (htmx), so new items appear without a reload.
func (s *Server) queueRows(w http.ResponseWriter, r *http.Request, p *Principal) error {
	opd, slot, err := s.queueSlot(r, p)
	if err != nil {
		return err
	}
	data, err := s.queueData(r, slot)
	if err != nil {
		return err
	}
	data["OPD"] = opd
	return s.renderPart(w, r, "queue", "sections", data)
}

// A search reads at most searchScan of the newest items a person may see
// (store.Search) and lists at most searchLimit matches; searchMaxLen
// bounds what may be typed.
const (
	searchScan   = 5000
	searchLimit  = 100
	searchMaxLen = 200
)

// search finds items by their words within what the person may see: an
// OPD's people search their OPD, the PPID Utama every item. A search may
// be limited to days received (dari, sampai: YYYY-MM-DD, both included)
// and continues from where the previous page stopped (lanjut), so the
// whole history can be searched a bounded read at a time.
func (s *Server) search(w http.ResponseWriter, r *http.Request, p *Principal) error {
	uq := r.URL.Query()
	q := strings.TrimSpace(uq.Get("q"))
	if utf8.RuneCountInString(q) > searchMaxLen {
		return tanggap.Errorf(tanggap.EINVALID, "search for at most %d characters", searchMaxLen)
	}
	sq := store.SearchQuery{Terms: strings.Fields(q), Scan: searchScan, Limit: searchLimit}
	from, until := strings.TrimSpace(uq.Get("dari")), strings.TrimSpace(uq.Get("sampai"))
	var err error
	if sq.From, err = s.searchDay(from, "dari"); err != nil {
		return err
	}
	if sq.Until, err = s.searchDay(until, "sampai"); err != nil {
		return err
	}
	if !sq.Until.IsZero() {
		sq.Until = sq.Until.AddDate(0, 0, 1) // the whole last day
	}
	if !sq.From.IsZero() && !sq.Until.IsZero() && !sq.From.Before(sq.Until) {
		return tanggap.Errorf(tanggap.EINVALID, "dari must not be after sampai")
	}
	if c := uq.Get("lanjut"); c != "" {
		if sq.After, err = store.ParseSearchCursor(c); err != nil {
			return err
		}
	}
	data := map[string]any{"Q": q, "From": from, "Until": until}
	if len(sq.Terms) == 0 {
		return s.render(w, r, "search", data)
	}
	if !p.CitywideAccess() {
		sq.OPD = p.OPD
	}
	if !p.CanSeeOPD(sq.OPD) {
		return tanggap.Errorf(tanggap.EFORBIDDEN, "not your OPD")
	}
	res, err := s.opt.Store.Search(r.Context(), sq)
	if err != nil {
		return err
	}
	views := make([]itemView, len(res.Items))
	for i, it := range res.Items {
		views[i] = s.view(r, it)
	}
	var note string
	switch {
	case res.Complete && sq.After.IsZero() && from == "" && until == "":
		note = fmt.Sprintf(s.t(r, "search_all"), len(views), res.Scanned)
	case res.Complete && sq.After.IsZero():
		note = fmt.Sprintf(s.t(r, "search_all_period"), len(views), res.Scanned)
	case res.Scanned == 0:
		note = s.t(r, "search_none_left")
	default:
		note = fmt.Sprintf(s.t(r, "search_read"), len(views), res.Scanned, s.localTime(res.Oldest), s.localTime(res.Newest))
		if res.Complete {
			note += " " + s.t(r, "search_none_older")
		}
	}
	if !res.Complete {
		more := url.Values{"q": {q}, "lanjut": {res.Next.String()}}
		if from != "" {
			more.Set("dari", from)
		}
		if until != "" {
			more.Set("sampai", until)
		}
		data["More"] = "/cari?" + more.Encode()
		if len(views) == searchLimit {
			note += " " + fmt.Sprintf(s.t(r, "search_capped"), searchLimit)
		} else {
			note += " " + s.t(r, "search_older_left")
		}
	}
	data["Items"], data["Note"] = views, note
	return s.render(w, r, "search", data)
}

// searchDay is the start of a day the search form names (YYYY-MM-DD) in
// the city's time zone, zero for none.
func (s *Server) searchDay(v, field string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, s.loc)
	if err != nil {
		return time.Time{}, tanggap.Errorf(tanggap.EINVALID, "%s must be YYYY-MM-DD, got %q", field, v)
	}
	return d, nil
}

// loadItem reads an item and checks the principal may see it. An item of
// another OPD is reported as not found, so its existence does not leak.
func (s *Server) loadItem(r *http.Request, p *Principal) (*tanggap.Item, error) {
	id := r.PathValue("id")
	it, err := s.opt.Store.Item(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !p.CanSeeOPD(it.OPD) {
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "item %s not found", id)
	}
	return it, nil
}

func (s *Server) item(w http.ResponseWriter, r *http.Request, p *Principal) error {
	it, err := s.loadItem(r, p)
	if err != nil {
		return err
	}
	h, err := s.opt.Store.History(r.Context(), it.ID)
	if err != nil {
		return err
	}
	type hist struct {
		tanggap.Event
		When string
	}
	hv := make([]hist, len(h))
	for i, e := range h {
		hv[i] = hist{Event: e, When: s.localTime(e.At)}
	}
	allowed := map[string]bool{"claim": true, "release": true, "answer": it.Status.Open()}
	for _, a := range []struct {
		name string
		to   tanggap.Status
	}{{"assign", tanggap.StatusAssigned}, {"resolve", tanggap.StatusResolved}, {"archive", tanggap.StatusNotComplaint},
		{"out_of_scope", tanggap.StatusOutOfScope}, {"duplicate", tanggap.StatusDuplicate}, {"hold", tanggap.StatusOnHold},
		{"reopen", tanggap.StatusReopened}, {"close", tanggap.StatusClosed}} {
		allowed[a.name] = tanggap.CanTransition(it.Status, a.to)
	}
	allowed["resume"] = it.Status == tanggap.StatusOnHold
	extendDays, extendBasis := s.opt.Workflow.Extension(it)
	allowed["extend"] = it.Status.Open() && !it.Deadlines.Resolution.IsZero() && !it.Extended && extendDays > 0
	rel, err := s.related(r, p, it)
	if err != nil {
		return err
	}
	members, note, err := s.clusterMembers(r, p, it)
	if err != nil {
		return err
	}
	var similar []similarItem
	if allowed["duplicate"] {
		if similar, err = s.similar(r, p, it); err != nil {
			return err
		}
	}
	return s.render(w, r, "item", map[string]any{"It": s.view(r, *it), "History": hv, "OPDs": s.opt.Config.OPDs,
		"Msg": r.URL.Query().Get("ok"), "Can": allowed, "ArchiveReasons": workflow.ArchiveReasons, "Related": rel,
		"Members": members, "MembersNote": note, "Slot": cmp.Or(it.OPD, store.Unrouted), "Similar": similar,
		"ExtendDays": extendDays, "ExtendBasis": extendBasis})
}

// The item page offers up to similarLimit items as possible duplicates,
// from similarFloor: below the clustering's threshold
// (classify.DuplicateThreshold, 0.35), so that a person sees what triage
// did not join. In the classifier's own measurements different issues of
// one road scored up to 0.31, unrelated texts near 0.
const (
	similarFloor = 0.15
	similarLimit = 5
)

type similarItem struct {
	itemView
	Similarity float64
}

// similar lists the items of the same place, reported within three days
// of it, whose texts are similar to an item's by the clustering's
// fingerprints, most similar first: reports triage did not join to its
// cluster (below the threshold, or routed elsewhere when they came), from
// the slots of its OPD, its classifier's and the unrouted one, and for the
// PPID Utama from every OPD's. The page marks the item a duplicate of one
// with a button, instead of an id typed in. Items the person may not see
// (the 404 rule, and the workflow refuses another OPD's as an original),
// those of its own cluster and duplicates themselves are left out.
// Nothing is offered for an item that is not in the index: without a
// place or a fingerprint, or older than the index keeps.
func (s *Server) similar(r *http.Request, p *Principal, it *tanggap.Item) ([]similarItem, error) {
	place := cmp.Or(it.Kelurahan, it.Kecamatan)
	if place == "" {
		return nil, nil
	}
	slots := []string{it.OPD, it.ClassifierOPD, store.Unrouted}
	if p.CitywideAccess() {
		// Whoever sees every OPD may mark a duplicate of any OPD's report
		// (one routed elsewhere when it came is in that OPD's slot).
		for _, o := range s.opt.Config.OPDs {
			slots = append(slots, o.Code)
		}
	}
	cands, err := s.opt.Store.Nearby(r.Context(), slots, place, it.CreatedAt)
	if err != nil {
		return nil, err
	}
	self := slices.IndexFunc(cands, func(c store.NearCandidate) bool { return c.ID == it.ID })
	if self < 0 {
		return nil, nil
	}
	mine, cluster := cands[self].Fingerprint, cmp.Or(it.ClusterID, it.ID)
	type scored struct {
		id  string
		sim float64
		at  time.Time
	}
	var found []scored
	for _, c := range cands {
		if c.ID == it.ID || c.ClusterID == cluster || c.ID == it.DuplicateOf {
			continue
		}
		if sim := classify.SimilarityHex(mine, c.Fingerprint); sim >= similarFloor {
			found = append(found, scored{c.ID, sim, c.Created})
		}
	}
	// Most similar first, the older on a tie; items are read a few at a
	// time until enough may be shown.
	slices.SortFunc(found, func(a, b scored) int { return cmp.Or(cmp.Compare(b.sim, a.sim), a.at.Compare(b.at)) })
	var out []similarItem
	for len(found) > 0 && len(out) < similarLimit {
		chunk := found[:min(len(found), 4*similarLimit)]
		found = found[len(chunk):]
		ids := make([]string, len(chunk))
		sims := make(map[string]float64, len(chunk))
		for i, c := range chunk {
			ids[i], sims[c.id] = c.id, c.sim
		}
		its, err := s.opt.Store.ItemsByID(r.Context(), ids)
		if err != nil {
			return nil, err
		}
		for _, o := range its {
			if p.CanSeeOPD(o.OPD) && o.Status != tanggap.StatusDuplicate && o.ClusterID != cluster && len(out) < similarLimit {
				out = append(out, similarItem{s.view(r, o), sims[o.ID]})
			}
		}
	}
	return out, nil
}

// clusterLimit is how many of a cluster's later reports its first
// report's page lists.
const clusterLimit = 200

// clusterMembers lists, on the page of a near-duplicate cluster's first
// report, the reports that joined it, oldest first: each citizen still
// gets an answer, and whoever answers the first sees who else asked.
// Reports in another OPD are counted, not shown (404 rule); the note says
// what the list leaves out.
func (s *Server) clusterMembers(r *http.Request, p *Principal, it *tanggap.Item) ([]itemView, string, error) {
	if it.ClusterID != it.ID || it.Reporters < 2 {
		return nil, "", nil
	}
	ids, err := s.opt.Store.ClusterMembers(r.Context(), it.ID, clusterLimit)
	if err != nil {
		return nil, "", err
	}
	its, err := s.opt.Store.ItemsByID(r.Context(), ids)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(its, func(a, b tanggap.Item) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var views []itemView
	hidden := 0
	for _, o := range its {
		if p.CanSeeOPD(o.OPD) {
			views = append(views, s.view(r, o))
		} else {
			hidden++
		}
	}
	var notes []string
	if hidden > 0 {
		notes = append(notes, fmt.Sprintf(s.t(r, "members_elsewhere"), hidden))
	}
	if len(ids) == clusterLimit {
		notes = append(notes, fmt.Sprintf(s.t(r, "members_capped"), clusterLimit))
	} else if missing := it.Reporters - 1 - len(ids); missing > 0 {
		// Reporters counts citizens: more reports than that may be
		// missing (a citizen's second report counts no one).
		notes = append(notes, fmt.Sprintf(s.t(r, "members_unlisted"), missing))
	}
	return views, strings.Join(notes, " "), nil
}

// relatedItem is an item the item page shows beside the one it is about.
type relatedItem struct {
	Label string
	View  itemView
	Open  bool // the person may open its page
}

// related finds what an item cannot be understood without: the post it
// replies to (a comment's "kapan diperbaiki?" means nothing alone), the
// first report of its near-duplicate cluster and the item it duplicates.
// Another OPD's item is left out, so its existence does not leak, except
// an official account's own post, which is public: its text shows, its
// page does not open.
func (s *Server) related(r *http.Request, p *Principal, it *tanggap.Item) ([]relatedItem, error) {
	type want struct{ label, id string }
	var ws []want
	if it.ParentID != "" {
		ws = append(ws, want{"replies_to", tanggap.ItemID(it.Platform, it.ParentID)})
	}
	if it.ClusterID != "" && it.ClusterID != it.ID {
		ws = append(ws, want{"cluster_first", it.ClusterID})
	}
	if it.DuplicateOf != "" {
		ws = append(ws, want{"duplicate_of_item", it.DuplicateOf})
	}
	if len(ws) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.id
	}
	its, err := s.opt.Store.ItemsByID(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]tanggap.Item, len(its))
	for _, o := range its {
		byID[o.ID] = o
	}
	var out []relatedItem
	for _, w := range ws {
		o, ok := byID[w.id]
		if !ok {
			continue
		}
		open := p.CanSeeOPD(o.OPD)
		if open || o.Kind == tanggap.KindOfficial {
			out = append(out, relatedItem{Label: s.t(r, w.label), View: s.view(r, o), Open: open})
		}
	}
	return out, nil
}

func (s *Server) actor(p *Principal) workflow.Actor {
	return workflow.Actor{Login: p.Login, OPD: p.OPD, Citywide: p.CitywideAccess()}
}

func formRequest(r *http.Request, action string) workflow.Request {
	return workflow.Request{Action: action, Reason: r.PostFormValue("reason"), OPD: r.PostFormValue("opd"),
		URL: strings.TrimSpace(r.PostFormValue("url")), Evidence: r.PostFormValue("evidence"), ReasonCode: r.PostFormValue("reason_code"),
		Target: r.PostFormValue("target"), TrackingID: r.PostFormValue("tracking_id"), Of: strings.TrimSpace(r.PostFormValue("of"))}
}

func (s *Server) action(w http.ResponseWriter, r *http.Request, p *Principal) error {
	action := r.PathValue("action")
	if _, err := s.loadItem(r, p); err != nil {
		return err
	}
	if action == "assign" && !p.CitywideAccess() && p.Role != RoleOPDAdmin && p.Role != RolePPIDPelaksana {
		return tanggap.Errorf(tanggap.EFORBIDDEN, "this role cannot route items")
	}
	req := formRequest(r, action)
	req.ID = r.PathValue("id")
	v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return tanggap.Errorf(tanggap.EINVALID, "missing item version")
	}
	req.Version = v
	it, err := s.opt.Workflow.Do(r.Context(), s.actor(p), req)
	if err != nil {
		return err
	}
	if p.CanSeeOPD(it.OPD) {
		http.Redirect(w, r, "/item/"+url.PathEscape(it.ID)+"?ok="+url.QueryEscape(action), http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/antrian/"+url.PathEscape(p.OPD)+"?ok="+url.QueryEscape(action), http.StatusSeeOther)
	}
	return nil
}

// bulk applies one action to the selected items of a queue.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, p *Principal) error {
	opd, _, err := s.queueSlot(r, p)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return tanggap.Errorf(tanggap.EINVALID, "bad form")
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		return tanggap.Errorf(tanggap.EINVALID, "select at least one item")
	}
	action := r.PostFormValue("action")
	switch action {
	case "claim", "assign", "archive", "hold", "close", "resolve", "out_of_scope":
	default:
		return tanggap.Errorf(tanggap.EINVALID, "action %q cannot be done in bulk", action)
	}
	res, err := s.opt.Workflow.Bulk(r.Context(), s.actor(p), ids, formRequest(r, action))
	if err != nil {
		return err
	}
	var failed []string
	code, one := "", true // the failures' code, and whether they share it
	for _, b := range res {
		if b.Err == nil {
			continue
		}
		failed = append(failed, fmt.Sprintf("%s (%s)", b.ID, errorText(b.Err, lang(r))))
		c := tanggap.ErrorCode(b.Err)
		one = one && httpStatus(b.Err) < 500 && (code == "" || c == code)
		code = c
	}
	if len(failed) > 0 {
		// The page's title names the cause when every item failed for the
		// same one the person can act on (a missing reason: "Isian belum
		// benar"); otherwise, and for a failure of ours (whose page would
		// hide this list), it is a conflict.
		if !one {
			code = tanggap.ECONFLICT
		}
		return tanggap.Errorf(code, "%d of %d done; not done: %s", len(res)-len(failed), len(res), strings.Join(failed, "; "))
	}
	// A cluster's bulk form (on its first report's page) comes back there.
	to := "/antrian/" + url.PathEscape(opd)
	if back := r.PostFormValue("back"); strings.HasPrefix(back, "/item/") && localPath(back) {
		to = back
	}
	http.Redirect(w, r, to+"?ok=bulk", http.StatusSeeOther)
	return nil
}

// apiItem is the JSON shape of an item.
type apiItem struct {
	ID              string                `json:"id"`
	Platform        tanggap.Platform      `json:"platform"`
	URL             string                `json:"url"`
	Author          string                `json:"author"`
	Text            string                `json:"text"`
	Kind            tanggap.Kind          `json:"kind"`
	OPD             string                `json:"opd"`
	Confidence      float64               `json:"confidence"`
	Status          tanggap.Status        `json:"status"`
	Urgent          bool                  `json:"urgent"`
	Kecamatan       string                `json:"kecamatan,omitempty"`
	Kelurahan       string                `json:"kelurahan,omitempty"`
	ClusterID       string                `json:"cluster_id,omitempty"`
	Reporters       int                   `json:"reporters,omitempty"`
	DuplicateOf     string                `json:"duplicate_of,omitempty"`
	CreatedAt       time.Time             `json:"created_at"`
	CapturedAt      time.Time             `json:"captured_at"`
	FirstResponseAt *time.Time            `json:"first_response_at"`
	AnsweredBy      string                `json:"answered_by,omitempty"`
	Deadline        *time.Time            `json:"deadline"`
	Clock           tanggap.Clock         `json:"clock,omitempty"`
	DeadlineState   tanggap.DeadlineState `json:"deadline_state"`
	Version         int64                 `json:"version"`
}

func (s *Server) toAPI(it tanggap.Item) apiItem {
	a := apiItem{ID: it.ID, Platform: it.Platform, URL: it.URL, Author: it.Author, Text: it.Text, Kind: it.Kind,
		OPD: it.OPD, Confidence: it.Confidence, Status: it.Status, Urgent: it.Urgent, Kecamatan: it.Kecamatan,
		Kelurahan: it.Kelurahan, ClusterID: it.ClusterID, Reporters: it.Reporters, DuplicateOf: it.DuplicateOf, CreatedAt: it.CreatedAt, CapturedAt: it.CapturedAt, FirstResponseAt: it.FirstResponseAt,
		AnsweredBy: it.FirstResponseOPD, Version: it.Version, Clock: it.Clock, DeadlineState: it.StateAt(s.opt.Now())}
	if !it.Deadline.IsZero() {
		d := it.Deadline
		a.Deadline = &d
	}
	return a
}

// apiScan is how many items of the caller's scope one API listing reads
// at most: a status few items have ends a page early, with a next link,
// rather than reading the whole scope in one request.
const apiScan = 5000

func (s *Server) apiItems(w http.ResponseWriter, r *http.Request, p *Principal) error {
	q := r.URL.Query()
	iq := store.ItemQuery{OPD: q.Get("opd"), Status: tanggap.Status(q.Get("status")), Scan: apiScan}
	if iq.Status != "" && !iq.Status.Valid() {
		return tanggap.Errorf(tanggap.EINVALID, "unknown status %q", iq.Status)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 1 || n > 1000 {
			return tanggap.Errorf(tanggap.EINVALID, "limit must be 1..1000")
		}
		iq.Limit = n
	}
	if b := q.Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339, b)
		if err != nil {
			return tanggap.Errorf(tanggap.EINVALID, "before must be RFC 3339")
		}
		iq.Before = t
	}
	if c := q.Get("cursor"); c != "" {
		if !iq.Before.IsZero() {
			return tanggap.Errorf(tanggap.EINVALID, "give cursor or before, not both")
		}
		var err error
		if iq.After, err = store.ParseItemCursor(c); err != nil {
			return err
		}
	}
	if !p.CitywideAccess() {
		if iq.OPD != "" && iq.OPD != p.OPD {
			return tanggap.Errorf(tanggap.EFORBIDDEN, "not your OPD")
		}
		iq.OPD = p.OPD
	} else if iq.OPD != "" {
		if _, ok := s.opt.Config.OPD(iq.OPD); !ok {
			return tanggap.Errorf(tanggap.EINVALID, "unknown OPD %q", iq.OPD)
		}
	}
	res, err := s.opt.Store.Items(r.Context(), iq)
	if err != nil {
		return err
	}
	out := make([]apiItem, 0, len(res.Items))
	for _, it := range res.Items {
		if p.CanSeeOPD(it.OPD) {
			out = append(out, s.toAPI(it))
		}
	}
	if !res.Complete {
		// The next page continues after the last item read (returned or
		// not), whatever time it shares with others; the body stays a bare
		// list, as before.
		next := url.Values{"cursor": {res.Next.String()}}
		for _, k := range []string{"opd", "status", "limit"} {
			if v := q.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		w.Header().Set("Link", "</api/v1/items?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiItem(w http.ResponseWriter, r *http.Request, p *Principal) error {
	it, err := s.loadItem(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toAPI(*it))
	return nil
}

// correctionsCSV exports people's routings as the training CSV of
// `tanggap train` (columns text,opd,kind, plus context columns the trainer
// ignores). Citizen text: the PPID Utama only. Its cells are guarded as
// the report exports' are (report.SafeCell), since the file is opened in
// spreadsheets too; the apostrophe it may add is no part of a word the
// trainer reads.
func (s *Server) correctionsCSV(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if !p.CitywideAccess() {
		return tanggap.Errorf(tanggap.EFORBIDDEN, "the PPID Utama exports corrections")
	}
	cs, err := s.opt.Store.Corrections(r.Context(), 0)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="koreksi-tanggap.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"text", "opd", "kind", "classifier_opd", "from_opd", "item_id", "at"})
	for _, c := range cs {
		cw.Write([]string{report.SafeCell(c.Text), c.OPD, string(c.Kind), c.ClassifierOPD, c.FromOPD, report.SafeCell(c.ItemID), c.At.Format(time.RFC3339)})
	}
	cw.Flush()
	return cw.Error()
}
