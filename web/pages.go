package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// opdRow is one line of the home page.
type opdRow struct {
	Code, Name, Abbrev        string
	Overdue, DueSoon, OnTrack int64
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if !p.CitywideAccess() {
		http.Redirect(w, r, "/antrian/"+url.PathEscape(p.OPD), http.StatusSeeOther)
		return nil
	}
	codes := make([]string, len(s.opt.Config.OPDs))
	for i, o := range s.opt.Config.OPDs {
		codes[i] = o.Code
	}
	counts, err := s.opt.Store.OpenCounts(r.Context(), codes, s.opt.Now(), s.opt.Config.Clocks.DueSoon.D())
	if err != nil {
		return err
	}
	rows := []opdRow{}
	un := counts[store.Unrouted]
	rows = append(rows, opdRow{Code: store.Unrouted, Name: s.t(r, "unrouted"), Abbrev: "-",
		Overdue: un[tanggap.Overdue], DueSoon: un[tanggap.DueSoon], OnTrack: un[tanggap.OnTrack]})
	for _, o := range s.opt.Config.OPDs {
		c := counts[o.Code]
		rows = append(rows, opdRow{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev,
			Overdue: c[tanggap.Overdue], DueSoon: c[tanggap.DueSoon], OnTrack: c[tanggap.OnTrack]})
	}
	sort.SliceStable(rows[1:], func(i, j int) bool {
		a, b := rows[1+i], rows[1+j]
		if a.Overdue != b.Overdue {
			return a.Overdue > b.Overdue
		}
		return a.Overdue+a.DueSoon+a.OnTrack > b.Overdue+b.DueSoon+b.OnTrack
	})
	return s.render(w, r, "home", map[string]any{"Rows": rows})
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
}

func (s *Server) view(r *http.Request, it tanggap.Item) itemView {
	now := s.opt.Now()
	v := itemView{Item: it, State: it.StateAt(now, s.opt.Config.Clocks.DueSoon.D())}
	v.Age = s.duration(r, now.Sub(it.CreatedAt))
	if !it.Deadline.IsZero() {
		if d := it.Deadline.Sub(now); d >= 0 {
			v.Left = s.t(r, "left") + " " + s.duration(r, d)
		} else {
			v.Left = s.t(r, "late") + " " + s.duration(r, -d)
		}
		v.Deadline = it.Deadline.In(s.loc).Format("02/01/2006 15:04")
	}
	v.Created = it.CreatedAt.In(s.loc).Format("02/01/2006 15:04")
	if it.FirstResponseAt != nil {
		v.Answered = it.FirstResponseAt.In(s.loc).Format("02/01/2006 15:04")
	}
	v.OPDName = s.opdName(r, it.OPD)
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

func (s *Server) queue(w http.ResponseWriter, r *http.Request, p *Principal) error {
	opd := r.PathValue("opd")
	slot := opd
	if opd == store.Unrouted {
		slot = ""
	} else if _, ok := s.opt.Config.OPD(opd); !ok {
		return tanggap.Errorf(tanggap.ENOTFOUND, "unknown OPD %q", opd)
	}
	if !p.CanSeeOPD(slot) {
		return tanggap.Errorf(tanggap.EFORBIDDEN, "not your OPD")
	}
	q, err := s.opt.Store.Queue(r.Context(), slot, 200)
	if err != nil {
		return err
	}
	var fresh, overdue, answered []itemView
	for _, it := range q.Unanswered {
		v := s.view(r, it)
		if v.State == tanggap.Overdue {
			overdue = append(overdue, v)
		} else {
			fresh = append(fresh, v)
		}
	}
	for _, it := range q.Answered {
		answered = append(answered, s.view(r, it))
	}
	return s.render(w, r, "queue", map[string]any{
		"OPD": opd, "OPDName": s.opdName(r, slot), "Overdue": overdue, "Fresh": fresh, "Answered": answered,
		"Total": q.Total, "Answers": q.Answers,
	})
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
		hv[i] = hist{Event: e, When: e.At.In(s.loc).Format("02/01/2006 15:04")}
	}
	return s.render(w, r, "item", map[string]any{"It": s.view(r, *it), "History": hv, "OPDs": s.opt.Config.OPDs,
		"Msg": r.URL.Query().Get("ok")})
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, p *Principal) error {
	it, err := s.loadItem(r, p)
	if err != nil {
		return err
	}
	opd := r.PostFormValue("opd")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, ok := s.opt.Config.OPD(opd); !ok {
		return tanggap.Errorf(tanggap.EINVALID, "unknown OPD %q", opd)
	}
	if reason == "" || len(reason) > 500 {
		return tanggap.Errorf(tanggap.EINVALID, "a reason (at most 500 characters) is required to reassign")
	}
	v, err := formVersion(r)
	if err != nil {
		return err
	}
	if _, err := s.opt.Store.Assign(r.Context(), it.ID, opd, p.Login, reason, v); err != nil {
		return err
	}
	s.afterAction(w, r, p, it.ID, "assigned")
	return nil
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, p *Principal) error {
	it, err := s.loadItem(r, p)
	if err != nil {
		return err
	}
	link := strings.TrimSpace(r.PostFormValue("url"))
	u, perr := url.Parse(link)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(link) > 2000 {
		return tanggap.Errorf(tanggap.EINVALID, "the link to the public reply must be an http(s) URL")
	}
	v, err := formVersion(r)
	if err != nil {
		return err
	}
	if _, err := s.opt.Store.MarkAnswered(r.Context(), it.ID, link, p.Login, s.opt.Now(), v); err != nil {
		return err
	}
	s.afterAction(w, r, p, it.ID, "answered")
	return nil
}

