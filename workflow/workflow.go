// Package workflow is the follow-up process of an item: its clocks in
// working days and every action a person (or the system) takes on it,
// checked against the status model and applied to the store under
// compare-and-set. Each action becomes an audit event.
package workflow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/calendar"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// Store is the part of the store the workflow needs.
type Store interface {
	Item(ctx context.Context, id string) (*tanggap.Item, error)
	Apply(ctx context.Context, c store.Change) (*tanggap.Item, error)
	RoutedByClassifier(ctx context.Context, id string) (bool, error)
}

// Clocks computes an item's deadlines from the city's clock policy and
// working-day calendar.
type Clocks struct {
	cfg *config.Config
	cal *calendar.Calendar
}

// NewClocks builds the clocks of a city. holidays is a holiday CSV path to
// use instead of the embedded table ("" for the embedded one).
func NewClocks(cfg *config.Config, holidays string) (*Clocks, error) {
	opt := calendar.Options{
		CutiBersamaIsNonworking: cfg.Clocks.CutiBersamaNonworking(),
		OfficeStart:             cfg.Clocks.OfficeHours.Start,
		OfficeEnd:               cfg.Clocks.OfficeHours.End,
	}
	var (
		cal *calendar.Calendar
		err error
	)
	if holidays == "" {
		cal, err = calendar.Default(opt)
	} else {
		cal, err = calendar.LoadFile(holidays, opt)
	}
	if err != nil {
		return nil, err
	}
	return &Clocks{cfg: cfg, cal: cal}, nil
}

// Calendar is the working-day calendar in use.
func (c *Clocks) Calendar() *calendar.Calendar { return c.cal }

// hk returns the deadline t0 + n working days and the instant it turns
// due_soon (at most one working day left).
func (c *Clocks) hk(t0 time.Time, n int) (due, soon time.Time) {
	due = c.cal.AddWorkingDays(t0, n)
	if n <= 1 {
		return due, c.cal.ClockStart(t0)
	}
	return due, c.cal.AddWorkingDays(t0, n-1)
}

// Deadlines computes every clock of a post received at t0. The first
// response is in clock hours (shorter when urgent); routing, follow-up and
// resolution are working days from T0 (information requests: UU 14/2008).
func (c *Clocks) Deadlines(t0 time.Time, kind tanggap.Kind, opd string, urgent bool) tanggap.Deadlines {
	var d tanggap.Deadlines
	fr := c.cfg.FirstResponseFor(opd, urgent)
	d.FirstResponse = t0.Add(fr)
	d.FirstResponseSoon = d.FirstResponse.Add(-min(c.cfg.Clocks.DueSoon.D(), fr/4))
	d.Routing, d.RoutingSoon = c.hk(t0, c.cfg.Clocks.RoutingHK)
	d.Followup, d.FollowupSoon = c.hk(t0, c.cfg.Clocks.FollowupHK)
	n := c.cfg.Clocks.ResolutionHK
	if kind == tanggap.KindInfo {
		n = c.cfg.Clocks.InfoRequestHK
	}
	d.Resolution, d.ResolutionSoon = c.hk(t0, n)
	return d
}

// Service carries out people's actions on items.
type Service struct {
	st     Store
	cfg    *config.Config
	clocks *Clocks
	now    func() time.Time
	lease  time.Duration
}

// ClaimLease is how long a claim keeps colleagues off an item.
const ClaimLease = 30 * time.Minute

// New returns the workflow service. now nil means time.Now.
func New(st Store, cfg *config.Config, clocks *Clocks, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, cfg: cfg, clocks: clocks, now: now, lease: ClaimLease}
}

// Actor is who acts, and for which OPD ("" for the city-wide role).
type Actor struct {
	Login    string
	OPD      string
	Citywide bool
}

// may reports whether the actor may act on the item at all.
func (a Actor) may(it *tanggap.Item) bool { return a.Citywide || (a.OPD != "" && it.OPD == a.OPD) }

