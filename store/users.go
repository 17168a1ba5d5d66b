package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"golang.org/x/crypto/bcrypt"
)

// User is a person who signs in to the web UI.
type User struct {
	Login    string
	Name     string
	Role     string // see web.Role
	OPD      string
	Email    string // for the escalation digest; optional
	Disabled bool
	// TempPassword marks a password someone else set (an account
	// administrator's reset): its owner must replace it before doing
	// anything else. Written with every new password; the owner's own
	// change (ChangePassword) clears it.
	TempPassword bool
	// LastSignIn is when a session of the user last began (zero: never),
	// so that administrators see accounts nobody uses any more.
	LastSignIn time.Time
	// gen counts the user's password changes: a session carries the
	// generation it began in, so a new password (changed by its owner or
	// reset with `tanggap user reset`) ends every older session.
	gen string
}

var (
	loginRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)
	emailRE = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$`)
)

// systemActors are the actors the system writes changes as (the ingest
// script's "triage", workflow's "system" for automatic closing): no person
// may sign in as one, or their changes would read as the system's.
var systemActors = map[string]bool{"triage": true, "system": true}

// ValidLogin reports whether a login name is acceptable.
func ValidLogin(login string) bool { return loginRE.MatchString(login) }

func tokenHash(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:16])
}

// PutUser creates or updates a user; an empty password keeps the old one.
// Passwords are stored only as bcrypt hashes.
func (s *Store) PutUser(ctx context.Context, u User, password string, create bool) error {
	if !ValidLogin(u.Login) {
		return tanggap.Errorf(tanggap.EINVALID, "login must be 2-40 lower-case letters, digits, '.', '_' or '-'")
	}
	if create && systemActors[u.Login] {
		return tanggap.Errorf(tanggap.EINVALID, "login %q names the system in the audit history: choose another", u.Login)
	}
	exists, err := s.rdb.Exists(ctx, s.k.user(u.Login)).Result()
	if err != nil {
		return unavailable(err, "user")
	}
	if create && exists == 1 {
		return tanggap.Errorf(tanggap.ECONFLICT, "user %s already exists", u.Login)
	}
	if !create && exists == 0 {
		return tanggap.Errorf(tanggap.ENOTFOUND, "user %s not found", u.Login)
	}
	fields := map[string]any{"login": u.Login}
	if create {
		fields["disabled"] = b01(u.Disabled) // later only by SetDisabled
	}
	if u.Email != "" {
		if err := checkEmail(u.Email); err != nil {
			return err
		}
		fields["email"] = u.Email
	}
	if create || u.Name != "" {
		fields["name"] = u.Name
	}
	if create || u.Role != "" {
		fields["role"] = u.Role
		fields["opd"] = u.OPD
	}
	if password != "" {
		if len(password) < 10 || len(password) > 72 {
			return tanggap.Errorf(tanggap.EINVALID, "password must be 10 to 72 bytes")
		}
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
		if err != nil {
			return tanggap.WrapCode(tanggap.EINTERNAL, err, "hash password")
		}
		fields["pw"] = string(h)
		fields["temp"] = b01(u.TempPassword)
	} else if create {
		return tanggap.Errorf(tanggap.EINVALID, "a new user needs a password")
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.k.user(u.Login), fields)
	if password != "" {
		pipe.HIncrBy(ctx, s.k.user(u.Login), "gen", 1)
	}
	pipe.SAdd(ctx, s.k.users(), u.Login)
	_, err = pipe.Exec(ctx)
	return unavailable(err, "put user")
}

// checkEmail refuses what cannot be an e-mail address (the digest's).
func checkEmail(e string) error {
	if len(e) > 254 || !emailRE.MatchString(e) {
		return tanggap.Errorf(tanggap.EINVALID, "not an e-mail address: %q", e)
	}
	return nil
}

// EditUser sets an existing user's name, role, OPD and e-mail address (an
// empty one removes it), leaving the password and the disabled flag.
func (s *Store) EditUser(ctx context.Context, u User) error {
	if _, err := s.User(ctx, u.Login); err != nil {
		return err
	}
	if u.Email != "" {
		if err := checkEmail(u.Email); err != nil {
			return err
		}
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.k.user(u.Login), "name", u.Name, "role", u.Role, "opd", u.OPD)
	if u.Email != "" {
		pipe.HSet(ctx, s.k.user(u.Login), "email", u.Email)
	} else {
		pipe.HDel(ctx, s.k.user(u.Login), "email")
	}
	_, err := pipe.Exec(ctx)
	return unavailable(err, "edit user")
}

// ChangePassword sets a user's new password after checking the current
// one (a wrong one counts against the sign-in limits, as at sign-in), and
// ends every session the user had.
func (s *Store) ChangePassword(ctx context.Context, login, current, next, client string) error {
	if _, err := s.CheckPassword(ctx, login, current, client); err != nil {
		if errors.Is(err, ErrBadLogin) {
			return tanggap.Errorf(tanggap.EINVALID, "the current password is wrong")
		}
		return err
	}
	if next == current {
		return tanggap.Errorf(tanggap.EINVALID, "the new password must differ from the current one")
	}
	return s.PutUser(ctx, User{Login: login}, next, false)
}

// User returns a user by login.
func (s *Store) User(ctx context.Context, login string) (*User, error) {
	if !ValidLogin(login) {
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "user not found")
	}
	m, err := s.rdb.HGetAll(ctx, s.k.user(login)).Result()
	if err != nil {
		return nil, unavailable(err, "user")
	}
	if len(m) == 0 {
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "user %s not found", login)
	}
	return &User{Login: m["login"], Name: m["name"], Role: m["role"], OPD: m["opd"], Email: m["email"], Disabled: m["disabled"] == "1",
		TempPassword: m["temp"] == "1", LastSignIn: msTime(m["last_login_ms"]), gen: m["gen"]}, nil
}

// Users lists every user.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	logins, err := s.rdb.SMembers(ctx, s.k.users()).Result()
	if err != nil {
		return nil, unavailable(err, "users")
	}
	out := make([]User, 0, len(logins))
	for _, l := range logins {
		u, err := s.User(ctx, l)
		if err != nil {
			if tanggap.ErrorCode(err) == tanggap.ENOTFOUND {
				continue
			}
			return nil, err
		}
		out = append(out, *u)
	}
	return out, nil
}

// UserChange is one change to an account, for the account administrators'
// record of who changed what. It never holds a password.
type UserChange struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`     // who made it: a login, or "(cli)" for `tanggap user` (no login has parentheses)
	Action string    `json:"action"` // add, edit, reset, disable, enable, password (its owner's own change)
	Login  string    `json:"login"`  // whose account
	Detail string    `json:"detail,omitempty"`
}

