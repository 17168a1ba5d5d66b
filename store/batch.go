package store

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// IngestBatch stores posts like Ingest: the common new ones with plain
// commands (plain.go), the others in one pipelined round trip. Each such
// post's item hash is staged with plain commands and the ingest script
// takes it (a new item) or drops it: the script then gets the few fields
// it reads as arguments, not the whole item, which Lua would copy into
// strings and tables and back into Redis' own. Redis runs the scripts in
// the order given, so records of one thread keep their Kafka order. It
// returns a result or an error for each post: EINVALID for a post that can
// never be stored (nothing was sent for it), EUNAVAILABLE when Redis did
// not run or did not answer the script (it may still have run: ingest is
// idempotent, so the caller retries).
func (s *Store) IngestBatch(ctx context.Context, ins []Ingest) ([]IngestResult, []error) {
	res := make([]IngestResult, len(ins))
	errs := make([]error, len(ins))
	calls := make([]batchCall, 0, len(ins))
	for i := range ins {
		c, err := s.newIngestCall(&ins[i])
		if err != nil {
			errs[i] = err
			continue
		}
		calls = append(calls, batchCall{i, &ins[i], c})
	}
	plain := s.plainIngest(ctx, calls)
	rest := calls[:0]
	for k, c := range calls {
		if plain[k] {
			res[c.i] = Stored
			continue
		}
		rest = append(rest, c)
	}
	calls = rest
	// Two rounds at most: the second after loading the script when Redis
	// lost its script cache (a restart, SCRIPT FLUSH, a failover).
	for round := 0; len(calls) > 0; round++ {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(calls))
		stages := make([]*redis.IntCmd, len(calls))
		for j, c := range calls {
			// A stage left by a pipeline cut short is replaced, not
			// merged into.
			pipe.Del(ctx, c.keys[9])
			stages[j] = pipe.HSet(ctx, c.keys[9], c.hash...)
			cmds[j] = s.ingest.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx) // errors are per command
		var again []batchCall
		for j, c := range calls {
			out, err := cmds[j].Text()
			switch {
			case err == nil:
				res[c.i], errs[c.i] = IngestResult(out), nil
			case round == 0 && redis.HasErrorPrefix(err, "NOSCRIPT"):
				again = append(again, c)
			case stages[j].Err() != nil:
				// The script found no stage because Redis refused it: its
				// reason (OOM when maxmemory is reached) is the one to
				// report, not the script's "no such key".
				errs[c.i] = unavailable(stages[j].Err(), "ingest: stage")
			default:
				errs[c.i] = unavailable(err, "ingest")
			}
		}
		if len(again) == 0 {
			break
		}
		if err := s.ingest.Load(ctx, s.rdb).Err(); err != nil {
			for _, c := range again {
				errs[c.i] = unavailable(err, "load ingest script")
			}
			break
		}
		calls = again
	}
	return res, errs
}

// batchCall is one post of a batch: its place in the batch, the post and
// its ingest call.
type batchCall struct {
	i  int
	in *Ingest
	ingestCall
}

// ItemCount is the number of items stored (every item, open or not).
func (s *Store) ItemCount(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.k.items()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, unavailable(err, "item count")
	}
	return n, nil
}
