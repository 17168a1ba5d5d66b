package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
)

// The plain path. Most posts triage stores are new, answer nothing and are
// answered by nothing yet: for them the ingest script only adds the item,
// its index entries, its row and its first event, and Redis spent about
// 40% of that script on Lua itself (its arguments, the VM, its garbage).
// IngestBatch writes such posts with plain commands, a MULTI/EXEC per
// plainChunk posts, under WATCH of what would make one of them anything
// else: its item and a reply waiting for it (its history is read too, but
// appears only with its item). A post is plain when it comes once in its
// batch and no official reply comes before it there (plain posts are
// stored first: what comes after them sees them as it would have), it is
// not an official reply, not deleted, queued only in a status whose clocks
// the script would start (NEW, ASSIGNED), and joins a cluster only once
// that cluster's root no longer changes (UrgentReporters counted already;
// the count only grows): then it only adds its citizen to the cluster's
// set, which counts it unless it reported already. Everything else, and
// the posts of a transaction a concurrent write aborted, goes through the
// script, which stays the definition: TestPlainMatchesScript holds the
// two to the same Redis state, and every store test runs with and without
// the plain path.
// BenchmarkIngestBatch: fresh (plain) against script.

// plainChunk is how many posts one transaction writes, plainParallel how
// many transactions run at once (each on its own connection: WATCH is a
// connection's). Redis 7.0 checks each key WATCH adds against those the
// connection watches already, so a transaction watching a whole batch
// (1,000 keys) cost more than the Lua it saved. Larger chunks share more
// keys (plainWrites): from 32 to 64 posts, EXEC's time per 20,000 posts
// end to end fell from 960-980 ms to 820 and WATCH's rose from 40 to 60-80.
const (
	plainChunk    = 64
	plainParallel = 4
)

// plainIngest stores the plain posts among calls and reports which (by
// index in calls). A transaction that fails or is aborted (a watched key
// changed) stores none of its posts: the script path then handles them
// (and reports what failed).
func (s *Store) plainIngest(ctx context.Context, calls []batchCall) []bool {
	done := make([]bool, len(calls))
	if s.noPlain {
		return done
	}
	// Plain posts are stored before the batch's others. That keeps the
	// batch's order for what one post does to another (an official reply
	// answers its parent, a report joins its cluster's root) as long as a
	// plain post comes twice in no batch and no official reply in the
	// batch comes before it.
	seen := make(map[string]int, len(calls))
	for k := range calls {
		seen[calls[k].id]++
	}
	answered := make(map[string]bool)
	var cand []int // indexes into calls
	for k := range calls {
		c := &calls[k]
		if seen[c.id] == 1 && !answered[c.id] && plainShape(c.in) {
			cand = append(cand, k)
		}
		in := c.in
		if in.ReplyBy != "" && in.Post.ParentID != "" {
			answered[tanggap.ItemID(in.Post.Platform, in.Post.ParentID)] = true
		}
	}
	var g errgroup.Group
	g.SetLimit(plainParallel)
	for len(cand) > 0 {
		chunk := cand[:min(plainChunk, len(cand))]
		cand = cand[len(chunk):]
		g.Go(func() error {
			s.plainChunk(ctx, calls, chunk, done) // each writes its own done entries
			return nil
		})
	}
	_ = g.Wait()
	return done
}

