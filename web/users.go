package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// Account administration (/pengguna): the operator keeps every account,
// the PPID Utama the OPDs' (people move between departments more often
// than the IT team can be asked). Nobody changes their own account here:
// that is /akun, which asks for the current password.

// Accounts is the store side of account administration.
type Accounts interface {
	Users(ctx context.Context) ([]store.User, error)
	User(ctx context.Context, login string) (*store.User, error)
	PutUser(ctx context.Context, u store.User, password string, create bool) error
	EditUser(ctx context.Context, u store.User) error
	SetDisabled(ctx context.Context, login string, disabled bool) error
	LogUserChange(ctx context.Context, c store.UserChange) error
	UserChanges(ctx context.Context, limit int64) ([]store.UserChange, error)
}

// Roles lists every role, in the order forms offer them.
var Roles = []Role{RoleOPDAdmin, RolePPIDPelaksana, RolePPIDUtama, RoleOperator}

// ManagesUsers reports whether the principal administers accounts.
func (p *Principal) ManagesUsers() bool { return p.Role == RoleOperator || p.Role == RolePPIDUtama }

// MayManage reports whether the principal may add or change an account of
// role r: the operator any, the PPID Utama the OPD-bound ones (a city-wide
// account reads every OPD's citizens or runs the system).
func (p *Principal) MayManage(r Role) bool {
	switch p.Role {
	case RoleOperator:
		return true
	case RolePPIDUtama:
		return r == RoleOPDAdmin || r == RolePPIDPelaksana
	}
	return false
}

// CheckRole validates a role and its OPD: the OPD-bound roles need one of
// the city's OPDs, the city-wide ones none.
func CheckRole(cfg *config.Config, r Role, opd string) error {
	switch r {
	case RoleOPDAdmin, RolePPIDPelaksana:
		if _, ok := cfg.OPD(opd); !ok {
			return tanggap.Errorf(tanggap.EINVALID, "role %s needs one of the city's OPDs, got %q", r, opd)
		}
	case RolePPIDUtama, RoleOperator:
		if opd != "" {
			return tanggap.Errorf(tanggap.EINVALID, "role %s is city-wide: it has no OPD", r)
		}
	default:
		return tanggap.Errorf(tanggap.EINVALID, "unknown role %q (opd_admin, ppid_pelaksana, ppid_utama, operator)", r)
	}
	return nil
}

// cityWide reports whether a role sees past one OPD.
func cityWide(r Role) bool { return r == RolePPIDUtama || r == RoleOperator }

// TempPassword makes a password for an administrator to hand over: 12
// characters in three groups from 31 that cannot be mistaken for one
// another (about 59 bits). Its owner must replace it at first sign-in.
func TempPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b strings.Builder
	for i := range 12 {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", tanggap.WrapCode(tanggap.EINTERNAL, err, "temporary password")
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String(), nil
}

// manager registers an account administration route: signedIn, for the
// roles that manage accounts only (as page is for those who read citizen
// data).
func (s *Server) manager(pattern, route string, fn func(w http.ResponseWriter, r *http.Request, p *Principal) error) {
	s.signedIn(pattern, route, func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		if !p.ManagesUsers() {
			return tanggap.Errorf(tanggap.EFORBIDDEN, "this role does not manage accounts")
		}
		return fn(w, r, p)
	})
}

func (s *Server) userRoutes(a Accounts) {
	s.manager("GET /pengguna", "users", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		return s.usersPage(w, r, p, a, http.StatusOK, nil)
	})
	s.manager("POST /pengguna", "users", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		u, err := s.accountForm(r, p)
		if err != nil {
			return s.usersPage(w, r, p, a, httpStatus(err), err)
		}
		pw, err := TempPassword()
		if err != nil {
			return err
		}
		u.TempPassword = true
		if err := a.PutUser(r.Context(), u, pw, true); err != nil {
			return s.usersPage(w, r, p, a, httpStatus(err), err)
		}
		s.logAccount(r.Context(), a, p, "add", u.Login, accountDetail(u))
		return s.userPage(w, r, a, u.Login, map[string]any{"Password": pw, "Done": "ok_user_added"})
	})
	s.manager("GET /pengguna/{login}", "user", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		u, err := s.managed(r, p, a)
		if err != nil {
			return err
		}
		if u.Login == p.Login {
			http.Redirect(w, r, "/akun", http.StatusSeeOther)
			return nil
		}
		data := map[string]any{}
		if ok := r.URL.Query().Get("ok"); ok == "edit" || ok == "disable" || ok == "enable" {
			data["Done"] = "ok_user_" + ok
		}
		return s.userPage(w, r, a, u.Login, data)
	})
	s.manager("POST /pengguna/{login}", "user", func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		u, err := s.managed(r, p, a)
		if err != nil {
			return err
		}
		if u.Login == p.Login {
			return tanggap.Errorf(tanggap.EFORBIDDEN, "change your own account on the account page")
		}
		ctx := r.Context()
		action := r.PostFormValue("action")
		switch action {
		case "edit":
			next, err := s.accountForm(r, p)
			if err != nil {
				return err
			}
			next.Login = u.Login
			if err := a.EditUser(ctx, next); err != nil {
				return err
			}
			s.logAccount(ctx, a, p, action, u.Login, accountDetail(next))
		case "reset":
			pw, err := TempPassword()
			if err != nil {
				return err
			}
			// A new password ends every session of the account.
			if err := a.PutUser(ctx, store.User{Login: u.Login, TempPassword: true}, pw, false); err != nil {
				return err
			}
			s.logAccount(ctx, a, p, action, u.Login, "")
			return s.userPage(w, r, a, u.Login, map[string]any{"Password": pw, "Done": "ok_user_reset"})
		case "disable", "enable":
			if err := a.SetDisabled(ctx, u.Login, action == "disable"); err != nil {
				return err
			}
			s.logAccount(ctx, a, p, action, u.Login, "")
		default:
			return tanggap.Errorf(tanggap.EINVALID, "unknown action %q", action)
		}
		http.Redirect(w, r, "/pengguna/"+url.PathEscape(u.Login)+"?ok="+action, http.StatusSeeOther)
		return nil
	})
}

