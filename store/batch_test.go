package store

import (
	"context"
	"testing"
	"time"

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
