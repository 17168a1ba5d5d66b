package web

// Helpers of the browser tests (browser_test.go): Debian's chromium driven
// through chromedp against the real handlers of newFixture.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

const (
	// chromiumPath is where Debian's chromium package puts the browser
	// (scripts/services.sh installs it for the integration run).
	chromiumPath = "/usr/bin/chromium"
	// browserBudget bounds one browser test from the browser's start to its
	// end: a hung page fails the test instead of hanging go test. These
	// bounds catch a hang, not slowness: the race detector's run gets
	// slowdown times as long.
	browserBudget = 90 * time.Second * slowdown
	// stepTimeout bounds one step (a navigation, a form, a query).
	stepTimeout = 10 * time.Second * slowdown
	// livePoll is how long a new item may take to show on an open queue
	// page: htmx polls /antrian/{opd}/daftar every 10 s.
	livePoll = 15 * time.Second * slowdown
	// artifactsEnv names the directory that keeps the screenshots.
	artifactsEnv = "TANGGAP_ARTIFACTS"
)

// chromiumGate says whether a browser test runs: msg is "" to run it, else
// why not, and fail says whether that is a failure rather than a skip.
// statErr is the result of looking for chromium.
//
// In the integration run (scripts/integration.sh, after scripts/services.sh
// installed chromium) a missing browser is a failure, so that run cannot pass
// as "skipped". The plain `go test ./...` step of .ci/run has CI set too, but
// services.sh installs chromium in the background at that very time, so a
// fresh CI machine may not have it yet: there a missing browser skips, and
// the integration step that follows fails on it.
func chromiumGate(statErr error, integration, ci, short bool) (msg string, fail bool) {
	if statErr != nil {
		msg = fmt.Sprintf("browser test needs Debian's chromium at %s (apt-get install -y chromium, or scripts/services.sh start): %v", chromiumPath, statErr)
		switch {
		case integration:
			return "integration run: a missing browser is a failure: " + msg, true
		case ci:
			return msg + " (CI: the integration step fails on this)", false
		}
		return msg, false
	}
	if short && !integration {
		return "browser test skipped under -short (it takes about 30 s)", false
	}
	return "", false
}

// requireChromium skips or fails the test when chromium is absent.
func requireChromium(t *testing.T) {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	msg, fail := chromiumGate(err, testenv.Integration, testenv.CI(), testing.Short())
	switch {
	case fail:
		t.Fatal(msg)
	case msg != "":
		t.Skip(msg)
	}
}

// lockedBuffer collects chromium's output and chromedp's errors, shown when
// a test fails, and the fixture server's log.
type lockedBuffer struct{ testenv.Buffer }

func (b *lockedBuffer) logf(format string, args ...any) {
	fmt.Fprintf(b, format+"\n", args...)
}

// interesting drops the lines of chromium's output that say nothing on this
// machine: D-Bus is absent, and Debian's launcher script trips on its own test.
func interesting(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "dbus/") || strings.Contains(line, "unexpected operator") || strings.TrimSpace(line) == "" {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// browser is one headless chromium process.
type browser struct {
	t    *testing.T
	root context.Context // the first tab: every session is a tab of its browser
	base string          // the server's URL
	out  *lockedBuffer
}

// startBrowser starts chromium with a fresh profile; it stops when the test ends.
func startBrowser(t *testing.T, base string) *browser {
	t.Helper()
	requireChromium(t)
	profile := t.TempDir() // removed last: cleanups run in reverse order
	out := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), browserBudget)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel) // also waits for the process to end
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(out.logf))
	t.Cleanup(bcancel)
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, interesting(out.String()))
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if msgs := interesting(out.String()); t.Failed() && msgs != "" {
			t.Logf("chromium output and chromedp errors (D-Bus noise left out):\n%s", msgs)
		}
	})
	return &browser{t: t, root: bctx, base: base, out: out}
}

// session is one person at the browser: a browser context of its own
// (cookies are not shared), with one tab.
type session struct {
	b     *browser
	t     *testing.T
	ctx   context.Context
	login string
}

// session opens a new browser context and signs in as login ("" stays
// anonymous).
func (b *browser) session(login string) *session {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // the tab lives as long as ctx
		b.t.Fatalf("new browser context: %v", err)
	}
	s := &session{b: b, t: b.t, ctx: ctx, login: "anonymous"}
	if login != "" {
		s.open("/masuk")
		s.signIn(login)
		if path := s.path(); path == "/masuk" {
			s.t.Fatalf("sign in as %s: still on the login page: %s", login, s.text("main"))
		}
	}
	return s
}

// tab opens another tab of the same person (same browser context, same
// cookies).
func (s *session) tab() *session {
	s.t.Helper()
	ctx, cancel := chromedp.NewContext(s.ctx)
	s.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		s.t.Fatalf("new tab: %v", err)
	}
	return &session{b: s.b, t: s.t, ctx: ctx, login: s.login}
}

// do runs steps within stepTimeout.
func (s *session) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.t.Fatalf("%s (as %s): %v", what, s.login, err)
	}
}

// run runs one action that returns a value, within stepTimeout.
func run[T any](s *session, what string, a chromedp.Action[T]) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		s.t.Fatalf("%s (as %s): %v", what, s.login, err)
	}
	return v
}

