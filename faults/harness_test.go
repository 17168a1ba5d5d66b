//go:build integration

package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/loadgen"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// env is what every scenario shares: private servers, the tanggap binary,
// the city config.
type env struct {
	root    string // repository root
	dir     string // private state: servers, binary, logs
	script  string // scripts/services.sh
	redis   string
	brokers []string
	bin     string
	rdb     *redis.Client
	cfg     *config.Config
	clocks  *workflow.Clocks
	log     *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tanggap-faults-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{root: root, dir: dir, script: filepath.Join(root, "scripts", "services.sh"), bin: filepath.Join(dir, "tanggap")}
	e.log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s (server and triage logs)", dir)
			e.services(context.Background(), t, "stop")
			return
		}
		e.services(context.Background(), t, "stop")
		os.RemoveAll(dir)
	})

	var g errgroup.Group
	g.Go(func() error {
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", e.bin, "./cmd/tanggap")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
		return nil
	})
	g.Go(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return e.servicesErr(ctx, "start")
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	rp, err1 := os.ReadFile(filepath.Join(dir, "redis.port"))
	kp, err2 := os.ReadFile(filepath.Join(dir, "kafka.port"))
	if err1 != nil || err2 != nil {
		t.Fatalf("services.sh start wrote no ports: %v %v", err1, err2)
	}
	e.redis = "127.0.0.1:" + strings.TrimSpace(string(rp))
	e.brokers = []string{"127.0.0.1:" + strings.TrimSpace(string(kp))}
	e.rdb = redis.NewClient(&redis.Options{Addr: e.redis, MaxRetries: -1})
	t.Cleanup(func() { e.rdb.Close() })
	if e.cfg, err = config.Load(""); err != nil {
		t.Fatal(err)
	}
	if e.clocks, err = workflow.NewClocks(e.cfg, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The topics exist before anything publishes: a broker that creates
	// them on first use would give them one partition.
	if err := bus.EnsureTopics(ctx, e.brokers, 6, bus.DefaultTopics.Posts, bus.DefaultTopics.Events, bus.DefaultTopics.Dead); err != nil {
		t.Fatal(err)
	}
	t.Logf("private servers: redis %s, kafka %s; state in %s", e.redis, e.brokers[0], dir)
	return e
}

// services runs an action of scripts/services.sh on the private servers.
func (e *env) services(ctx context.Context, t *testing.T, action ...string) {
	t.Helper()
	start := time.Now()
	if err := e.servicesErr(ctx, action...); err != nil {
		t.Error(err)
		return
	}
	t.Logf("services.sh %s: %v", strings.Join(action, " "), time.Since(start).Round(time.Millisecond))
}

func (e *env) servicesErr(ctx context.Context, action ...string) error {
	cmd := exec.CommandContext(ctx, "bash", append([]string{e.script}, action...)...)
	cmd.Env = append(os.Environ(), "TANGGAP_SERVICES_DIR="+e.dir, "TANGGAP_SKIP_APT=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("services.sh %s: %v\n%s", strings.Join(action, " "), err, out)
	}
	return nil
}

// proc is one `tanggap triage` process.
type proc struct {
	cmd  *exec.Cmd
	logf *os.File
	done chan struct{}
	err  error
}

func (e *env) startTriage(t *testing.T, name string) *proc {
	t.Helper()
	logf, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "triage", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TANGGAP_KAFKA_BROKERS="+strings.Join(e.brokers, ","), "REDIS_ADDR="+e.redis,
		"TANGGAP_CONFIG=", "TANGGAP_METRICS_ADDR=")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logf: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p
}

// kill sends SIGKILL to the process and waits for it to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop asks the process to drain (SIGTERM) and kills it after a while.
func (p *proc) stop() error {
	select {
	case <-p.done:
		return fmt.Errorf("triage exited early: %v", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("triage did not stop within 30s of SIGTERM")
	}
}

// groupLag is how many records of the posts topic the triage consumer
// group has not committed yet.
func (e *env) groupLag(ctx context.Context) (int64, error) {
	c := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 10 * time.Second}
	topic := bus.DefaultTopics.Posts
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return 0, fmt.Errorf("metadata of %s: %v", topic, err)
	}
	var parts []int
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		parts = append(parts, p.ID)
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return 0, err
	}
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "triage", Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, err
	}
	var lag int64
	for _, po := range offs.Topics[topic] {
		at := po.FirstOffset
		for _, cp := range committed.Topics[topic] {
			if cp.Partition == po.Partition && cp.CommittedOffset >= 0 {
				at = cp.CommittedOffset
			}
		}
		lag += po.LastOffset - at
	}
	return lag, nil
}

