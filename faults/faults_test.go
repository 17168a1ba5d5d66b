//go:build integration

package faults

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestFaults runs every scenario on one pair of private servers, one after
// the other (each starts from an empty Redis), and prints the table.
func TestFaults(t *testing.T) {
	if os.Getenv("TANGGAP_FAULTS") == "" {
		t.Skip("the fault suite takes minutes and restarts servers: scripts/integration.sh runs it with TANGGAP_FAULTS=1")
	}
	posts := envInt(t, "TANGGAP_FAULTS_POSTS", 100_000)
	outage := envDuration(t, "TANGGAP_FAULTS_OUTAGE", 3*time.Minute)
	small := min(posts, 20_000)
	const outageRate = 40 // posts per second during the API outage scenario
	e := newEnv(t)

	scenarios := []scenario{
		{name: "kill -9 triage x5", posts: posts, triages: 2, timeout: 8 * time.Minute, fault: killTriage(posts)},
		// The other faults strike while posts still arrive: the load is
		// paced so that it lasts well past the fault.
		{name: "redis restart (clean SHUTDOWN)", posts: small, rate: 1000, triages: 2, timeout: 3 * time.Minute, fault: restartRedis(small, false)},
		{name: "redis kill -9 + restart", posts: small, rate: 1000, triages: 2, timeout: 3 * time.Minute, fault: restartRedis(small, true)},
		{name: "kafka broker stop + start", posts: small, rate: 400, triages: 2, timeout: 4 * time.Minute, fault: restartKafka(small)},
		{name: fmt.Sprintf("platform API 503 for %v", outage), posts: int(outageRate * (outage + 20*time.Second).Seconds()), rate: outageRate,
			triages: 1, timeout: outage + 3*time.Minute, fault: apiOutage(outage)},
	}
	var rows []row
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := e.run(t, sc)
			rows = append(rows, r)
			t.Logf("%s: sent %d, stored %d, lost %d, duplicated %d, bad clocks %d, bad cursors %d, %.0fs; %s",
				sc.name, r.Sent, r.Stored, r.Lost, r.Duplicated, r.BadClocks, r.BadCursors, r.Seconds, r.Notes)
			if r.Lost != 0 || r.Duplicated != 0 || r.BadClocks != 0 || r.BadCursors != 0 {
				t.Errorf("%s: lost %d, duplicated %d, wrong clocks %d, cursors not resumed %d", sc.name, r.Lost, r.Duplicated, r.BadClocks, r.BadCursors)
			}
		})
	}
	tab := table(rows)
	fmt.Printf("\nFault suite (real redis-server %s, real Kafka %s):\n%s\n", e.redis, e.brokers[0], tab)
	if f := os.Getenv("TANGGAP_FAULTS_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(tab), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// killTriage kills triage processes with SIGKILL at 15, 30, 45, 60 and 75%
// of the items stored, and starts them again at once: one process at a
// time, except the third time, when every process dies together.
func killTriage(total int) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		base := r.stored(ctx)
		marks := []float64{0.15, 0.30, 0.45, 0.60, 0.75}
		kills := 0
		for k, f := range marks {
			if err := r.waitStored(ctx, base+int64(f*float64(total))); err != nil {
				return err
			}
			victims := []int{k % len(r.procs)}
			if k == 2 {
				victims = victims[:0]
				for i := range r.procs {
					victims = append(victims, i)
				}
			}
			for _, i := range victims {
				r.procs[i].kill()
				kills++
			}
			for _, i := range victims {
				r.procs[i] = r.startProc()
			}
		}
		r.note("%d SIGKILLs at 15-75%% of the run (the third: both processes at once), each restarted at once", kills)
		return nil
	}
}

// restartRedis restarts redis-server once 40% of the items are stored:
// SHUTDOWN (the AOF is flushed), or SIGKILL (AOF everysec).
func restartRedis(total int, kill bool) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		base := r.stored(ctx)
		if err := r.waitStored(ctx, base+int64(0.4*float64(total))); err != nil {
			return err
		}
		action := []string{"restart-redis"}
		if kill {
			action = append(action, "--kill")
		}
		start := time.Now()
		if err := r.e.servicesErr(ctx, action...); err != nil {
			return err
		}
		r.note("redis down and back in %v at %d items stored", time.Since(start).Round(100*time.Millisecond), r.stored(ctx))
		return nil
	}
}

// restartKafka stops the broker (controlled shutdown) once 30% of the items
// are stored, keeps it down 5 seconds and starts it again.
func restartKafka(total int) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		base := r.stored(ctx)
		if err := r.waitStored(ctx, base+int64(0.3*float64(total))); err != nil {
			return err
		}
		start := time.Now()
		if err := r.e.servicesErr(ctx, "stop-kafka"); err != nil {
			return err
		}
		sleep(ctx, 5*time.Second)
		if err := r.e.servicesErr(ctx, "start-kafka"); err != nil {
			return err
		}
		r.note("broker unavailable for %v (stop, 5s down, start)", time.Since(start).Round(100*time.Millisecond))
		return nil
	}
}

// apiOutage makes every fake platform API answer 503 for d, 5 seconds into
// the load; posts keep appearing on the platform meanwhile.
func apiOutage(d time.Duration) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		sleep(ctx, 5*time.Second)
		before := r.nsent()
		r.fleet.SetFailing(true)
		sleep(ctx, d)
		r.fleet.SetFailing(false)
		r.note("%d posts appeared while the APIs answered 503; collector backoff capped at 2s (production: 5m)", r.nsent()-before)
		return ctx.Err()
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}
