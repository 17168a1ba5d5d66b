package graph

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/tanggap/tanggap"
)

// Page is one page of a Graph list.
type Page[T any] struct {
	Data   []T     `json:"data"`
	Paging *Paging `json:"paging"`
}

// Object is a listed post or media, the root of a comment thread.
type Object interface {
	ObjectID() string
	Created() time.Time
}

// Active is the cursor's record of an object whose comments are polled.
type Active struct {
	ID        string `json:"id"`
	At        int64  `json:"t"`
	Count     int    `json:"n"`           // comment count at the last complete scan; -1 never scanned
	Updated   int64  `json:"u,omitempty"` // updated_time at that scan, where the platform has one
	ScannedAt int64  `json:"s,omitempty"`

	// A scan that one poll could not finish (see Scan) goes on in the
	// next from here. Began is when it began, 0 when none is under way;
	// ScanCount and ScanUpdated are the count and updated_time it began
	// with, which become Count and Updated when it ends (so that comments
	// added meanwhile leave the object changed); After is the cursor of
	// the comment page to read next ("" the first); ReplyOf and
	// ReplyAfter, when set, are the comment on that page whose replies it
	// stopped inside and their cursor.
	Began       int64  `json:"b,omitempty"`
	ScanCount   int    `json:"bn,omitempty"`
	ScanUpdated int64  `json:"bu,omitempty"`
	After       string `json:"a,omitempty"`
	ReplyOf     string `json:"ro,omitempty"`
	ReplyAfter  string `json:"ra,omitempty"`
}

// State is the record of id in active, or nil.
func State(active []Active, id string) *Active {
	for i := range active {
		if active[i].ID == id {
			return &active[i]
		}
	}
	return nil
}

// List lists the objects at path (q holds fields and limit) created since
// since, newest first, page by page until since, reading at most pages
// pages (more make the poll Behind: the older objects of the window are
// neither listed nor scanned); it publishes each with post and returns
// them. The records of state older than since are dropped; a recorded
// object missing from a complete listing is looked up and reported
// deleted when it does not exist; new objects get a record.
func List[T Object](ctx context.Context, r *Run, path string, q url.Values, pages int, since time.Time, state *[]Active, post func(T) tanggap.Post) ([]T, error) {
	var active []T
	complete := false
	page := 0
	for ; page < pages; page++ {
		var lp Page[T]
		if err := r.Call.Get(ctx, path, q, &lp); err != nil {
			return nil, err
		}
		old := false
		for _, o := range lp.Data {
			if o.ObjectID() == "" {
				continue
			}
			if o.Created().Before(since) {
				old = true
				continue
			}
			active = append(active, o)
			r.Observe(post(o), false)
		}
		after := lp.Paging.After()
		if old || after == "" || r.Call.Stop != nil {
			complete = old || after == ""
			break
		}
		q.Set("after", after)
	}
	if page == pages {
		r.Behind = true
	}
	listed := map[string]bool{}
	for _, o := range active {
		listed[o.ObjectID()] = true
	}
	var keep []Active
	for _, st := range *state {
		if st.At < since.Unix() {
			continue
		}
		if !listed[st.ID] && complete {
			var node struct {
				ID string `json:"id"`
			}
			err := r.Call.Get(ctx, st.ID, url.Values{"fields": {"id"}}, &node)
			if IsNotFound(err) {
				r.Gone(st.ID)
				r.Progress = true
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		keep = append(keep, st)
	}
	*state = keep
	for _, o := range active {
		if State(*state, o.ObjectID()) == nil {
			*state = append(*state, Active{ID: o.ObjectID(), At: o.Created().Unix(), Count: -1})
		}
	}
	r.Progress = true
	return active, nil
}

// PickScans chooses the objects whose comments are listed in this poll:
// first those changed since their last scan or with a scan under way
// (newest first), then those not scanned for rescan (least recently
// scanned first), at most maxScans. Changed objects left for a later
// poll make the poll Behind.
func PickScans[T Object](r *Run, active []T, state []Active, changed func(T, *Active) bool, rescan time.Duration) []T {
	var ch, due []T
	for _, o := range active {
		st := State(state, o.ObjectID())
		switch {
		case st == nil:
		case st.Began != 0 || changed(o, st):
			ch = append(ch, o)
		case r.Now.Sub(time.Unix(st.ScannedAt, 0)) >= rescan:
			due = append(due, o)
		}
	}
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].Created().After(ch[j].Created()) })
	sort.SliceStable(due, func(i, j int) bool {
		return State(state, due[i].ObjectID()).ScannedAt < State(state, due[j].ObjectID()).ScannedAt
	})
	if len(ch) > maxScans {
		r.Behind = true
	}
	out := append(ch, due...)
	if len(out) > maxScans {
		out = out[:maxScans]
	}
	return out
}

// Scan is the comment listing of one object in one poll. It makes at most
// maxCommentPages calls in all, reply pages included, so that one long
// thread cannot take a poll's budget; what it leaves unread waits in the
// object's state record (its Graph cursor), the poll is Behind, and the
// next poll's Scan goes on from there instead of reading the first pages
// again.
type Scan struct {
	r  *Run
	st *Active

	left    int   // calls this poll may still make
	read    int   // pages this poll read
	began   int64 // when the scan began, 0 until a page of it is read
	count   int
	updated int64
	resumed bool // it began in an earlier poll

	after               string // the comment page to read next
	replyOf, replyAfter string // the reply listing it stopped inside
	skip                string // on the page read again: reply listings before this comment are done
	paused              bool   // stopped inside a reply listing
}

