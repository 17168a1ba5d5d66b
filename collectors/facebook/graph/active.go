package graph

import (
	"context"
	"net/url"
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
// since, newest first, reading at most pages pages; it publishes each with
// post and returns them. The records of state older than since are
// dropped; a recorded object missing from a complete listing is looked up
// and reported deleted when it does not exist; new objects get a record.
func List[T Object](ctx context.Context, r *Run, path string, q url.Values, pages int, since time.Time, state *[]Active, post func(T) tanggap.Post) ([]T, error) {
	var active []T
	complete := false
	for page := 0; page < pages; page++ {
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
// first those changed since their last scan (newest first), then those
// not scanned for rescan (least recently scanned first), at most maxScans.
func PickScans[T Object](r *Run, active []T, state []Active, changed func(T, *Active) bool, rescan time.Duration) []T {
	var ch, due []T
	for _, o := range active {
		st := State(state, o.ObjectID())
		switch {
		case st == nil:
		case changed(o, st):
			ch = append(ch, o)
		case r.Now.Sub(time.Unix(st.ScannedAt, 0)) >= rescan:
			due = append(due, o)
		}
	}
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].Created().After(ch[j].Created()) })
	sort.SliceStable(due, func(i, j int) bool {
		return State(state, due[i].ObjectID()).ScannedAt < State(state, due[j].ObjectID()).ScannedAt
	})
	out := append(ch, due...)
	if len(out) > maxScans {
		out = out[:maxScans]
	}
	return out
}

// Pages reads the list at path (q holds fields and limit) page by page,
// at most maxCommentPages pages, and hands each page's items to each. It
// reports whether it read to the end, which it did not when that many
// pages were read or the usage stop came first. An error from Get
// (IsNotFound too) or from each ends it.
func Pages[T any](ctx context.Context, r *Run, path string, q url.Values, each func([]T) error) (bool, error) {
	for page := 0; page < maxCommentPages; page++ {
		var lp Page[T]
		if err := r.Call.Get(ctx, path, q, &lp); err != nil {
			return false, err
		}
		if err := each(lp.Data); err != nil {
			return false, err
		}
		after := lp.Paging.After()
		if after == "" {
			return true, nil
		}
		if r.Call.Stop != nil {
			return false, nil
		}
		q.Set("after", after)
	}
	return false, nil
}