// Request is one action on one item.
type Request struct {
	ID      string
	Version int64 // the version the person saw; -1 skips the check (bulk)
	Action  string
	Reason  string // free text, required for assign, archive, hold, reopen
	OPD     string // assign
	URL     string // answer: the link to the public reply
	// Evidence for resolve: a link, a photo link, or a letter reference.
	Evidence   string
	ReasonCode string // archive: praise, answered_elsewhere, spam, noise, not_actionable
	Target     string // out of scope: the agency (PLN, BPJS, ...)
	TrackingID string // out of scope: its tracking id (e.g. SP4N-LAPOR!)
	Of         string // duplicate: the id of the item it repeats
}

// Actions lists the actions a person can take, in menu order.
var Actions = []string{"claim", "release", "assign", "answer", "resolve", "archive", "out_of_scope", "duplicate", "hold", "resume", "extend", "reopen", "close"}

// ArchiveReasons are the reason codes for archiving.
var ArchiveReasons = []string{"praise", "answered_elsewhere", "spam", "noise", "not_actionable"}

func invalid(format string, args ...any) error {
	return tanggap.Errorf(tanggap.EINVALID, format, args...)
}

func msStr(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// check validates what a request says whatever its item (the fields its
// action needs) and trims them: Do checks each request, Bulk checks its
// request once before it touches any item.
func (s *Service) check(r *Request) error {
	r.Reason = strings.TrimSpace(r.Reason)
	if len(r.Reason) > 1000 {
		return invalid("reason is longer than 1000 characters")
	}
	switch r.Action {
	case "claim", "release", "resume", "close":
	case "assign":
		if _, ok := s.cfg.OPD(r.OPD); !ok {
			return invalid("unknown OPD %q", r.OPD)
		}
		if r.Reason == "" {
			return invalid("a reason is required to assign or reassign")
		}
	case "answer":
		if !tanggap.SafeURL(r.URL) {
			return invalid("the link to the public reply must be an http(s) URL")
		}
	case "resolve":
		r.Evidence = strings.TrimSpace(r.Evidence)
		if r.Evidence == "" || len(r.Evidence) > 2000 {
			return invalid("evidence (a link, a photo or a letter reference) is required to resolve")
		}
	case "archive":
		if !contains(ArchiveReasons, r.ReasonCode) {
			return invalid("archive needs a reason code: %s", strings.Join(ArchiveReasons, ", "))
		}
	case "out_of_scope":
		r.Target, r.TrackingID = strings.TrimSpace(r.Target), strings.TrimSpace(r.TrackingID)
		if r.Target == "" || len(r.Target) > 200 || len(r.TrackingID) > 200 {
			return invalid("out of scope needs the target agency (and its tracking id when there is one)")
		}
	case "duplicate":
		if r.Of == "" {
			return invalid("duplicate needs the id of another item")
		}
	case "hold":
		if r.Reason == "" {
			return invalid("a reason is required to put an item on hold (what the citizen must send)")
		}
	case "reopen":
		if r.Reason == "" {
			return invalid("a reason is required to reopen")
		}
	case "extend":
		if r.Reason == "" {
			return invalid("a reason is required to extend the deadline (what the requester or citizen was told)")
		}
	default:
		return invalid("unknown action %q", r.Action)
	}
	return nil
}

// Do carries out one action. Errors: ENOTFOUND (missing or not the actor's
// OPD), EINVALID (bad input or a transition the status model forbids),
// ECONFLICT (someone changed the item since the person saw it, or holds a
// claim on it).
func (s *Service) Do(ctx context.Context, a Actor, r Request) (*tanggap.Item, error) {
	it, err := s.st.Item(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	if !a.may(it) {
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "item %s not found", r.ID)
	}
	if r.Version >= 0 && it.Version != r.Version {
		return nil, tanggap.Errorf(tanggap.ECONFLICT, "item %s was changed by someone else (now version %d): reload and try again", it.ID, it.Version)
	}
	now := s.now()
	if it.ClaimedBy != "" && it.ClaimedBy != a.Login && now.Before(it.ClaimUntil) && r.Action != "claim" && !a.Citywide {
		return nil, tanggap.Errorf(tanggap.ECONFLICT, "item %s is being handled by %s until %s", it.ID, it.ClaimedBy, it.ClaimUntil.In(s.cfg.Location()).Format("15:04"))
	}
	if err := s.check(&r); err != nil {
		return nil, err
	}
	ch := store.Change{ID: it.ID, Version: it.Version, Actor: a.Login, Action: r.Action, Reason: r.Reason,
		Set: map[string]string{}, Data: map[string]string{}}
	to := it.Status
	switch r.Action {
	case "claim":
		if it.ClaimedBy != "" && it.ClaimedBy != a.Login && now.Before(it.ClaimUntil) {
			return nil, tanggap.Errorf(tanggap.ECONFLICT, "item %s is already claimed by %s until %s", it.ID, it.ClaimedBy, it.ClaimUntil.In(s.cfg.Location()).Format("15:04"))
		}
		ch.Set["claimed_by"], ch.Set["claim_until_ms"] = a.Login, msStr(now.Add(s.lease))
	case "release":
		ch.Set["claimed_by"], ch.Set["claim_until_ms"] = "", ""
	case "assign":
		if r.OPD == it.OPD {
			return nil, invalid("item %s is already with %s", it.ID, r.OPD)
		}
		to = tanggap.StatusAssigned
		if it.Answered() && (it.Status == tanggap.StatusInProgress || it.Status == tanggap.StatusOnHold) {
			to = tanggap.StatusInProgress // answered publicly already: the hop keeps that (as resume would)
		}
		ch.Set["opd"], ch.Set["queued"] = r.OPD, "1"
		if it.Deadlines.Resolution.IsZero() {
			// Triage starts no clock for what it archives or finds out of
			// scope: a person routing such a post starts them, from T0.
			setDeadlines(ch.Set, s.clocks.Deadlines(it.CreatedAt, it.Kind, r.OPD, it.Urgent))
		}
		ch.Set["claimed_by"], ch.Set["claim_until_ms"] = "", ""
		if it.AssignedAt == nil {
			ch.Set["assigned_ms"] = msStr(now)
		}
		if it.OPD != "" {
			ch.Set["hops"] = strconv.Itoa(it.Hops + 1)
		}
		ch.Data["from_opd"], ch.Data["classifier_opd"] = it.OPD, it.ClassifierOPD
		if a.Login != "system" {
			// A person overrules the classifier once per item: by the first
			// move of an item it routed on its own (no hop yet, so the item
			// is still where the classifier put it). Moving it back and away
			// again, or moving an item a person routed, overrules nothing.
			// The change below is compare-and-set on the version read here,
			// so two people moving it at once cannot both count.
			overrule := false
			if store.MayOverrule(it.ClassifierOPD, it.OPD, it.Hops) {
				if overrule, err = s.st.RoutedByClassifier(ctx, it.ID); err != nil {
					return nil, err
				}
			}
			// A person's routing is a labelled example for the classifier,
			// kept with the change. Its event carries the verdict, so that
			// a rebuild counts the overrules this judged, not its own.
			ch.Data["overrule"] = "0"
			if overrule {
				ch.Data["overrule"] = "1"
			}
			ch.Correction = &store.Correction{ItemID: it.ID, Text: it.Text, Kind: it.Kind,
				ClassifierOPD: it.ClassifierOPD, FromOPD: it.OPD, OPD: r.OPD, Actor: a.Login, Overrule: overrule}
		}
		if it.Status == tanggap.StatusOnHold {
			s.resume(it, ch.Set, now)
		}
	case "answer":
		if it.Status == tanggap.StatusNew || it.Status == tanggap.StatusAssigned || it.Status == tanggap.StatusReopened {
			to = tanggap.StatusInProgress
		}
		if !it.Answered() { // the first public response stays what it was (the history keeps this link)
			ch.Set["fr_ms"], ch.Set["fr_opd"], ch.Set["fr_url"] = msStr(now), it.OPD, r.URL
		}
		ch.Set["officer"] = a.Login
		ch.Data["reply_url"] = r.URL
	case "resolve":
		to = tanggap.StatusResolved
		ch.Set["resolved_ms"], ch.Set["evidence"], ch.Set["officer"] = msStr(now), r.Evidence, a.Login
		ch.Set["autoclose_ms"] = msStr(s.clocks.cal.AddWorkingDays(now, s.cfg.Clocks.AutocloseHK))
		if !it.Answered() && tanggap.SafeURL(r.Evidence) {
			ch.Set["fr_ms"], ch.Set["fr_opd"], ch.Set["fr_url"] = msStr(now), it.OPD, r.Evidence
		}
		ch.Data["evidence"] = r.Evidence
	case "archive":
		to = tanggap.StatusNotComplaint
		ch.Set["archive_reason"] = r.ReasonCode
		ch.Data["reason_code"] = r.ReasonCode
	case "out_of_scope":
		to = tanggap.StatusOutOfScope
		ch.Set["out_target"], ch.Set["external_ref"] = r.Target, r.TrackingID
		ch.Data["target"], ch.Data["tracking_id"] = r.Target, r.TrackingID
	case "duplicate":
		if r.Of == it.ID {
			return nil, invalid("duplicate needs the id of another item")
		}
		orig, err := s.st.Item(ctx, r.Of)
		if tanggap.ErrorCode(err) == tanggap.ENOTFOUND || err == nil && !a.Citywide && orig.OPD != a.OPD {
			return nil, invalid("duplicate of %s: item not found", r.Of)
		}
		if err != nil {
			return nil, err // Redis, not the form
		}
		to = tanggap.StatusDuplicate
		ch.Set["duplicate_of"] = orig.ID
		ch.Data["of"] = orig.ID
	case "hold":
		to = tanggap.StatusOnHold
		ch.Set["held_ms"] = msStr(now)
		ch.Data["prev_status"] = string(it.Status)
	case "resume":
		if it.Status != tanggap.StatusOnHold {
			return nil, invalid("item %s is not on hold", it.ID)
		}
		to = tanggap.StatusAssigned
		if it.Answered() {
			to = tanggap.StatusInProgress
		}
		s.resume(it, ch.Set, now)
	case "reopen":
		to = tanggap.StatusReopened
		// The follow-up and resolution clocks restart from the reopening.
		d := s.clocks.Deadlines(now, it.Kind, it.OPD, it.Urgent)
		ch.Set["res_due_ms"], ch.Set["res_soon_ms"] = msStr(d.Resolution), msStr(d.ResolutionSoon)
		ch.Set["follow_due_ms"], ch.Set["follow_soon_ms"] = msStr(d.Followup), msStr(d.FollowupSoon)
		ch.Set["queued"], ch.Set["resolved_ms"], ch.Set["closed_ms"] = "1", "", ""
	case "close":
		to = tanggap.StatusClosed
		ch.Set["closed_ms"] = msStr(now)
	case "extend":
		n, basis := s.Extension(it)
		switch {
		case !it.Status.Open() || it.Deadlines.Resolution.IsZero():
			return nil, invalid("only an open item's resolution deadline can be extended")
		case it.Extended:
			return nil, invalid("item %s was extended once already", it.ID)
		case n <= 0:
			return nil, invalid("the city's clocks give no extension for this kind of item")
		}
		// Working days added to the deadline as it stands (holds included).
		d := it.Deadlines
		ch.Set["res_due_ms"] = msStr(s.clocks.cal.ExtendDays(d.Resolution, n))
		ch.Set["res_soon_ms"] = msStr(s.clocks.cal.ExtendDays(d.ResolutionSoon, n))
		ch.Set["extended"] = "1"
		ch.Data["extension_hk"], ch.Data["basis"] = strconv.Itoa(n), basis
	}
	// Every action but these four moves the item to a status, the one it
	// is in included: hold, reopen, resolve or close again would restart
	// what the first one started (the pause, the clocks, the windows).
	if r.Action != "claim" && r.Action != "release" && r.Action != "answer" && r.Action != "extend" && !tanggap.CanTransition(it.Status, to) {
		return nil, invalid("an item in status %s cannot move to %s", it.Status, to)
	}
	ch.Set["status"] = string(to)
	if to != tanggap.StatusOnHold && it.Status == tanggap.StatusOnHold && ch.Set["held_ms"] == "" {
		s.resume(it, ch.Set, now)
	}
	// A correction that failed after the change comes with the changed
	// item: reported, not undone.
	return s.st.Apply(ctx, ch)
}

// CitizenReplied resumes an item on hold because its citizen wrote again
// in its thread (triage saw the post p): the item was waiting for exactly
// that, and nobody may notice the answer on the platform. The system
// resumes it, its clocks run again and the history names the post. It
// reports false, and changes nothing, when the item is no longer on hold
// or p is not newer than the hold (a redelivered or late-collected post).
func (s *Service) CitizenReplied(ctx context.Context, id string, p tanggap.Post) (bool, error) {
	it, err := s.st.Item(ctx, id)
	if err != nil {
		return false, err
	}
	if it.Status != tanggap.StatusOnHold || it.HeldSince == nil || !p.CreatedAt.After(*it.HeldSince) {
		return false, nil
	}
	reason := "warga membalas: " + tanggap.ItemID(p.Platform, p.ID)
	if tanggap.SafeURL(p.URL) && len(p.URL) <= 500 { // a reason holds 1,000 bytes
		reason += " " + p.URL
	}
	_, err = s.Do(ctx, systemActor, Request{ID: id, Version: it.Version, Action: "resume", Reason: reason})
	if err != nil {
		return false, err
	}
	return true, nil
}

// Extension is how many working days the extend action adds to an item's
// resolution deadline, once, and on what basis: an information request by
// the extension UU 14/2008 Pasal 22 allows (with written notice to the
// requester), any other item by the longer deadline of a case that needs
// a field check (KemenPAN-RB), from the city's clock policy.
func (s *Service) Extension(it *tanggap.Item) (int, string) {
	cl := s.cfg.Clocks
	if it.Kind == tanggap.KindInfo {
		return cl.InfoRequestExtensionHK, "info_request"
	}
	return cl.ResolutionFieldCheckHK - cl.ResolutionHK, "field_check"
}

// setDeadlines writes every clock of d into an item's fields.
func setDeadlines(set map[string]string, d tanggap.Deadlines) {
	set["fr_due_ms"], set["fr_soon_ms"] = msStr(d.FirstResponse), msStr(d.FirstResponseSoon)
	set["route_due_ms"], set["route_soon_ms"] = msStr(d.Routing), msStr(d.RoutingSoon)
	set["follow_due_ms"], set["follow_soon_ms"] = msStr(d.Followup), msStr(d.FollowupSoon)
	set["res_due_ms"], set["res_soon_ms"] = msStr(d.Resolution), msStr(d.ResolutionSoon)
}

// resume shifts every clock by the time spent on hold: the first response
// (clock hours) by all of it, the others (working days) by its working time.
func (s *Service) resume(it *tanggap.Item, set map[string]string, now time.Time) {
	if it.HeldSince == nil {
		return
	}
	from := *it.HeldSince
	shift := func(field string, t time.Time) {
		if !t.IsZero() {
			set[field] = msStr(s.clocks.cal.Extend(t, from, now))
		}
	}
	hours := func(field string, t time.Time) {
		if !t.IsZero() && now.After(from) {
			set[field] = msStr(t.Add(now.Sub(from)))
		}
	}
	d := it.Deadlines
	hours("fr_due_ms", d.FirstResponse)
	hours("fr_soon_ms", d.FirstResponseSoon)
	shift("route_due_ms", d.Routing)
	shift("route_soon_ms", d.RoutingSoon)
	shift("follow_due_ms", d.Followup)
	shift("follow_soon_ms", d.FollowupSoon)
	shift("res_due_ms", d.Resolution)
	shift("res_soon_ms", d.ResolutionSoon)
	set["held_ms"] = ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// BulkResult is the outcome of one item of a bulk action.
type BulkResult struct {
	ID  string
	Err error
}

// Bulk applies one action to many items; each succeeds or fails on its own
// (a conflict on one never blocks the rest). A request that no item could
// take (too many items, a missing reason) fails whole, before any item
// changes.
func (s *Service) Bulk(ctx context.Context, a Actor, ids []string, r Request) ([]BulkResult, error) {
	if len(ids) > 500 {
		return nil, invalid("at most 500 items at once")
	}
	if err := s.check(&r); err != nil {
		return nil, err
	}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		req := r
		req.ID, req.Version = id, -1
		_, err := s.Do(ctx, a, req)
		out = append(out, BulkResult{ID: id, Err: err})
	}
	return out, nil
}

// AutoCloser lists resolved items whose citizen window has passed.
type AutoCloser interface {
	DueAutoclose(ctx context.Context, now time.Time, limit int64) ([]string, error)
}

// AutoClose closes resolved items whose window (autoclose_hk) has passed,
// as the system. It returns how many it closed.
func (s *Service) AutoClose(ctx context.Context, src AutoCloser) (int, error) {
	ids, err := src.DueAutoclose(ctx, s.now(), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		closed, err := s.closeBySystem(ctx, id, "jendela warga berakhir")
		if err != nil {
			return n, err
		}
		if closed {
			n++
		}
	}
	return n, nil
}

// systemActor is who the automatic changes are made as.
var systemActor = Actor{Login: "system", Citywide: true}

// closeBySystem closes an item as the system. An item someone changed
// meanwhile (a conflict) or that can no longer close is left as it is:
// false, no error.
func (s *Service) closeBySystem(ctx context.Context, id, reason string) (bool, error) {
	_, err := s.Do(ctx, systemActor, Request{ID: id, Version: -1, Action: "close", Reason: reason})
	if c := tanggap.ErrorCode(err); err != nil && (c == tanggap.ECONFLICT || c == tanggap.EINVALID) {
		return false, nil
	}
	return err == nil, err
}

// HeldSource lists an OPD slot's items on hold (store.Store.HeldItems).
type HeldSource interface {
	HeldItems(ctx context.Context, opd string, limit int64) ([]tanggap.Item, error)
}

// HoldExpiry is when an item on hold since t closes for want of its
// citizen's answer: t plus the city's hold_expire_hk working days; zero
// when the city closes none.
func (c *Clocks) HoldExpiry(since time.Time) time.Time {
	if n := c.cfg.Clocks.HoldExpireHK; n > 0 {
		return c.cal.AddWorkingDays(since, n)
	}
	return time.Time{}
}

// heldScan is how many items on hold of one OPD slot ExpireHeld reads a
// round: the first received. Holds beyond them (more than 5,000 on hold in
// one OPD) wait until earlier ones leave the hold.
const heldScan = 5000

// ExpireHeld closes, as the system, every item whose hold has outlasted
// the city's hold_expire_hk working days (nothing when that is 0). The
// history names the reason; a person can still reopen it.
func (s *Service) ExpireHeld(ctx context.Context, src HeldSource) (int, error) {
	n := s.cfg.Clocks.HoldExpireHK
	if n == 0 {
		return 0, nil
	}
	now := s.now()
	reason := fmt.Sprintf("warga tidak melengkapi dalam %d HK", n)
	closed := 0
	slots := []string{""}
	for _, o := range s.cfg.OPDs {
		slots = append(slots, o.Code)
	}
	for _, slot := range slots {
		its, err := src.HeldItems(ctx, slot, heldScan)
		if err != nil {
			return closed, err
		}
		for _, it := range its {
			if it.Status != tanggap.StatusOnHold || it.HeldSince == nil || now.Before(s.clocks.HoldExpiry(*it.HeldSince)) {
				continue
			}
			ok, err := s.closeBySystem(ctx, it.ID, reason)
			if err != nil {
				return closed, err
			}
			if ok {
				closed++
			}
		}
	}
	return closed, nil
}

// AgoHK returns the latest instant t such that at least n working days of
// office time lie between t and now (for aging buckets).
func (c *Clocks) AgoHK(now time.Time, n float64) time.Time {
	lo, hi := now.Add(-time.Duration(n*7+30)*24*time.Hour), now
	for hi.Sub(lo) > time.Minute {
		mid := lo.Add(hi.Sub(lo) / 2)
		if c.cal.WorkingDaysBetween(mid, now) >= n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