// plainChunk writes one transaction's posts (cand: indexes into calls).
func (s *Store) plainChunk(ctx context.Context, calls []batchCall, cand []int, done []bool) {
	// WATCH (item, waiting reply: see above) goes in the round trip of the
	// reads (go-redis' own Watch sends it alone first): a transaction costs
	// two round trips, and a chunk that writes nothing UNWATCHes (EXEC
	// clears the watches otherwise).
	watch := make([]any, 0, 1+2*len(cand))
	watch = append(watch, "WATCH")
	for _, k := range cand {
		watch = append(watch, calls[k].keys[0], calls[k].keys[2])
	}
	// A cluster client finds the node by a key, and WATCHes that one alone
	// first; a single server's client needs none (the city's keys share one
	// slot, so any of them names the node).
	var node []string
	if _, ok := s.rdb.(*redis.ClusterClient); ok {
		node = []string{calls[cand[0]].keys[0]}
	}
	var write []int
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) (err error) {
		execed := false
		defer func() {
			if !execed {
				tx.Unwatch(ctx)
			}
		}()
		exists := make([]*redis.IntCmd, len(cand))
		outside := make([]*redis.StringCmd, len(cand))
		citizens := make([]*redis.IntCmd, len(cand))
		if _, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Do(ctx, watch...)
			for i, k := range cand {
				c := &calls[k]
				exists[i] = p.Exists(ctx, c.keys[0], c.keys[1], c.keys[2]) // item, history, pending
				if c.citizens != "" {
					outside[i] = p.HGet(ctx, s.k.reporters(), c.in.ClusterID)
					citizens[i] = p.SCard(ctx, c.citizens)
				}
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, k := range cand {
			if n, err := exists[i].Result(); err != nil || n != 0 {
				continue
			}
			if r := outside[i]; r != nil {
				// The count (see cluster.go) only grows: a cluster that has
				// its UrgentReporters keeps them, and its set takes the
				// citizen in any order, so neither key needs watching.
				n, err := strconv.Atoi(r.Val())
				if err != nil || citizens[i].Err() != nil || int64(n)+citizens[i].Val() < UrgentReporters { // also when unread
					continue
				}
			}
			write = append(write, k)
		}
		if len(write) == 0 {
			return nil
		}
		execed = true
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			var w plainWrites
			for _, k := range write {
				s.writePlain(ctx, p, &w, calls[k].in, &calls[k].ingestCall)
			}
			w.flush(ctx, p)
			return nil
		})
		return err
	}, node...)
	if err != nil {
		return
	}
	for _, k := range write {
		done[k] = true
	}
	s.plain.Add(int64(len(write)))
}

// PlainIngests is how many posts this store stored by the plain path.
func (s *Store) PlainIngests() int64 { return s.plain.Load() }

// plainShape reports whether a post can take the plain path as far as the
// post alone tells (Redis tells the rest).
func plainShape(in *Ingest) bool {
	if in.ReplyBy != "" || in.Post.Deleted {
		return false
	}
	return !in.Queued || in.Status == tanggap.StatusNew || in.Status == tanggap.StatusAssigned
}

// writePlain queues a new plain post's writes: those of the ingest script
// for it (lua/ingest.lua and the reindex, near and append_event of
// lua/common.lua). Its own keys' writes go to p; those to keys a
// transaction's posts share go to w, which flush writes after them.
func (s *Store) writePlain(ctx context.Context, p redis.Pipeliner, w *plainWrites, in *Ingest, c *ingestCall) {
	created := ms(in.Post.CreatedAt)
	due, soon, clock := startClock(in)
	hash := c.hash
	if clock != "" {
		hash = append(hash[:len(hash):len(hash)], "due_ms", due, "soon_ms", soon, "clock", clock)
	}
	p.HSet(ctx, c.keys[0], hash...)
	w.zadd(s.k.items(), created, c.id)
	// reindex
	if in.OPD != "" {
		w.zadd(s.k.opd(in.OPD), created, c.id)
	}
	if in.Queued {
		w.zadd(s.k.set("age:", in.OPD), created, c.id)
		w.zadd(s.k.set("unans:", in.OPD), created, c.id)
		if due != "" {
			w.zadd(s.k.set("open:", in.OPD), due, c.id)
			w.zadd(s.k.set("soon:", in.OPD), soon, c.id)
		}
	}
	w.rows = append(w.rows, s.k.rowOf(c.keys[0]), c.head+packRow([]string{due, soon, clock})+c.tail)
	// near
	if nk := in.NearKey(); nk != "" {
		cl := in.ClusterID
		if cl == "" {
			cl = "-"
		}
		key := s.k.near(nk)
		w.zadd(key, created, c.id+" "+cl+" "+in.Fingerprint+" "+created)
		if c.id[len(c.id)-1]%8 == 0 {
			w.then(key, "ZREMRANGEBYSCORE", key, "-inf", "("+strconv.FormatInt(in.Post.CreatedAt.UnixMilli()-nearKeep.Milliseconds(), 10))
		}
	}
	if cl := in.ClusterID; cl != "" && cl != c.id {
		w.zadd(s.k.clusterMembers(), "0", cl+" "+c.id) // joined
		w.sadd(c.citizens, c.citizen)
	}
	if in.Status == tanggap.StatusAssigned && in.OPD != "" && in.ClassifierOPD == in.OPD {
		w.incr(s.k.routing(), in.OPD+":auto")
	}
	// append_event: the history is new, so the event is its first.
	p.RPush(ctx, c.keys[1], c.event)
	p.XAdd(ctx, &redis.XAddArgs{Stream: s.k.outbox(), Values: []any{"item", c.id, "at", c.now, "index", "0"}})
}

