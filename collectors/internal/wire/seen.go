package wire

import (
	"encoding/base64"
	"hash/fnv"
	"sort"
)

// Seen is the bounded memory of a cursor (Meta, YouTube): the ids seen recently with
// a hash of their text (to notice edits), their time and thread (to report
// a deletion), and a floor below which an unknown id is old, not new.
type Seen struct {
	Watermark int64   `json:"wm,omitempty"`    // newest creation time seen, unix seconds
	Floor     int64   `json:"floor,omitempty"` // entries at or before this were forgotten
	Entries   []Entry `json:"seen,omitempty"`

	index map[string]int
}

// Entry is one remembered post.
type Entry struct {
	ID     string `json:"i"`
	Hash   string `json:"h,omitempty"`
	At     int64  `json:"t"`           // created, unix seconds
	Thread string `json:"r,omitempty"` // thread root id
	Parent string `json:"p,omitempty"`
	Kind   string `json:"k,omitempty"` // tanggap.Interaction
	Gone   bool   `json:"d,omitempty"` // reported deleted or hidden
}

func (s *Seen) reindex() {
	s.index = make(map[string]int, len(s.Entries))
	for i, e := range s.Entries {
		s.index[e.ID] = i
	}
}

// Get returns the entry for id.
func (s *Seen) Get(id string) (Entry, bool) {
	if s.index == nil {
		s.reindex()
	}
	i, ok := s.index[id]
	if !ok {
		return Entry{}, false
	}
	return s.Entries[i], true
}

// Put adds or replaces the entry for e.ID.
func (s *Seen) Put(e Entry) {
	if s.index == nil {
		s.reindex()
	}
	if e.At > s.Watermark {
		s.Watermark = e.At
	}
	if i, ok := s.index[e.ID]; ok {
		s.Entries[i] = e
		return
	}
	s.index[e.ID] = len(s.Entries)
	s.Entries = append(s.Entries, e)
}

// InThread lists the entries of one thread.
func (s *Seen) InThread(thread string) []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if e.Thread == thread {
			out = append(out, e)
		}
	}
	return out
}

// Prune forgets entries created before olderThan and, beyond max entries,
// the oldest ones; the floor rises to the newest forgotten time so that a
// forgotten id coming back is not taken for a new post.
func (s *Seen) Prune(olderThan int64, max int) {
	sort.SliceStable(s.Entries, func(i, j int) bool { return s.Entries[i].At > s.Entries[j].At })
	keep := s.Entries[:0]
	for i, e := range s.Entries {
		if e.At < olderThan || (max > 0 && i >= max) {
			if e.At > s.Floor {
				s.Floor = e.At
			}
			continue
		}
		keep = append(keep, e)
	}
	s.Entries = keep
	s.reindex()
}

// Hash is a short fingerprint of a text, to notice edits.
func Hash(text string) string {
	h := fnv.New64a()
	h.Write([]byte(text))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
