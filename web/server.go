// Package web serves the OPD queues, item pages and actions in Bahasa
// Indonesia (English on request), the JSON API, /metrics and the health
// endpoints. Pages are html/template with embedded assets: no JS build.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/open311"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the web layer needs from the store.
type Store interface {
	Ping(ctx context.Context) error
	Item(ctx context.Context, id string) (*tanggap.Item, error)
	ItemsByID(ctx context.Context, ids []string) ([]tanggap.Item, error)
	ClusterMembers(ctx context.Context, root string, limit int64) ([]string, error)
	Nearby(ctx context.Context, opds []string, place string, at time.Time) ([]store.NearCandidate, error)
	Items(ctx context.Context, q store.ItemQuery) (*store.ItemList, error)
	Queue(ctx context.Context, opd string, pg store.QueuePage) (*store.Queue, error)
	Search(ctx context.Context, q store.SearchQuery) (*store.SearchResult, error)
	History(ctx context.Context, id string) ([]tanggap.Event, error)
	OpenCounts(ctx context.Context, opds []string, now time.Time) (map[string]map[tanggap.DeadlineState]int64, error)
	Aging(ctx context.Context, opd string, bounds []time.Time) ([]int64, int64, error)
	Routing(ctx context.Context) (map[string]store.RoutingStats, error)
	Corrections(ctx context.Context, limit int64) ([]store.Correction, error)
}

// Workflow carries out actions on items (workflow.Service).
type Workflow interface {
	Do(ctx context.Context, a workflow.Actor, r workflow.Request) (*tanggap.Item, error)
	Bulk(ctx context.Context, a workflow.Actor, ids []string, r workflow.Request) ([]workflow.BulkResult, error)
	Extension(it *tanggap.Item) (days int, basis string)
}

// Options configure a Server.
type Options struct {
	Config   *config.Config
	Store    Store
	Workflow Workflow
	Clocks   *workflow.Clocks
	Auth     Authenticator
	Log      *slog.Logger
	Registry *prometheus.Registry // served on /metrics; HTTP metrics are registered on it
	Now      func() time.Time
	// Ready reports whether every dependency answers (for /readyz).
	Ready func(ctx context.Context) error
	// Coverage lists collectors' blind spots for the banner; may be nil.
	Coverage func(ctx context.Context) []Gap
	// Sessions enables sign-in with the session cookie (SessionAuth); when
	// nil, Auth alone decides (tests).
	Sessions Sessions
	// SecureCookies marks the session cookie Secure even without TLS here
	// (behind a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client that sign-in limits count against (see clientAddr).
	TrustedProxies []netip.Prefix
	// Accounts enables account administration (/pengguna); nil leaves
	// accounts to `tanggap user`.
	Accounts Accounts
	// Open311Public opens the read-only Open311 endpoint without sign-in.
	Open311Public bool
}

// Gap is one account a collector has not seen for a while, for the banner.
type Gap struct {
	Platform tanggap.Platform
	Account  string
	Since    time.Time
	Reason   string // api_error, rate_limited, token_expired, publish_failed, posts_unreachable, backlog, partial
}

// Server is the HTTP side of Tanggap.
type Server struct {
	opt  Options
	tmpl map[string]*template.Template
	mux  *http.ServeMux
	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec
	csrf *http.CrossOriginProtection
	loc  *time.Location
}

// New builds the server and registers its metrics.
func New(opt Options) (*Server, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, mux: http.NewServeMux(), loc: opt.Config.Location()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tanggap_http_request_duration_seconds", Help: "HTTP request time by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	opt.Registry.MustRegister(s.reqs, s.dur)
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.csrf = http.NewCrossOriginProtection()
	if opt.Sessions != nil {
		if s.opt.Auth == nil {
			s.opt.Auth = SessionAuth{S: opt.Sessions}
		}
		s.loginRoutes(opt.Sessions)
	}
	if opt.Accounts != nil {
		s.userRoutes(opt.Accounts)
	}
	if s.opt.Auth == nil {
		return nil, errors.New("web: no authenticator")
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.handle("GET /static/", "static", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.handle("GET /metrics", "metrics", promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{Registry: s.opt.Registry}))
	s.handle("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	s.handle("GET /readyz", "readyz", http.HandlerFunc(s.readyz))

	// Everyone signs in to "/" unless a page sent them, the operator too,
	// who sees no citizen data: their page is account administration.
	s.signedIn("GET /{$}", "home", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		if p.Role == RoleOperator {
			to := "/akun"
			if s.opt.Accounts != nil {
				to = "/pengguna"
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return nil
		}
		return citizenData(s.home)(w, r, p)
	})
	s.page("GET /antrian/{opd}", "queue", s.queue)
	s.page("GET /item/{id}", "item", s.item)
	s.page("GET /cari", "search", s.search)
	s.page("GET /antrian/{opd}/daftar", "queue_rows", s.queueRows)
	s.page("GET /koreksi.csv", "corrections", s.correctionsCSV)
	s.page("POST /item/{id}/{action}", "action", s.action)
	s.page("POST /antrian/{opd}/massal", "bulk", s.bulk)
	s.api("GET /api/v1/items", "api_items", s.apiItems)
	s.api("GET /api/v1/items/{id}", "api_item", s.apiItem)
	s.reportRoutes()
	s.handle("GET /api/v1/openapi.yaml", "api_openapi", openAPIHandler())
	s.handle("/open311/v2/", "open311", open311.New(open311.Options{Items: s.opt.Store, Config: s.opt.Config, Log: s.opt.Log,
		Now: s.opt.Now, Public: s.opt.Open311Public, Access: func(r *http.Request) ([]string, error) {
			switch p, err := s.opt.Auth.Principal(r); {
			case err != nil:
				return nil, err
			case !p.SeesCitizenData():
				return nil, tanggap.Errorf(tanggap.EFORBIDDEN, "this role has no access to citizen data")
			case p.CitywideAccess():
				return nil, nil
			case p.OPD == "":
				return []string{}, nil // sees no OPD's items (CanSeeOPD)
			default:
				return []string{p.OPD}, nil // an OPD's own staff: its items only, as everywhere
			}
		}}))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// statusWriter records the status code for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int)           { w.code = c; w.ResponseWriter.WriteHeader(c) }
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) handle(pattern, route string, h http.Handler) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		sw.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(sw, r)
		s.reqs.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.dur.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}))
}