// afterAction sends the person back to the item, or to their queue when the
// item left their OPD.
func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, p *Principal, id, msg string) {
	it, err := s.opt.Store.Item(r.Context(), id)
	if err == nil && p.CanSeeOPD(it.OPD) {
		http.Redirect(w, r, "/item/"+url.PathEscape(id)+"?ok="+msg, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/antrian/"+url.PathEscape(p.OPD)+"?ok="+msg, http.StatusSeeOther)
}

func formVersion(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return 0, tanggap.Errorf(tanggap.EINVALID, "missing item version")
	}
	return v, nil
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
	CreatedAt       time.Time             `json:"created_at"`
	CapturedAt      time.Time             `json:"captured_at"`
	FirstResponseAt *time.Time            `json:"first_response_at"`
	AnsweredBy      string                `json:"answered_by,omitempty"`
	Deadline        *time.Time            `json:"deadline"`
	DeadlineState   tanggap.DeadlineState `json:"deadline_state"`
	Version         int64                 `json:"version"`
}

func (s *Server) toAPI(it tanggap.Item) apiItem {
	a := apiItem{ID: it.ID, Platform: it.Platform, URL: it.URL, Author: it.Author, Text: it.Text, Kind: it.Kind,
		OPD: it.OPD, Confidence: it.Confidence, Status: it.Status, Urgent: it.Urgent, Kecamatan: it.Kecamatan,
		Kelurahan: it.Kelurahan, CreatedAt: it.CreatedAt, CapturedAt: it.CapturedAt, FirstResponseAt: it.FirstResponseAt,
		AnsweredBy: it.FirstResponseOPD, Version: it.Version}
	if !it.Deadline.IsZero() {
		d := it.Deadline
		a.Deadline = &d
		a.DeadlineState = it.StateAt(s.opt.Now(), s.opt.Config.Clocks.DueSoon.D())
	}
	return a
}

func (s *Server) apiItems(w http.ResponseWriter, r *http.Request, p *Principal) error {
	q := r.URL.Query()
	iq := store.ItemQuery{OPD: q.Get("opd"), Status: tanggap.Status(q.Get("status"))}
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
	items, err := s.opt.Store.Items(r.Context(), iq)
	if err != nil {
		return err
	}
	out := make([]apiItem, 0, len(items))
	for _, it := range items {
		if p.CanSeeOPD(it.OPD) || p.CitywideAccess() {
			out = append(out, s.toAPI(it))
		}
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