// plainWrites gathers the writes of a transaction's posts to keys they
// share, so that each key takes one command where the script sends one
// per post: a ZADD of every member a sorted set gains (the items index,
// an OPD's sets, a place's near set), a SADD of every citizen a cluster's
// set gains, one MSET of the rows, one HINCRBY of each counter by its
// count. Redis spent about 6 µs on each ZADD, nearly all of it per
// command. Inside MULTI/EXEC the order of writes to different keys
// changes nothing; one key's commands keep their order (a near set's trim
// stays between the adds before and after it).
type plainWrites struct {
	keys  []string           // (sorted) set keys, in order of first write
	cmds  map[string][][]any // key -> its commands, a ZADD's or SADD's members appended
	rows  []any              // MSET key, value pairs
	count [][2]string        // counters (hash, field), in order of first increment
	by    map[[2]string]int64
}

// zadd adds member at score to the sorted set key.
func (w *plainWrites) zadd(key, score, member string) {
	cmds := w.cmds[key]
	if n := len(cmds); n > 0 && cmds[n-1][0] == "ZADD" {
		cmds[n-1] = append(cmds[n-1], score, member)
		return
	}
	w.then(key, "ZADD", key, score, member)
}

// sadd adds member to the set key.
func (w *plainWrites) sadd(key, member string) {
	cmds := w.cmds[key]
	if n := len(cmds); n > 0 && cmds[n-1][0] == "SADD" {
		cmds[n-1] = append(cmds[n-1], member)
		return
	}
	w.then(key, "SADD", key, member)
}

// then queues a command on the key after those queued for it.
func (w *plainWrites) then(key string, args ...any) {
	if w.cmds == nil {
		w.cmds = make(map[string][][]any)
	}
	if _, ok := w.cmds[key]; !ok {
		w.keys = append(w.keys, key)
	}
	w.cmds[key] = append(w.cmds[key], args)
}

// incr adds one to field of the hash key.
func (w *plainWrites) incr(key, field string) {
	if w.by == nil {
		w.by = make(map[[2]string]int64)
	}
	f := [2]string{key, field}
	if _, ok := w.by[f]; !ok {
		w.count = append(w.count, f)
	}
	w.by[f]++
}

// flush queues the gathered writes on p.
func (w *plainWrites) flush(ctx context.Context, p redis.Pipeliner) {
	for _, key := range w.keys {
		for _, cmd := range w.cmds[key] {
			p.Do(ctx, cmd...)
		}
	}
	if len(w.rows) > 0 {
		p.MSet(ctx, w.rows...)
	}
	for _, f := range w.count {
		p.HIncrBy(ctx, f[0], f[1], w.by[f])
	}
}

// nearKeep is how long near-set members are kept (NEAR_KEEP_MS in
// lua/common.lua).
const nearKeep = 14 * 24 * time.Hour

// startClock is the clock a new item starts with, as the Lua due() picks
// it: the earliest deadline pending for its status (an open, queued item
// not on hold; never answered), its due-soon instant and the clock's name.
func startClock(in *Ingest) (due, soon, clock string) {
	st := in.Status
	if !in.Queued || !st.Open() || st == tanggap.StatusOnHold {
		return "", "", ""
	}
	d := in.Deadlines
	var best int64 // ms, as the script compares the fields
	consider := func(dl, sn time.Time, name string) {
		if dl.IsZero() || (due != "" && dl.UnixMilli() >= best) {
			return
		}
		best, due, clock = dl.UnixMilli(), ms(dl), name
		soon = due
		if !sn.IsZero() {
			soon = ms(sn)
		}
	}
	if st != tanggap.StatusInProgress {
		consider(d.FirstResponse, d.FirstResponseSoon, string(tanggap.ClockFirstResponse))
	}
	if st == tanggap.StatusNew {
		consider(d.Routing, d.RoutingSoon, string(tanggap.ClockRouting))
	}
	if st == tanggap.StatusAssigned || st == tanggap.StatusReopened {
		consider(d.Followup, d.FollowupSoon, string(tanggap.ClockFollowup))
	}
	if st == tanggap.StatusInProgress || st == tanggap.StatusReopened {
		consider(d.Resolution, d.ResolutionSoon, string(tanggap.ClockResolution))
	}
	return due, soon, clock
}