// waitCaughtUp waits until the triage group has committed every record of
// the posts topic.
func (e *env) waitCaughtUp(ctx context.Context) error {
	var lag int64 = -1
	var err error
	for {
		if lag, err = e.groupLag(ctx); err == nil && lag == 0 {
			return nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return fmt.Errorf("triage group not caught up: lag %d (%v)", lag, err)
		}
	}
}

// stopAll stops triage processes together (one after the other would make
// the last ones rebalance while stopping).
func stopAll(procs []*proc) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// run is one scenario in progress.
type run struct {
	e     *env
	t     *testing.T
	st    *store.Store
	fleet *loadgen.Fleet
	name  string

	mu    sync.Mutex
	sent  []loadgen.Sent
	procs []*proc
	seq   int
	notes []string
}

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *run) startProc() *proc {
	r.mu.Lock()
	r.seq++
	name := fmt.Sprintf("triage-%s-%d", r.name, r.seq)
	r.mu.Unlock()
	return r.e.startTriage(r.t, name)
}

// stored is the number of items in Redis, -1 while Redis does not answer.
func (r *run) stored(ctx context.Context) int64 {
	n, err := r.st.ItemCount(ctx)
	if err != nil {
		return -1
	}
	return n
}

// waitStored waits until at least n items are stored.
func (r *run) waitStored(ctx context.Context, n int64) error {
	for r.stored(ctx) < n {
		if !sleep(ctx, 20*time.Millisecond) {
			return fmt.Errorf("waiting for %d items: %w (have %d)", n, ctx.Err(), r.stored(context.Background()))
		}
	}
	return nil
}

func (r *run) nsent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// scenario is one fault under load.
type scenario struct {
	name    string
	posts   int           // posts appended after the warm-up
	rate    float64       // posts per second; 0: as fast as the collectors publish
	triages int           // triage processes
	timeout time.Duration // for the whole scenario
	fault   func(ctx context.Context, r *run) error
}

// row is one line of the table.
type row struct {
	Scenario   string
	Sent       int
	Published  int64
	Stored     int64
	Lost       int
	Duplicated int
	BadClocks  int
	BadCursors int
	Seconds    float64
	Notes      string
}

