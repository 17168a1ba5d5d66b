package store

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// Search finds items by their words, for the person who must find the
// complaint a citizen mentions on the phone ("I reported the flood in
// Jatiasih on Instagram last week"). Redis has no text index here, so it
// reads the scope's packed rows newest first, within a period of platform
// time when one is given, at most Scan of them a call, and says where it
// stopped: a bounded read that the next call continues from its cursor,
// so every item can be reached without one request reading them all.

// SearchQuery selects what Search reads and matches.
type SearchQuery struct {
	OPD   string       // the OPD the items are in now; "" means every item
	Terms []string     // every term must occur (case-insensitively) in one of the item's searched fields
	From  time.Time    // platform time at or after (zero: no lower bound)
	Until time.Time    // platform time before (zero: no upper bound)
	After SearchCursor // continue where an earlier search stopped (zero: from the newest)
	Scan  int64        // items read at most (default 5,000)
	Limit int64        // matches returned at most (default 100)
}

// SearchCursor is where a search stopped: the platform time of the last
// item it read (ms) and how many items of that millisecond it had read.
type SearchCursor struct {
	At   int64
	Seen int64
}

// IsZero reports whether the cursor is unset (a search from the newest).
func (c SearchCursor) IsZero() bool { return c == SearchCursor{} }

// String is the cursor as a query parameter: "<ms>.<seen>".
func (c SearchCursor) String() string {
	return strconv.FormatInt(c.At, 10) + "." + strconv.FormatInt(c.Seen, 10)
}

// ParseSearchCursor reads a cursor written by SearchCursor.String.
func ParseSearchCursor(s string) (SearchCursor, error) {
	a, b, ok := strings.Cut(s, ".")
	at, err1 := strconv.ParseInt(a, 10, 64)
	seen, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || at <= 0 || seen <= 0 {
		return SearchCursor{}, tanggap.Errorf(tanggap.EINVALID, "malformed search cursor %q", s)
	}
	return SearchCursor{At: at, Seen: seen}, nil
}

// SearchResult is what Search found and how much it read.
type SearchResult struct {
	Items    []tanggap.Item // newest first
	Scanned  int64          // items read
	Complete bool           // every item of the scope and period after the cursor was read
	Newest   time.Time      // platform time of the newest item read
	Oldest   time.Time      // platform time of the oldest item read
	Next     SearchCursor   // where to continue when not Complete
}

// searchChunk is how many rows one round trip reads.
const searchChunk = 500

// Search returns the items of the scope and period whose text, author,
// place, id or link contain every term, newest first.
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
	// The sets are ordered by platform time (ms); the cursor is the last
	// row read, so a row the next read skips is one this read counted.
	lo := "-inf"
	if !q.From.IsZero() {
		lo = ms(q.From)
	}
	cur := q.After
	if cur.IsZero() {
		cur = SearchCursor{At: math.MaxInt64}
	}
	if u := q.Until.UnixMilli() - 1; !q.Until.IsZero() && cur.At > u {
		cur = SearchCursor{At: u} // a cursor past the period starts at its end
	}
	res := &SearchResult{Items: []tanggap.Item{}}
	for read := int64(0); read < q.Scan; {
		n := min(searchChunk, q.Scan-read)
		hi := "+inf"
		if cur.At != math.MaxInt64 {
			hi = strconv.FormatInt(cur.At, 10)
		}
		rows, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Max: hi, Min: lo, Offset: cur.Seen, Count: n}).Result()
		if err != nil {
			return nil, unavailable(err, "search")
		}
		read += int64(len(rows))
		ids, byID, err := s.packedRows(ctx, rows)
		if err != nil {
			return nil, err
		}
		for i, z := range rows {
			if at := int64(z.Score); at == cur.At {
				cur.Seen++
			} else {
				cur = SearchCursor{At: at, Seen: 1}
			}
			it := byID[ids[i]]
			if it == nil {
				continue // removed since the set was read
			}
			res.Scanned++
			if res.Newest.IsZero() {
				res.Newest = it.CreatedAt
			}
			res.Oldest = it.CreatedAt
			// opd:<code> holds every item that has been in the OPD (see
			// Items): one routed elsewhere since is not the OPD's.
			if (q.OPD == "" || it.OPD == q.OPD) && matches(it, terms) {
				res.Items = append(res.Items, *it)
				if int64(len(res.Items)) == q.Limit {
					res.Next = cur
					return res, nil
				}
			}
		}
		if int64(len(rows)) < n {
			res.Complete = true
			return res, nil
		}
	}
	res.Next = cur
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

// packedRows reads the packed rows of the members of a set's rows: their
// ids in order, and the items by id (an id whose item is gone has none).
func (s *Store) packedRows(ctx context.Context, rows []redis.Z) ([]string, map[string]*tanggap.Item, error) {
	ids := make([]string, len(rows))
	for i, z := range rows {
		ids[i] = z.Member.(string)
	}
	its, err := s.packed(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*tanggap.Item, len(its))
	for i := range its {
		byID[its[i].ID] = &its[i]
	}
	return ids, byID, nil
}
