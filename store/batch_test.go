package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// TestIngestBatch stores a pipelined batch in order (a reply ahead of its
// complaint waits for it), rejects an invalid post alone, and loads the
// script again when Redis lost it (restart, SCRIPT FLUSH).
func TestIngestBatch(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		bad := citizen("", "no id", t0)
		ins := []Ingest{
			reply("1790000000000000020", "1790000000000000010", t0.Add(10*time.Minute), "bina_marga_sda"),
			bad,
			citizen("1790000000000000010", "jalan rusak di jl ahmad yani", t0),
		}
		res, errs := s.IngestBatch(ctx, ins)
		if errs[0] != nil || tanggap.ErrorCode(errs[1]) != tanggap.EINVALID || errs[2] != nil {
			t.Fatalf("errors %v", errs)
		}
		if res[0] != OfficialReplyPending || res[2] != StoredAnswered {
			t.Fatalf("results %v", res)
		}
		if err := s.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		res, errs = s.IngestBatch(ctx, []Ingest{citizen("1790000000000000030", "sampah numpuk", t0), ins[2]})
		if errs[0] != nil || errs[1] != nil || res[0] != Stored || res[1] != Duplicate {
			t.Fatalf("after SCRIPT FLUSH: %v %v", res, errs)
		}
		if n, err := s.ItemCount(ctx); err != nil || n != 3 {
			t.Errorf("item count %d %v, want 3", n, err)
		}
		// The stages of the round that found no script were taken by the next.
		if keys, _ := s.rdb.Keys(ctx, s.k.prefix()+"stage:*").Result(); len(keys) != 0 {
			t.Errorf("stages left: %v", keys)
		}
	})
}

// refuseStages is a client hook that makes Redis refuse the staged item
// hashes of a pipeline as a full Redis (maxmemory, noeviction) refuses
// every write that adds memory.
type refuseStages struct{}

func (refuseStages) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (refuseStages) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (refuseStages) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		sent := cmds[:0:0]
		for _, c := range cmds {
			if c.Name() == "hset" && strings.Contains(fmt.Sprint(c.Args()[1]), ":stage:") {
				c.SetErr(errors.New("OOM command not allowed when used memory > 'maxmemory'."))
				continue
			}
			sent = append(sent, c)
		}
		return next(ctx, sent)
	}
}

// When Redis refuses a post's staged hash (full: maxmemory reached), the
// post's error says so, not the ingest script's "no such key" that
// follows, and nothing was stored: triage retries it.
func TestIngestBatchRefusedStage(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { rdb.Close() })
	c := newClock()
	s := New(rdb, "full", c.Now)
	s.noPlain = true // the plain path stages nothing
	ctx := context.Background()
	in := citizen("1790000000000000090", "jalan rusak", c.Now().Add(-time.Hour))
	rdb.AddHook(refuseStages{})
	_, errs := s.IngestBatch(ctx, []Ingest{in})
	if tanggap.ErrorCode(errs[0]) != tanggap.EUNAVAILABLE || !strings.Contains(errs[0].Error(), "OOM command not allowed") {
		t.Fatalf("refused stage: %v, want unavailable with Redis' OOM reason", errs[0])
	}
	if n, err := s.ItemCount(ctx); err != nil || n != 0 {
		t.Fatalf("%d items after the refusal (%v)", n, err)
	}
	s.rdb = redis.NewClient(&redis.Options{Addr: rdb.Options().Addr}) // Redis has room again
	t.Cleanup(func() { s.rdb.Close() })
	if res, errs := s.IngestBatch(ctx, []Ingest{in}); errs[0] != nil || res[0] != Stored {
		t.Fatalf("the retry: %v %v", res[0], errs[0])
	}
}
