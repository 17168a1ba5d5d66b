package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// Sessions is the store side of sign-in.
type Sessions interface {
	CheckPassword(ctx context.Context, login, password, client string) (*store.User, error)
	NewSession(ctx context.Context, login string, ttl time.Duration) (string, error)
	SessionUser(ctx context.Context, token string) (*store.User, error)
	EndSession(ctx context.Context, token string) error
	ChangePassword(ctx context.Context, login, current, next, client string) error
}

const (
	sessionCookie = "tanggap_session"
	sessionTTL    = 12 * time.Hour
)

// SessionAuth authenticates requests by the session cookie.
type SessionAuth struct {
	S Sessions
}

// Principal implements Authenticator.
func (a SessionAuth) Principal(r *http.Request) (*Principal, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "no session")
	}
	u, err := a.S.SessionUser(r.Context(), c.Value)
	switch tanggap.ErrorCode(err) {
	case "":
		return &Principal{Login: u.Login, Name: u.Name, Role: Role(u.Role), OPD: u.OPD, TempPassword: u.TempPassword}, nil
	case tanggap.EUNAUTHORIZED:
		return nil, err
	case tanggap.ENOTFOUND: // the session's user was deleted
		return nil, tanggap.WrapCode(tanggap.EUNAUTHORIZED, err, "no session")
	}
	return nil, err
}

func (s *Server) loginRoutes(sess Sessions) {
	s.handle("GET /masuk", "login", s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.loginPage(w, r, http.StatusOK, "")
	})))
	s.handle("POST /masuk", "login", s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		login := strings.ToLower(strings.TrimSpace(r.PostFormValue("login")))
		u, err := sess.CheckPassword(r.Context(), login, r.PostFormValue("password"), clientAddr(r, s.opt.TrustedProxies))
		if err != nil {
			code := httpStatus(err)
			if code >= 500 {
				s.opt.Log.Error("login_failed", "err", err)
			} else {
				s.opt.Log.Info("login_refused", "code", tanggap.ErrorCode(err))
			}
			s.loginPage(w, r, code, errorText(err, lang(r)))
			return
		}
		if err := s.startSession(w, r, sess, u.Login); err != nil {
			s.opt.Log.Error("session_failed", "err", err)
			s.loginPage(w, r, http.StatusServiceUnavailable, errorText(err, lang(r)))
			return
		}
		s.opt.Log.Info("login_ok", "login", u.Login)
		next := r.PostFormValue("next")
		if !localPath(next) {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})))
	s.handle("POST /keluar", "logout", s.csrf.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.endSession(r, sess)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/masuk", http.StatusSeeOther)
	})))
	s.signedIn("GET /akun", "account", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		return s.render(w, r, "account", map[string]any{"Msg": r.URL.Query().Get("ok")})
	})
	s.signedIn("POST /akun", "account", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		next := r.PostFormValue("new")
		if next != r.PostFormValue("confirm") {
			return tanggap.Errorf(tanggap.EINVALID, "the two new passwords differ")
		}
		if err := sess.ChangePassword(r.Context(), p.Login, r.PostFormValue("current"), next, clientAddr(r, s.opt.TrustedProxies)); err != nil {
			s.opt.Log.Info("password_change_refused", "login", p.Login, "code", tanggap.ErrorCode(err))
			return err
		}
		// Every session of the account ended with the old password (its
		// own key goes now, the others' when they expire); this browser
		// gets a new one.
		s.endSession(r, sess)
		if err := s.startSession(w, r, sess, p.Login); err != nil {
			return err
		}
		s.logAccount(r.Context(), s.opt.Accounts, p, "password", p.Login, "")
		http.Redirect(w, r, "/akun?ok=1", http.StatusSeeOther)
		return nil
	})
}

// endSession ends the session of this browser's cookie, if it has one. A
// failure is logged: the caller goes on (sign-out clears the cookie
// anyway, a password change has made the session useless already).
func (s *Server) endSession(r *http.Request, sess Sessions) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := sess.EndSession(r.Context(), c.Value); err != nil {
			s.opt.Log.Error("end_session_failed", "err", err)
		}
	}
}

// startSession begins a session for login and gives this browser its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, sess Sessions, login string) error {
	tok, err := sess.NewSession(r.Context(), login, sessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil || s.opt.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL / time.Second)})
	return nil
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	if err := s.renderCode(w, r, "login", code, map[string]any{"Error": msg, "Next": next}); err != nil {
		s.opt.Log.Error("render_login_failed", "err", err)
	}
}

// localPath reports whether a redirect target from a form is a path of
// this site (never another host: no scheme, no "//").
func localPath(p string) bool {
	u, err := url.Parse(p)
	return err == nil && p != "" && !u.IsAbs() && u.Host == "" && strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.Contains(p, `\`)
}

// clientAddr is the address that sign-in limits count against: the peer's,
// or, when the peer is one of the trusted reverse proxies, the nearest
// address in X-Forwarded-For that is not one of them (a client can write
// any X-Forwarded-For; only what the proxies appended counts). Behind a
// proxy without this, every sign-in would share the proxy's address and
// its limit.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(s)
		return err == nil && slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) })
	}
	if !isTrusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(h); err != nil {
			return host // not a list a trusted proxy wrote: count against the proxy
		}
		if !isTrusted(h) {
			return h
		}
	}
	return host
}