// BeginScan starts the scan of the object recorded in st, whose comment
// count and updated_time (0 where the platform has none) are now count
// and updated, or goes on with the scan an earlier poll left unfinished.
func BeginScan(r *Run, st *Active, count int, updated int64) *Scan {
	s := &Scan{r: r, st: st, left: maxCommentPages, count: count, updated: updated}
	if st.Began != 0 {
		s.resumed, s.began, s.count, s.updated = true, st.Began, st.ScanCount, st.ScanUpdated
		s.after, s.replyOf, s.replyAfter, s.skip = st.After, st.ReplyOf, st.ReplyAfter, st.ReplyOf
	}
	return s
}

// Whole reports whether this poll listed every comment of the object: a
// scan that began in an earlier poll did not, so the comments it did not
// list now are not suspects (see Suspect).
func (s *Scan) Whole() bool { return !s.resumed }

// ScanPages reads the comment list at path (q holds fields and limit) page
// by page from where the scan stands while its pages last, and hands each
// page's items to each; id gives an item's id. It reports whether it read
// to the end, and then records the scan complete (count, updated_time,
// scan time). Otherwise, on an error from Get or each too, it keeps the
// position in the record for the next poll; a scan ended by the usage
// stop returns it. A cursor kept by an earlier poll that Graph refuses (it
// invalidates the cursor of a deleted item) starts the scan over. When
// the object does not exist, the error says so (IsNotFound) and the scan
// is dropped.
func ScanPages[T any](ctx context.Context, s *Scan, path string, q url.Values, id func(T) string, each func([]T) error) (bool, error) {
	for {
		if s.left == 0 || s.r.Call.Stop != nil {
			s.pause()
			return false, s.r.Call.Stop
		}
		q.Del("after")
		if s.after != "" {
			q.Set("after", s.after)
		}
		var lp Page[T]
		err := s.r.Call.Get(ctx, path, q, &lp)
		s.left--
		switch {
		case err != nil && s.resumed && s.read == 0 && s.after != "" && tanggap.ErrorCode(err) == tanggap.EINVALID:
			// The kept cursor was refused: over again from the top, which
			// this poll then lists whole.
			s.after, s.replyOf, s.replyAfter, s.skip, s.resumed = "", "", "", "", false
			continue
		case IsNotFound(err):
			*s.st = clearScan(*s.st)
			return false, err
		case err != nil:
			s.pause()
			return false, err
		}
		s.read++
		if s.began == 0 {
			s.began = s.r.Now.Unix()
		}
		if s.skip != "" && !slices.ContainsFunc(lp.Data, func(t T) bool { return id(t) == s.skip }) {
			// The comment it stopped inside is gone: this page's reply
			// listings are read again.
			s.skip, s.replyOf, s.replyAfter = "", "", ""
		}
		err = each(lp.Data)
		s.skip = ""
		s.r.Progress = true
		if err != nil || s.paused {
			s.pause()
			if err == nil {
				err = s.r.Call.Stop
			}
			return false, err
		}
		s.replyOf, s.replyAfter = "", ""
		next := lp.Paging.After()
		if next == "" {
			st := clearScan(*s.st)
			st.Count, st.Updated, st.ScannedAt = s.count, s.updated, s.r.Now.Unix()
			*s.st = st
			return true, nil
		}
		s.after = next
	}
}

// ScanReplies reads the replies of the comment parent at path (q holds
// fields and limit) after their first page, which the comment's nested
// replies field holds (after is its cursor, "" when there is no more),
// while the scan's pages last, and hands each page's items to each. It
// reports false when the scan stopped inside them (its pages ran out, the
// usage stop came, or an error, which it returns): the caller returns
// from ScanPages' each at once, and the next poll reads that comment page
// again, skips the reply listings this poll finished and goes on with
// parent's from where this one stopped.
func ScanReplies[T any](ctx context.Context, s *Scan, path string, q url.Values, parent, after string, each func([]T) error) (bool, error) {
	if s.paused {
		return false, nil
	}
	first, resumed := after, false
	if s.skip != "" {
		if parent != s.skip {
			return true, nil // read by an earlier poll
		}
		s.skip = ""
		if s.replyAfter != "" {
			after, resumed = s.replyAfter, true
		}
	}
	for after != "" {
		if s.left == 0 || s.r.Call.Stop != nil {
			s.pauseIn(parent, after)
			return false, nil
		}
		q.Set("after", after)
		var lp Page[T]
		err := s.r.Call.Get(ctx, path, q, &lp)
		s.left--
		switch {
		case IsNotFound(err):
			return true, nil // the parent went away; its own entry is checked
		case err != nil && resumed && tanggap.ErrorCode(err) == tanggap.EINVALID:
			after, resumed = first, false // a refused cursor: these replies over again
			continue
		case err != nil:
			s.pauseIn(parent, after)
			return false, err
		}
		resumed = false
		s.read++
		if err := each(lp.Data); err != nil {
			s.pauseIn(parent, after)
			return false, err
		}
		after = lp.Paging.After()
	}
	return true, nil
}

func (s *Scan) pauseIn(parent, after string) {
	s.paused, s.replyOf, s.replyAfter = true, parent, after
}

// pause keeps the position of an unfinished scan in its record.
func (s *Scan) pause() {
	if s.began == 0 {
		return // nothing read: the next poll begins it
	}
	st := s.st
	st.Began, st.ScanCount, st.ScanUpdated = s.began, s.count, s.updated
	st.After, st.ReplyOf, st.ReplyAfter = s.after, s.replyOf, s.replyAfter
	s.r.Behind = true
}

func clearScan(st Active) Active {
	st.Began, st.ScanCount, st.ScanUpdated, st.After, st.ReplyOf, st.ReplyAfter = 0, 0, 0, "", "", ""
	return st
}