// waitVisible waits up to d for an element matching sel to be visible.
func (s *session) waitVisible(sel string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression in the page (through the DevTools
// protocol: the page's Content-Security-Policy does not apply to it).
func eval[T any](s *session, expr string) T {
	s.t.Helper()
	return run(s, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// open navigates to path and returns the HTTP status of the page that
// finally loaded (after redirects).
func (s *session) open(path string) int64 {
	s.t.Helper()
	res := run(s, "open "+path, chromedp.NavigateResponse(s.b.base+path))
	if res == nil {
		s.t.Fatalf("open %s: no response", path)
	}
	return res.Status
}

// submit clicks a submit button and waits for the page that the form's
// response (a 303 redirect, or an error page) loads.
func (s *session) submit(button string) *network.Response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		s.t.Fatalf("submit %s (as %s): %v", button, s.login, err)
	}
	if res == nil {
		s.t.Fatalf("submit %s (as %s): no response", button, s.login)
	}
	return res
}

// signIn fills in the login form of the page that is open.
func (s *session) signIn(login string) {
	s.t.Helper()
	s.do("fill in the login form",
		chromedp.WaitVisible(chromedp.CSS(`form.login input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.login input[name="login"]`), login),
		chromedp.SendKeys(chromedp.CSS(`form.login input[name="password"]`), pw),
	)
	s.login = login
	if res := s.submit(`form.login button[type="submit"]`); res.Status != 200 {
		s.t.Fatalf("sign in as %s: status %d", login, res.Status)
	}
}

// path is the path of the page that is open, with its query.
func (s *session) path() string {
	s.t.Helper()
	return eval[string](s, `location.pathname + location.search`)
}

// text is the rendered text of the first element that matches sel.
func (s *session) text(sel string) string {
	s.t.Helper()
	return run(s, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// textContent is the text of every element matching sel, without layout.
func (s *session) textContent(sel string) string {
	s.t.Helper()
	return eval[string](s, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map(e => e.textContent).join("\n")`, jsString(sel)))
}

// count is how many elements match sel.
func (s *session) count(sel string) int {
	s.t.Helper()
	return eval[int](s, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// clippedControls lists the form controls of the page whose text is cut off
// or that stick out of their card: a broken layout a person cannot work with.
func (s *session) clippedControls() []string {
	s.t.Helper()
	return eval[[]string](s, `Array.from(document.querySelectorAll(
		"main button, main select, main input:not([type=hidden]):not([type=checkbox])")).filter(e => {
		const r = e.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) return false;
		const card = e.closest(".card");
		const c = card ? card.getBoundingClientRect() : null;
		return e.scrollWidth > e.clientWidth + 1 || (c && (r.left < c.left - 1 || r.right > c.right + 1));
	}).map(e => (e.closest("form") ? e.closest("form").getAttribute("action") + " " : "") +
		e.tagName.toLowerCase() + (e.name ? "[name=" + e.name + "]" : "") +
		" (" + Math.round(e.getBoundingClientRect().width) + " px wide, content " + e.scrollWidth + " px)")`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "<", `\x3c`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return `"` + r.Replace(s) + `"`
}

// artifacts is the directory that keeps the screenshots: $TANGGAP_ARTIFACTS
// when set, else a temporary directory of the test.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		dir = t.TempDir()
		t.Logf("screenshots in %s (removed after the test; set %s to keep them)", dir, artifactsEnv)
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s: %v", artifactsEnv, err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// screenshot saves a full-page PNG of the open page as dir/browser-name.png.
func (s *session) screenshot(dir, name string) {
	s.t.Helper()
	png := run(s, "screenshot "+name, chromedp.FullScreenshot(100))
	file := filepath.Join(dir, "browser-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot %s (%d bytes)", file, len(png))
}

// ingester writes posts into the fixture's store the way triage does.
type ingester struct {
	t      *testing.T
	f      *fixture
	clocks *workflow.Clocks
}

func newIngester(t *testing.T, f *fixture) *ingester {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return &ingester{t: t, f: f, clocks: clocks}
}

// ingest stores p as a complaint routed to opd, received age before the
// fixture's now, and returns its item id.
func (in *ingester) ingest(p tanggap.Post, opd string, age time.Duration) string {
	in.t.Helper()
	p.Platform = tanggap.PlatformX
	p.Account = "humasbekasikota"
	p.CreatedAt = in.f.now.Add(-age)
	p.CapturedAt = p.CreatedAt
	p.ThreadID = p.ID
	if _, err := in.f.st.Ingest(context.Background(), store.Ingest{
		Post: p, Kind: tanggap.KindComplaint, OPD: opd, Status: tanggap.StatusAssigned, Confidence: 0.9, Queued: true,
		Deadlines: in.clocks.Deadlines(p.CreatedAt, tanggap.KindComplaint, opd, false),
	}); err != nil {
		in.t.Fatalf("ingest %s: %v", p.ID, err)
	}
	return p.ItemID()
}

func TestChromiumGate(t *testing.T) {
	missing := os.ErrNotExist
	tests := []struct {
		name                   string
		statErr                error
		integration, ci, short bool
		wantRun, wantFail      bool
	}{
		{name: "present", wantRun: true},
		{name: "present, CI", ci: true, wantRun: true},
		{name: "present, integration", integration: true, ci: true, short: true, wantRun: true},
		{name: "present, -short", short: true},
		{name: "missing", statErr: missing},
		{name: "missing, CI go test ./...", statErr: missing, ci: true},
		{name: "missing, integration", statErr: missing, integration: true, wantFail: true},
		{name: "missing, integration under CI", statErr: missing, integration: true, ci: true, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, fail := chromiumGate(tt.statErr, tt.integration, tt.ci, tt.short)
			if run := msg == ""; run != tt.wantRun || fail != tt.wantFail {
				t.Errorf("run=%v fail=%v (%q), want run=%v fail=%v", run, fail, msg, tt.wantRun, tt.wantFail)
			}
			if tt.statErr != nil && !strings.Contains(msg, chromiumPath) {
				t.Errorf("message %q does not name %s", msg, chromiumPath)
			}
		})
	}
}