// userLogKeep is how many account changes the record keeps.
const userLogKeep = 500

// LogUserChange adds a change to the record of account changes (the newest
// 500 are kept); At is set to now when zero.
func (s *Store) LogUserChange(ctx context.Context, c UserChange) error {
	if c.At.IsZero() {
		c.At = s.now()
	}
	b, err := json.Marshal(c)
	if err != nil {
		return tanggap.WrapCode(tanggap.EINTERNAL, err, "encode user change")
	}
	pipe := s.rdb.TxPipeline()
	pipe.LPush(ctx, s.k.usersLog(), b)
	pipe.LTrim(ctx, s.k.usersLog(), 0, userLogKeep-1)
	_, err = pipe.Exec(ctx)
	return unavailable(err, "log user change")
}

// UserChanges returns the newest account changes, newest first.
func (s *Store) UserChanges(ctx context.Context, limit int64) ([]UserChange, error) {
	raw, err := s.rdb.LRange(ctx, s.k.usersLog(), 0, limit-1).Result()
	if err != nil {
		return nil, unavailable(err, "user changes")
	}
	out := make([]UserChange, 0, len(raw))
	for _, r := range raw {
		var c UserChange
		if err := json.Unmarshal([]byte(r), &c); err != nil {
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode user change")
		}
		out = append(out, c)
	}
	return out, nil
}

// Once sets a marker key if absent (SET NX), for "do this once" across
// processes (e.g. one digest per OPD per day). name comes from code.
func (s *Store) Once(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.k.marker(name), 1, ttl).Result()
	return ok, unavailable(err, "once")
}

// Keep sets a marker key, overwriting it.
func (s *Store) Keep(ctx context.Context, name string, ttl time.Duration) error {
	return unavailable(s.rdb.Set(ctx, s.k.marker(name), 1, ttl).Err(), "keep")
}

