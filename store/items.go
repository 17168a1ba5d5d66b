package store

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// Items lists items for the API newest first, in the order the sets by
// platform time keep them: time (ms) descending, then id descending in
// byte order. X and Facebook give whole seconds, so many items can share
// a time: a page ends at an item, not at an instant, and the next call
// continues after that item (ItemCursor), never skipping one that shares
// its time. A call reads at most Scan rows of the scope, so a status that
// few items have costs a bounded read a call, not a read of the scope.

// ItemQuery selects items for the API.
type ItemQuery struct {
	OPD    string // the OPD the items are in now; "" means every OPD
	Status tanggap.Status
	Before time.Time  // platform time, exclusive at millisecond precision; zero means now
	After  ItemCursor // continue after the item where an earlier call stopped (replaces Before)
	Limit  int64      // items returned at most (default 100, at most 1,000)
	Scan   int64      // rows read at most (default 5,000)
}

// ItemCursor names the last item a listing read: its platform time (ms)
// and its id, its place in the sets.
type ItemCursor struct {
	At int64
	ID string
}

// IsZero reports whether the cursor is unset (a listing from the newest).
func (c ItemCursor) IsZero() bool { return c == ItemCursor{} }

// String is the cursor as an opaque query parameter.
func (c ItemCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At, 10) + " " + c.ID))
}

// maxCursorID bounds the id a cursor may carry (ids are far shorter).
const maxCursorID = 200

// ParseItemCursor reads a cursor written by ItemCursor.String.
func ParseItemCursor(s string) (ItemCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	a, id, ok := strings.Cut(string(b), " ")
	at, err2 := strconv.ParseInt(a, 10, 64)
	if err != nil || !ok || err2 != nil || at <= 0 || id == "" || len(id) > maxCursorID {
		return ItemCursor{}, tanggap.Errorf(tanggap.EINVALID, "malformed cursor %q", s)
	}
	return ItemCursor{At: at, ID: id}, nil
}

// ItemList is what Items found.
type ItemList struct {
	Items    []tanggap.Item // newest first
	Scanned  int64          // rows read
	Complete bool           // no item of the scope follows the last one read
	Next     ItemCursor     // where to continue when not Complete
}

// itemsChunk is the most rows one round trip of Items reads.
const itemsChunk = 1000

// Items returns the items of the scope with the status asked for, newest
// first, from at most Scan rows.
func (s *Store) Items(ctx context.Context, q ItemQuery) (*ItemList, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	if q.Scan <= 0 {
		q.Scan = 5000
	}
	key := s.k.items()
	if q.OPD != "" {
		key = s.k.opd(q.OPD)
	}
	res := &ItemList{Items: []tanggap.Item{}}
	cur := q.After
	n := q.Limit
	for res.Scanned < q.Scan {
		n = min(n, q.Scan-res.Scanned)
		rows, err := s.itemRows(ctx, key, q.Before, cur, n)
		if err != nil {
			return nil, err
		}
		res.Scanned += int64(len(rows))
		ids, byID, err := s.packedRows(ctx, rows)
		if err != nil {
			return nil, err
		}
		for i, z := range rows {
			cur = ItemCursor{At: int64(z.Score), ID: ids[i]}
			it := byID[ids[i]]
			// opd:<code> holds every item that has been in the OPD (reports
			// read it so): one routed elsewhere since is not the OPD's.
			if it == nil || (q.Status != "" && it.Status != q.Status) || (q.OPD != "" && it.OPD != q.OPD) {
				continue
			}
			res.Items = append(res.Items, *it)
			if int64(len(res.Items)) == q.Limit {
				res.Next = cur
				return res, nil
			}
		}
		if int64(len(rows)) < n {
			res.Complete = true
			return res, nil
		}
		// Few rows matched: read on in larger steps.
		n = min(2*n, itemsChunk)
	}
	res.Next = cur
	return res, nil
}

// afterScript reads the n rows (member, score) that follow a member of a
// set by platform time, newest first; false when the member is not in the
// set. One script, so that no change to the set between finding the
// member and reading on moves the rows under the read.
var afterScript = redis.NewScript(`local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not r then return false end
return redis.call('ZREVRANGE', KEYS[1], r + 1, r + tonumber(ARGV[2]), 'WITHSCORES')`)

// itemRows reads the n rows of a set by platform time that follow cur,
// or when cur is zero the newest n before before (zero: now).
func (s *Store) itemRows(ctx context.Context, key string, before time.Time, cur ItemCursor, n int64) ([]redis.Z, error) {
	if cur.IsZero() {
		hi := "+inf"
		if !before.IsZero() {
			hi = "(" + strconv.FormatInt(before.UnixMilli(), 10)
		}
		rows, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Max: hi, Min: "-inf", Count: n}).Result()
		return rows, unavailable(err, "items")
	}
	v, err := afterScript.Run(ctx, s.rdb, []string{key}, cur.ID, n).StringSlice()
	switch {
	case errors.Is(err, redis.Nil):
		return s.rowsAfterGone(ctx, key, cur, n)
	case err != nil:
		return nil, unavailable(err, "items after")
	}
	rows := make([]redis.Z, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		sc, err := strconv.ParseFloat(v[i+1], 64)
		if err != nil {
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "items after: score")
		}
		rows = append(rows, redis.Z{Member: v[i], Score: sc})
	}
	return rows, nil
}

// rowsAfterGone reads the n rows that follow the place of an item no
// longer in the set (pruned since the cursor was given): past the rows of
// its millisecond whose ids sort at or above its id, as ZREVRANGE orders
// them. Only their names are read to count them.
func (s *Store) rowsAfterGone(ctx context.Context, key string, cur ItemCursor, n int64) ([]redis.Z, error) {
	at := strconv.FormatInt(cur.At, 10)
	const chunk = 1000
	var skip int64
	for {
		ids, err := s.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: at, Min: at, Offset: skip, Count: chunk}).Result()
		if err != nil {
			return nil, unavailable(err, "items after")
		}
		k := 0
		for k < len(ids) && ids[k] >= cur.ID {
			k++
		}
		skip += int64(k)
		if k < len(ids) || len(ids) < chunk {
			break
		}
	}
	rows, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Max: at, Min: "-inf", Offset: skip, Count: n}).Result()
	return rows, unavailable(err, "items after")
}