// managed is the account named in the path, if the principal may manage it.
func (s *Server) managed(r *http.Request, p *Principal, a Accounts) (*store.User, error) {
	u, err := a.User(r.Context(), r.PathValue("login"))
	if err != nil {
		return nil, err
	}
	if u.Login != p.Login && !p.MayManage(Role(u.Role)) {
		return nil, tanggap.Errorf(tanggap.EFORBIDDEN, "your role cannot manage %s accounts", u.Role)
	}
	return u, nil
}

// accountForm reads the account fields of the add and edit forms and
// checks that the principal, who manages accounts, may give the role.
func (s *Server) accountForm(r *http.Request, p *Principal) (store.User, error) {
	u := store.User{
		Login: strings.ToLower(strings.TrimSpace(r.PostFormValue("login"))),
		Name:  strings.TrimSpace(r.PostFormValue("name")),
		Role:  r.PostFormValue("role"),
		OPD:   r.PostFormValue("opd"),
		Email: strings.TrimSpace(r.PostFormValue("email")),
	}
	if u.Name == "" || utf8.RuneCountInString(u.Name) > 100 || !utf8.ValidString(u.Name) {
		return u, tanggap.Errorf(tanggap.EINVALID, "a name of 1 to 100 characters is required")
	}
	if cityWide(Role(u.Role)) {
		u.OPD = "" // the form's OPD list stays on whatever was chosen last
	}
	if err := CheckRole(s.opt.Config, Role(u.Role), u.OPD); err != nil {
		return u, err
	}
	if !p.MayManage(Role(u.Role)) {
		return u, tanggap.Errorf(tanggap.EFORBIDDEN, "your role cannot manage %s accounts", u.Role)
	}
	return u, nil
}

func accountDetail(u store.User) string {
	if u.OPD != "" {
		return u.Role + " " + u.OPD
	}
	return u.Role
}

// logAccount records an account change (in the log alone when a is nil).
// The change is made already: a failure to record it is logged, not shown
// as the change failing.
func (s *Server) logAccount(ctx context.Context, a Accounts, p *Principal, action, login, detail string) {
	s.opt.Log.Info("user_changed", "by", p.Login, "action", action, "login", login, "detail", detail)
	if a == nil {
		return
	}
	if err := a.LogUserChange(ctx, store.UserChange{By: p.Login, Action: action, Login: login, Detail: detail}); err != nil {
		s.opt.Log.Error("user_change_log_failed", "err", err)
	}
}

// accountRow is one account as the list shows it.
type accountRow struct {
	store.User
	Manageable bool
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, p *Principal, a Accounts, code int, formErr error) error {
	ctx := r.Context()
	users, err := a.Users(ctx)
	if err != nil {
		return err
	}
	changes, err := a.UserChanges(ctx, 50)
	if err != nil {
		return err
	}
	// City-wide accounts first, then by OPD as the city lists them.
	order := map[string]int{"": -1}
	for i, o := range s.opt.Config.OPDs {
		order[o.Code] = i
	}
	slices.SortFunc(users, func(x, y store.User) int {
		return cmp.Or(cmp.Compare(order[x.OPD], order[y.OPD]), cmp.Compare(x.Login, y.Login))
	})
	rows := make([]accountRow, len(users))
	for i, u := range users {
		rows[i] = accountRow{User: u, Manageable: u.Login != p.Login && p.MayManage(Role(u.Role))}
	}
	data := map[string]any{"Users": rows, "Changes": changes, "Roles": s.grantable(p), "OPDs": s.opt.Config.OPDs, "Form": r.PostForm}
	if formErr != nil {
		if shown(formErr) == nil {
			return formErr
		}
		data["FormError"] = errorText(formErr, lang(r))
	}
	return s.renderCode(w, r, "users", code, data)
}

// grantable is the roles the principal may give.
func (s *Server) grantable(p *Principal) []Role {
	var out []Role
	for _, r := range Roles {
		if p.MayManage(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, a Accounts, login string, data map[string]any) error {
	u, err := a.User(r.Context(), login)
	if err != nil {
		return err
	}
	data["User"] = u
	data["Form"] = url.Values{"role": {u.Role}, "opd": {u.OPD}, "email": {u.Email}}
	data["Roles"] = s.grantable(principal(r))
	data["OPDs"] = s.opt.Config.OPDs
	return s.render(w, r, "user", data)
}