func (e *env) run(t *testing.T, sc scenario) row {
	ctx, cancel := context.WithTimeout(context.Background(), sc.timeout)
	defer cancel()
	start := time.Now()
	st := store.New(e.rdb, e.cfg.City.Code, nil)
	r := &run{e: e, t: t, st: st, name: strings.ReplaceAll(sc.name, " ", "_")}
	for range sc.triages {
		r.procs = append(r.procs, r.startProc())
	}
	defer func() {
		if err := stopAll(r.procs); err != nil {
			t.Errorf("%s: %v", sc.name, err)
		}
	}()
	// Every scenario starts from an empty Redis and a group that has
	// nothing left to consume from the scenarios before.
	if err := e.waitCaughtUp(ctx); err != nil {
		t.Fatalf("%s: before: %v", sc.name, err)
	}
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	prod := bus.NewProducer(e.brokers, bus.DefaultTopics, bus.NewProducerMetrics(reg))
	defer prod.Close()
	accts := e.cfg.WatchedAccounts(tanggap.PlatformX)
	fleet, err := loadgen.New(loadgen.Options{Accounts: accts, Cursors: st, Publisher: prod, Log: e.log, Registry: reg,
		Interval: 50 * time.Millisecond, MaxBackoff: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	r.fleet = fleet
	fctx, stopFleet := context.WithCancel(ctx)
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(fctx) }()
	defer func() {
		stopFleet()
		<-fleetDone
	}()

	// Warm-up: a post per account, so that every collector holds a cursor
	// and the triage processes have joined the group.
	r.sent = append(r.sent, fleet.Append(len(accts))...)
	if err := r.waitStored(ctx, int64(len(r.sent))); err != nil {
		t.Fatalf("%s: warm-up: %v", sc.name, err)
	}

	// The load and the fault, together.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.generate(gctx, sc) })
	g.Go(func() error { return sc.fault(gctx, r) })
	if err := g.Wait(); err != nil {
		t.Errorf("%s: %v", sc.name, err)
	}

	// Settle: every post stored, every cursor at the newest post, every
	// record committed.
	for ctx.Err() == nil {
		if len(r.cursorMismatches(ctx)) == 0 && r.stored(ctx) >= int64(r.nsent()) && len(r.missing(ctx)) == 0 {
			break
		}
		sleep(ctx, 200*time.Millisecond)
	}
	if err := e.waitCaughtUp(ctx); err != nil {
		t.Errorf("%s: after: %v", sc.name, err)
	}
	if ctx.Err() != nil {
		t.Errorf("%s: did not settle before the deadline (%v)", sc.name, sc.timeout)
	}
	elapsed := time.Since(start)
	vctx, vcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer vcancel()
	out := r.verify(vctx)
	out.Scenario, out.Seconds, out.Published = sc.name, elapsed.Seconds(), fleet.Published()
	out.Notes = strings.Join(r.notes, "; ")
	return out
}

// missing lists the posts sent that are not stored (nil when Redis does
// not answer: the caller retries).
func (r *run) missing(ctx context.Context) []string {
	r.mu.Lock()
	ids := make([]string, 0, len(r.sent))
	for _, s := range r.sent {
		ids = append(ids, s.ItemID())
	}
	r.mu.Unlock()
	have := make(map[string]bool, len(ids))
	for i := 0; i < len(ids); i += 1000 {
		its, err := r.st.ItemsByID(ctx, ids[i:min(i+1000, len(ids))])
		if err != nil {
			return []string{"redis: " + err.Error()}
		}
		for _, it := range its {
			have[it.ID] = true
		}
	}
	var out []string
	for _, id := range ids {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}

// generate appends sc.posts posts, at sc.rate or as fast as the
// collectors publish (at most 5,000 ahead of Kafka, so that no account's
// backlog exceeds what one poll reads: 5 pages of 200).
func (r *run) generate(ctx context.Context, sc scenario) error {
	start := time.Now()
	done := 0
	pub0 := r.fleet.Published()
	for done < sc.posts {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := min(200, sc.posts-done)
		if sc.rate > 0 {
			n = min(n, int(time.Since(start).Seconds()*sc.rate)+1-done)
		} else if int64(done)-(r.fleet.Published()-pub0) >= 5000 {
			n = 0
		}
		if n <= 0 {
			sleep(ctx, 5*time.Millisecond)
			continue
		}
		ss := r.fleet.Append(n)
		r.mu.Lock()
		r.sent = append(r.sent, ss...)
		r.mu.Unlock()
		done += n
	}
	return nil
}

// cursorMismatches lists the accounts whose stored cursor is not the
// newest post of their timelines.
func (r *run) cursorMismatches(ctx context.Context) []string {
	var bad []string
	for handle, want := range r.fleet.Newest() {
		raw, err := r.st.Cursor(ctx, tanggap.PlatformX, handle)
		if err != nil {
			return []string{"redis: " + err.Error()}
		}
		got, ok := x.ParseCursor(raw)
		if !ok || got.Mentions != want.Mentions || got.User != want.User {
			bad = append(bad, fmt.Sprintf("%s: cursor %q, newest %s", handle, raw, want))
		}
	}
	return bad
}

// verify reads back every item sent.
func (r *run) verify(ctx context.Context) row {
	var out row
	r.mu.Lock()
	sent := append([]loadgen.Sent(nil), r.sent...)
	r.mu.Unlock()
	out.Sent = len(sent)
	byID := make(map[string]loadgen.Sent, len(sent))
	answeredAt := map[string]time.Time{} // parent item id -> its reply's platform time
	for _, s := range sent {
		byID[s.ItemID()] = s
	}
	for _, s := range sent {
		if s.ReplyTo == "" {
			continue
		}
		pid := tanggap.ItemID(tanggap.PlatformX, s.ReplyTo)
		if _, ok := byID[pid]; ok {
			if at, seen := answeredAt[pid]; !seen || s.CreatedAt.Before(at) {
				answeredAt[pid] = s.CreatedAt
			}
		}
	}
	ids := make([]string, 0, len(sent))
	for _, s := range sent {
		ids = append(ids, s.ItemID())
	}
	var found []tanggap.Item
	for i := 0; i < len(ids); i += 1000 {
		its, err := r.st.ItemsByID(ctx, ids[i:min(i+1000, len(ids))])
		if err != nil {
			r.t.Errorf("verify: %v", err)
			return out
		}
		found = append(found, its...)
	}
	n, err := r.st.ItemCount(ctx)
	if err != nil {
		r.t.Errorf("verify: %v", err)
	}
	out.Stored = n
	out.Lost = len(sent) - len(found)
	out.Duplicated = int(n) - len(found) // items that are none of the posts sent
	// Near-duplicate clustering bumps a cluster root's version for the
	// citizens who form the cluster (store.RootChanges) and counts each
	// citizen once (the generator's authors are X handles, one id each):
	// joins holds, per root, the other citizens who joined it.
	others := map[string]map[string]bool{}
	for _, it := range found {
		if it.ClusterID != "" && it.ClusterID != it.ID {
			if others[it.ClusterID] == nil {
				others[it.ClusterID] = map[string]bool{}
			}
			others[it.ClusterID][it.Author] = true
		}
	}
	joins := map[string]int64{}
	for _, it := range found {
		delete(others[it.ID], it.Author)
		if n := len(others[it.ID]); n > 0 {
			joins[it.ID] = int64(n)
		}
	}
	clockErrs, versionErrs := 0, 0
	for _, it := range found {
		s := byID[it.ID]
		wantVersion := 1 + store.RootChanges(joins[it.ID])
		if joins[it.ID] > 0 && it.Reporters != 1+int(joins[it.ID]) {
			versionErrs++
			if versionErrs <= 3 {
				r.t.Logf("cluster root %s: %d reporters, want %d", it.ID, it.Reporters, 1+joins[it.ID])
			}
		}
		at, answered := answeredAt[it.ID]
		if answered {
			wantVersion++
		}
		if it.Version != wantVersion {
			versionErrs++
			if versionErrs <= 3 {
				r.t.Logf("item %s: version %d, want %d", it.ID, it.Version, wantVersion)
			}
		}
		if !clockOK(r.e, it, s, at, answered) {
			clockErrs++
			if clockErrs <= 3 {
				r.t.Logf("item %s: clocks wrong: created %v (sent %v), deadlines %+v, first response %v (reply at %v)",
					it.ID, it.CreatedAt, s.CreatedAt, it.Deadlines, it.FirstResponseAt, at)
			}
		}
	}
	// History of a sample: one ingest event each, one answer at most.
	rnd := rand.New(rand.NewPCG(uint64(len(found)), 7))
	histErrs := 0
	for k := 0; k < min(300, len(found)); k++ {
		it := found[rnd.IntN(len(found))]
		h, err := r.st.History(ctx, it.ID)
		if err != nil {
			r.t.Errorf("verify: %v", err)
			break
		}
		counts := map[string]int{}
		for _, ev := range h {
			counts[ev.Action]++
		}
		if counts["ingest"] != 1 || counts["answer"] > 1 || int64(counts["cluster"]) != store.RootChanges(joins[it.ID]) {
			histErrs++
			if histErrs <= 3 {
				r.t.Logf("item %s: history %v", it.ID, counts)
			}
		}
	}
	out.Duplicated += versionErrs + histErrs
	out.BadClocks = clockErrs
	bad := r.cursorMismatches(ctx)
	out.BadCursors = len(bad)
	for _, b := range bad[:min(3, len(bad))] {
		r.t.Logf("cursor: %s", b)
	}
	return out
}

// clockOK checks an item's clocks against the policy: T0 is the post's
// platform time, each deadline is T0 plus the policy for its kind, OPD and
// urgency, and an answered complaint's first response is its reply's
// platform time.
func clockOK(e *env, it tanggap.Item, s loadgen.Sent, answeredAt time.Time, answered bool) bool {
	if !it.CreatedAt.Equal(s.CreatedAt) {
		return false
	}
	if answered {
		return it.FirstResponseAt != nil && it.FirstResponseAt.Equal(answeredAt)
	}
	if !it.Queued {
		return it.Deadlines.FirstResponse.IsZero()
	}
	// The clocks are set at ingest; a cluster root that turned urgent by
	// its reporters keeps them (the urgency shows, the deadline stays).
	urgent := it.Urgent
	if !deadlinesEqual(e.clocks.Deadlines(s.CreatedAt, it.Kind, it.OPD, urgent), it.Deadlines) && urgent && it.Reporters >= 3 {
		urgent = false
	}
	return deadlinesEqual(e.clocks.Deadlines(s.CreatedAt, it.Kind, it.OPD, urgent), it.Deadlines) &&
		it.Deadlines.FirstResponse.Equal(s.CreatedAt.Add(e.cfg.FirstResponseFor(it.OPD, urgent)))
}

func deadlinesEqual(w, g tanggap.Deadlines) bool {
	for _, p := range [][2]time.Time{{w.FirstResponse, g.FirstResponse}, {w.FirstResponseSoon, g.FirstResponseSoon},
		{w.Routing, g.Routing}, {w.RoutingSoon, g.RoutingSoon}, {w.Followup, g.Followup}, {w.FollowupSoon, g.FollowupSoon},
		{w.Resolution, g.Resolution}, {w.ResolutionSoon, g.ResolutionSoon}} {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// table renders the rows.
func table(rows []row) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-34s %10s %10s %10s %6s %10s %7s %8s %7s  %s\n", "scenario", "posts sent", "published", "items", "lost", "duplicated", "clocks", "cursors", "seconds", "notes")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-34s %10d %10d %10d %6d %10d %7s %8s %7.0f  %s\n", r.Scenario, r.Sent, r.Published, r.Stored, r.Lost, r.Duplicated,
			okOrCount(r.BadClocks), okOrCount(r.BadCursors), r.Seconds, r.Notes)
	}
	return b.String()
}

func okOrCount(n int) string {
	if n == 0 {
		return "ok"
	}
	return strconv.Itoa(n) + " bad"
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