// page registers an HTML route that needs a signed-in person who may read
// citizen data; state-changing methods are CSRF-protected.
func (s *Server) page(pattern, route string, fn func(w http.ResponseWriter, r *http.Request, p *Principal) error) {
	s.signedIn(pattern, route, citizenData(fn))
}

// citizenData refuses fn to a principal who may not read citizen data.
func citizenData(fn func(w http.ResponseWriter, r *http.Request, p *Principal) error) func(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		if !p.SeesCitizenData() {
			return tanggap.Errorf(tanggap.EFORBIDDEN, "this role has no access to citizen data")
		}
		return fn(w, r, p)
	}
}

// signedIn registers an HTML route that needs a signed-in person of any
// role (their own account page); state-changing methods are
// CSRF-protected.
func (s *Server) signedIn(pattern, route string, fn func(w http.ResponseWriter, r *http.Request, p *Principal) error) {
	s.handle(pattern, route, s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("X-Frame-Options", "DENY")
		p, err := s.opt.Auth.Principal(r)
		if tanggap.ErrorCode(err) == tanggap.EUNAUTHORIZED {
			http.Redirect(w, r, "/masuk?next="+urlQueryEscape(signInNext(r)), http.StatusSeeOther)
			return
		}
		if err != nil {
			// The session could not be checked: the person may well be
			// signed in, so they get the error page, not the sign-in form.
			s.renderError(w, r, nil, err)
			return
		}
		if p.TempPassword && r.URL.Path != "/akun" {
			http.Redirect(w, r, "/akun", http.StatusSeeOther)
			return
		}
		if err := fn(w, r.WithContext(withPrincipal(r.Context(), p)), p); err != nil {
			s.renderError(w, r, p, err)
		}
	})))
}

// signInNext is where signing in returns to: the page asked for, or, for
// a form sent after the session ended (the browser would GET the form's
// action, a POST-only route), the page the form was on: the same-site
// Referer, else the page above the action (/item/x:1 for
// /item/x:1/answer). The sign-in handler checks it is a local path too.
func signInNext(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && u.Path != "/masuk" && localPath(u.RequestURI()) {
		return u.RequestURI()
	}
	if p := r.URL.EscapedPath(); strings.LastIndex(p, "/") > 0 {
		return p[:strings.LastIndex(p, "/")]
	}
	return "/"
}

// api registers a JSON route.
func (s *Server) api(pattern, route string, fn func(w http.ResponseWriter, r *http.Request, p *Principal) error) {
	s.handle(pattern, route, s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.opt.Auth.Principal(r)
		switch {
		case tanggap.ErrorCode(err) == tanggap.EUNAUTHORIZED:
			err = tanggap.Errorf(tanggap.EUNAUTHORIZED, "sign in first")
		case err != nil: // the session could not be checked: 503, not 401
		case p.TempPassword:
			err = tanggap.Errorf(tanggap.EFORBIDDEN, "replace the temporary password on the account page first")
		case !p.SeesCitizenData():
			err = tanggap.Errorf(tanggap.EFORBIDDEN, "this role has no access to citizen data")
		default:
			err = fn(w, r.WithContext(withPrincipal(r.Context(), p)), p)
		}
		if err != nil {
			code := httpStatus(err)
			if code >= 500 {
				s.opt.Log.Error("api_failed", "route", route, "err", err)
			}
			writeJSON(w, code, map[string]string{"error": tanggap.ErrorCode(err), "message": publicMessage(err)})
		}
	})))
}

// httpStatus is the one place error codes become HTTP statuses.
func httpStatus(err error) int {
	switch tanggap.ErrorCode(err) {
	case tanggap.EINVALID:
		return http.StatusBadRequest
	case tanggap.ENOTFOUND:
		return http.StatusNotFound
	case tanggap.ECONFLICT:
		return http.StatusConflict
	case tanggap.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tanggap.EFORBIDDEN:
		return http.StatusForbidden
	case tanggap.ERATELIMIT:
		return http.StatusTooManyRequests
	case tanggap.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// shown is err's *tanggap.Error when people may read its message (an
// error of theirs), nil for a failure of ours, whose details stay in the
// log. The API (publicMessage) and the pages (pageMessage) both ask it.
func shown(err error) *tanggap.Error {
	var te *tanggap.Error
	if errors.As(err, &te) && httpStatus(err) < 500 {
		return te
	}
	return nil
}

// publicMessage hides internal details of unexpected errors.
func publicMessage(err error) string {
	if te := shown(err); te != nil {
		return te.Message
	}
	if tanggap.ErrorCode(err) == tanggap.EUNAVAILABLE {
		return "temporarily unavailable: try again shortly"
	}
	return "internal error"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	check := s.opt.Ready
	if check == nil {
		check = s.opt.Store.Ping
	}
	if err := check(ctx); err != nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20", "?", "%3F").Replace(s)
}