// SetDisabled disables or enables a user and ends their sessions on next use.
func (s *Store) SetDisabled(ctx context.Context, login string, disabled bool) error {
	if _, err := s.User(ctx, login); err != nil {
		return err
	}
	return unavailable(s.rdb.HSet(ctx, s.k.user(login), "disabled", b01(disabled)).Err(), "disable user")
}

// ErrBadLogin is returned for a wrong login or password (never saying which).
var ErrBadLogin = tanggap.Errorf(tanggap.EUNAUTHORIZED, "wrong login or password")

// LoginLimit is how many failed sign-ins a login (or a client address)
// may make per window before sign-in is refused for it.
const (
	LoginLimit       = 5
	LoginLimitClient = 20
	LoginWindow      = 15 * time.Minute
)

// CheckPassword verifies a sign-in attempt, counting attempts per login and
// per client address; over the limit it fails with ERATELIMIT without
// checking the password. The attempt is counted before the password is
// checked (a success gives it back), so that attempts sent in parallel,
// each while the others are still in bcrypt, are counted all the same.
func (s *Store) CheckPassword(ctx context.Context, login, password, client string) (*User, error) {
	fl, fc := s.k.loginFails("l:"+login), s.k.loginFails("c:"+client)
	pipe := s.rdb.TxPipeline()
	nl := pipe.Incr(ctx, fl)
	pipe.ExpireNX(ctx, fl, LoginWindow) // the window starts at the first attempt
	nc := pipe.Incr(ctx, fc)
	pipe.ExpireNX(ctx, fc, LoginWindow)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "login limit")
	}
	if nl.Val() > LoginLimit {
		return nil, tanggap.Errorf(tanggap.ERATELIMIT, "too many failed sign-ins for this login: wait 15 minutes")
	}
	if nc.Val() > LoginLimitClient {
		return nil, tanggap.Errorf(tanggap.ERATELIMIT, "too many failed sign-ins from this address: wait 15 minutes")
	}
	fail := func() (*User, error) { return nil, ErrBadLogin }
	if !ValidLogin(login) {
		return fail()
	}
	hash, err := s.rdb.HGet(ctx, s.k.user(login), "pw").Result()
	if errors.Is(err, redis.Nil) {
		// Spend the same time as a real check so timing does not reveal logins.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$iCLc1EbAIzFNk1hzazGg8udmoY5o2IxAGa2BkmrBsCqTmU/9oyoVO"), []byte(password))
		return fail()
	}
	if err != nil {
		return nil, unavailable(err, "login")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return fail()
	}
	u, err := s.User(ctx, login)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return fail()
	}
	// A success clears its login's count and gives its address the attempt
	// back. A failure here leaves one attempt counted: reported, not fatal.
	p := s.rdb.TxPipeline()
	p.Del(ctx, fl)
	p.Decr(ctx, fc)
	if _, err := p.Exec(ctx); err != nil {
		return nil, unavailable(err, "login limit")
	}
	return u, nil
}

// NewSession starts a session and returns its token (only its hash is kept).
func (s *Store) NewSession(ctx context.Context, login string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", tanggap.WrapCode(tanggap.EINTERNAL, err, "session token")
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	gen, err := s.rdb.HGet(ctx, s.k.user(login), "gen").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", unavailable(err, "new session")
	}
	pipe := s.rdb.TxPipeline()
	pipe.Set(ctx, s.k.session(tok), login+" "+gen, ttl)
	pipe.HSet(ctx, s.k.user(login), "last_login_ms", s.now().UnixMilli())
	if _, err := pipe.Exec(ctx); err != nil {
		return "", unavailable(err, "new session")
	}
	return tok, nil
}

// SessionUser returns the enabled user of a session token.
func (s *Store) SessionUser(ctx context.Context, token string) (*User, error) {
	if token == "" || len(token) > 100 {
		return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "no session")
	}
	login, err := s.rdb.Get(ctx, s.k.session(token)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "session expired")
	}
	if err != nil {
		return nil, unavailable(err, "session")
	}
	// "<login> <generation>". A session begun before generations existed
	// holds the login alone: it stays valid until the password changes.
	login, gen, _ := strings.Cut(login, " ")
	u, err := s.User(ctx, login)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "user disabled")
	}
	if gen != u.gen {
		return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "session ended by a new password")
	}
	return u, nil
}

// EndSession deletes a session.
func (s *Store) EndSession(ctx context.Context, token string) error {
	return unavailable(s.rdb.Del(ctx, s.k.session(token)).Err(), "end session")
}
