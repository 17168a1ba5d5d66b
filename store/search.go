package store

import (
	"context"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

// Search finds items by their words, for the person who must find the
// complaint a citizen mentions on the phone ("I reported the flood in
// Jatiasih on Instagram last week"). Redis has no text index here, so it
// reads the scope's newest packed rows, at most Scan of them, and says how
// far back it got: a bounded read, not a promise to have looked
// everywhere.

// SearchQuery selects what Search reads and matches.
type SearchQuery struct {
	OPD   string   // the OPD the items are in now; "" means every item
	Terms []string // every term must occur (case-insensitively) in one of the item's searched fields
	Scan  int64    // newest items read at most (default 5,000)
	Limit int64    // matches returned at most (default 100)
}

// SearchResult is what Search found and how much it read.
type SearchResult struct {
	Items    []tanggap.Item // newest first
	Scanned  int64          // items read
	Complete bool           // every item of the scope was read
	Oldest   time.Time      // platform time of the oldest item read
}

// searchChunk is how many rows one round trip reads.
const searchChunk = 500

// Search returns the newest items of the scope whose text, author, place,
// id or link contain every term.
func (s *Store) Search(ctx context.Context, q SearchQuery) (*SearchResult, error) {
	if q.Scan <= 0 {
		q.Scan = 5000
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	terms := make([]string, 0, len(q.Terms))
	for _, t := range q.Terms {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			terms = append(terms, t)
		}
	}
	key := s.k.items()
	if q.OPD != "" {
		key = s.k.opd(q.OPD)
	}
	res := &SearchResult{Items: []tanggap.Item{}}
	for pos := int64(0); pos < q.Scan; {
		n := min(searchChunk, q.Scan-pos)
		ids, err := s.rdb.ZRevRange(ctx, key, pos, pos+n-1).Result()
		if err != nil {
			return nil, unavailable(err, "search")
		}
		pos += int64(len(ids))
		its, err := s.packed(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i := range its {
			it := &its[i]
			res.Scanned++
			res.Oldest = it.CreatedAt // the sets are ordered by platform time, newest first
			// opd:<code> holds every item that has been in the OPD (see
			// Items): one routed elsewhere since is not the OPD's.
			if (q.OPD == "" || it.OPD == q.OPD) && matches(it, terms) {
				res.Items = append(res.Items, *it)
				if int64(len(res.Items)) == q.Limit {
					return res, nil
				}
			}
		}
		if int64(len(ids)) < n {
			res.Complete = true
			break
		}
	}
	return res, nil
}

// matches reports whether every term occurs in one of the item's searched
// fields.
func matches(it *tanggap.Item, terms []string) bool {
	if len(terms) == 0 {
		return false
	}
	hay := strings.ToLower(strings.Join([]string{it.Text, it.Author, it.AuthorName, it.Kelurahan, it.Kecamatan,
		it.ID, it.URL, it.Account}, "\n"))
	for _, t := range terms {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}
