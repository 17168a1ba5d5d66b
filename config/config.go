// Package config loads a city's configuration: its OPDs, the official
// accounts Tanggap watches and which OPD owns each, the clock policy and the
// triage thresholds. A broken file fails with the file, line and field.
package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/tanggap/tanggap"
)

//go:embed cities/*.yaml
var cities embed.FS

// DefaultCity is the city config used when none is given.
const DefaultCity = "cities/bekasi.yaml"

// Owners that are not OPDs: the city's own accounts (run by PPID Utama/Humas)
// and the mayor's. Replies from them are credited to the city.
const (
	OwnerCity  = "city"
	OwnerMayor = "mayor"
)

// Config is one city's configuration.
type Config struct {
	City      City      `yaml:"city"`
	Clocks    Clocks    `yaml:"clocks"`
	Triage    Triage    `yaml:"triage"`
	Retention Retention `yaml:"retention"`
	OPDs      []OPD     `yaml:"opds"`
	Accounts  []Account `yaml:"accounts"`

	loc      *time.Location
	opdIndex map[string]int
	accIndex map[string]int // platform + "\x00" + lower(handle) or id
}

type City struct {
	Code     string `yaml:"code"`
	Name     string `yaml:"name"`
	Timezone string `yaml:"timezone"`
}

// Clocks is the clock policy. HK counts are working days.
type Clocks struct {
	FirstResponse          Duration `yaml:"first_response"`
	FirstResponseUrgent    Duration `yaml:"first_response_urgent"`
	DueSoon                Duration `yaml:"due_soon"`
	RoutingHK              int      `yaml:"routing_hk"`
	FollowupHK             int      `yaml:"followup_hk"`
	ResolutionHK           int      `yaml:"resolution_hk"`
	ResolutionFieldCheckHK int      `yaml:"resolution_field_check_hk"`
	AutocloseHK            int      `yaml:"autoclose_hk"`
	InfoRequestHK          int      `yaml:"info_request_hk"`
	InfoRequestExtensionHK int      `yaml:"info_request_extension_hk"`
	// HoldExpireHK closes an item on hold (waiting for its citizen's
	// details) after this many working days without an answer; 0, the
	// default, keeps it on hold until a person acts: the city's choice.
	HoldExpireHK            int         `yaml:"hold_expire_hk"`
	CutiBersamaIsNonworking *bool       `yaml:"cuti_bersama_is_nonworking"` // default true: use CutiBersamaNonworking
	OfficeHours             OfficeHours `yaml:"office_hours"`
	// PerOPD overrides the first-response clock for one OPD.
	PerOPD map[string]Duration `yaml:"per_opd"`
}

type OfficeHours struct {
	Start string `yaml:"start"` // "08:00"
	End   string `yaml:"end"`
}

type Triage struct {
	MinConfidence float64 `yaml:"min_confidence"`
	PJUOwner      string  `yaml:"pju_owner"`
	FallbackOPD   string  `yaml:"fallback_opd"`
}

// Retention is how long Redis keeps the items that ended.
type Retention struct {
	// EndedDays makes tanggap triage remove, every night from 02:00 city
	// time, the items that ended (closed, archived, out of scope,
	// duplicate) before the start of the day that many days ago, by
	// tanggap prune's rule. 0 (the default) keeps every item until an
	// operator runs tanggap prune; otherwise at least MinRetentionDays.
	EndedDays int `yaml:"ended_days"`
}

// MinRetentionDays is the shortest retention: the last quarter's reports
// and every citizen window stay whole (tanggap prune's own limit).
const MinRetentionDays = 90

type OPD struct {
	Code     string   `yaml:"code"`
	Name     string   `yaml:"name"`
	Abbrev   string   `yaml:"abbrev"`
	Keywords []string `yaml:"keywords"`
}

// Account is one official account: watched for citizen posts, and its own
// posts recognised as official replies of its owner.
type Account struct {
	Platform tanggap.Platform `yaml:"platform"`
	Handle   string           `yaml:"handle"`
	ID       string           `yaml:"id"`    // platform user/page/channel id, when known
	Owner    string           `yaml:"owner"` // OPD code, "city" or "mayor"
	Role     string           `yaml:"role"`
	Status   string           `yaml:"status"`
	Watch    *bool            `yaml:"watch"` // default true
}

// Watched reports whether collectors poll this account.
func (a Account) Watched() bool { return a.Watch == nil || *a.Watch }

// Duration is a time.Duration written as "24h" in YAML. A value that does
// not parse is kept and reported by validation, with its line.
type Duration struct {
	d   time.Duration
	bad string
}

func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		*d = Duration{bad: s}
		return nil
	}
	*d = Duration{d: v}
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.d.String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return d.d }

func (d Duration) check(path string) error {
	if d.bad != "" {
		return bad(path, "not a positive duration (like 24h or 90m): %q", d.bad)
	}
	return nil
}

// Load reads and validates a city config file. An empty path loads the
// embedded default city.
func Load(path string) (*Config, error) {
	var (
		b    []byte
		err  error
		name = path
	)
	if path == "" {
		name = "embedded:" + DefaultCity
		b, err = cities.ReadFile(DefaultCity)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(name, b)
}

// Parse decodes and validates a config held in memory; name is used in errors.
func Parse(name string, b []byte) (*Config, error) {
	// The decoder turns bytes that are not UTF-8 into U+FFFD without a word:
	// a city name would show replacement characters and a keyword with one
	// would never match a post.
	if line, ok := invalidUTF8(b); ok {
		return nil, &LoadError{File: name, Line: line, Field: replacedPath(b, line), Msg: "not valid UTF-8 (save the file as UTF-8)"}
	}
	var c Config
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, decodeError(name, b, err)
	}
	if n := fraction(b); n != nil {
		return nil, &LoadError{File: name, Line: n.GetToken().Position.Line, Field: n.GetPath(), Msg: fmt.Sprintf("must be a whole number, got %s", n.GetToken().Value)}
	}
	if err := c.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, &LoadError{File: name, Line: lineOf(b, fe.path), Field: fe.path, Msg: fe.msg}
		}
		return nil, err
	}
	return &c, nil
}

// LoadError says where a config file is broken.
type LoadError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("config ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

var posRE = regexp.MustCompile(`^\[(\d+):(\d+)\]`)

func errLine(err error) int {
	m := posRE.FindStringSubmatch(yaml.FormatError(err, false, false))
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// decodeError says where the decoder stopped. goccy's errors carry the
// token they stopped at, but their type errors name a Go struct (Config.Clocks
// for a bad routing_hk, Config.Accounts without an index) and Go types, so
// the field is the YAML path of the node at that token and type errors are
// reworded in the config's terms.
func decodeError(name string, b []byte, err error) *LoadError {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &LoadError{File: name, Line: errLine(err), Msg: firstLine(yaml.FormatError(err, false, false))}
	}
	tk := ye.GetToken()
	le := &LoadError{File: name, Line: tk.Position.Line, Field: pathAt(b, tk.Position.Line, tk.Position.Column), Msg: ye.GetMessage()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		le.Msg = fmt.Sprintf("got %s, want %s", yamlKind(te.SrcType, tk.Value), yamlKind(te.DstType, ""))
	}
	var oe *yaml.OverflowError
	if errors.As(err, &oe) {
		le.Msg = fmt.Sprintf("%s is out of range", oe.SrcNum)
	}
	return le
}

// yamlKind names a Go type as the YAML that would fill it; a scalar with a
// value is shown as written.
func yamlKind(t reflect.Type, value string) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	if value != "" {
		if t.Kind() == reflect.String {
			return strconv.Quote(value)
		}
		return value
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// pathAt returns the YAML path ($.clocks.routing_hk) of the node that starts
// at a line and column, or "" when the file does not parse.
func pathAt(b []byte, line, col int) string {
	var path string
	walkFile(b, func(n ast.Node) {
		tk := n.GetToken()
		// A key and the mapping it opens start together: the deeper path
		// is the key's.
		if tk != nil && tk.Position.Line == line && tk.Position.Column == col && len(n.GetPath()) > len(path) {
			path = n.GetPath()
		}
	})
	return path
}

// replacedPath returns the YAML path of the key or value that holds the
// first byte that is not UTF-8, at a line: the parser has replaced it by
// U+FFFD. A byte in a comment gives "".
func replacedPath(b []byte, line int) string {
	var path string
	walkFile(b, func(n ast.Node) {
		tk := n.GetToken()
		if _, comment := n.(*ast.CommentGroupNode); comment || tk == nil || tk.Position.Line != line {
			return
		}
		if path == "" && strings.ContainsRune(tk.Value, utf8.RuneError) {
			path = n.GetPath()
		}
	})
	return path
}

func walkFile(b []byte, visit func(ast.Node)) {
	f, err := parseFile(b)
	if err != nil {
		return
	}
	for _, d := range f.Docs {
		ast.Walk(visitFunc(visit), d)
	}
}

type visitFunc func(ast.Node)

func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		return nil
	}
	// A document's token is its body's, and an empty one has none to give.
	if _, doc := n.(*ast.DocumentNode); !doc {
		v(n)
	}
	return v
}

// invalidUTF8 finds the line of the first byte that is not UTF-8.
func invalidUTF8(b []byte) (line int, ok bool) {
	if utf8.Valid(b) {
		return 0, false
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return 1 + bytes.Count(b[:i], []byte("\n")), true
		}
		i += n
	}
	return 0, false
}

// fraction finds a number with a fraction given for an integer field: the
// decoder would truncate routing_hk: 3.7 to 3 without a word. It walks the
// file's nodes along the Config type, by yaml tags.
func fraction(b []byte) ast.Node {
	f, err := parseFile(b)
	if err != nil || len(f.Docs) == 0 {
		return nil
	}
	return fractionIn(f.Docs[0].Body, reflect.TypeFor[Config]())
}

func fractionIn(n ast.Node, t reflect.Type) ast.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, kv := range n.Values {
			if bad := fractionIn(kv, t); bad != nil {
				return bad
			}
		}
	case *ast.MappingValueNode:
		switch t.Kind() {
		case reflect.Map:
			return fractionIn(n.Value, t.Elem())
		case reflect.Struct:
			if n.Key == nil || n.Key.GetToken() == nil {
				return nil
			}
			key := n.Key.GetToken().Value
			for i := range t.NumField() {
				if f := t.Field(i); f.IsExported() && strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
					return fractionIn(n.Value, f.Type)
				}
			}
		}
	case *ast.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, v := range n.Values {
				if bad := fractionIn(v, t.Elem()); bad != nil {
					return bad
				}
			}
		}
	case *ast.TagNode:
		return fractionIn(n.Value, t)
	case *ast.AnchorNode:
		return fractionIn(n.Value, t)
	case *ast.FloatNode:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if n.Value != math.Trunc(n.Value) {
				return n
			}
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(posRE.ReplaceAllString(s, ""))
}

type fieldError struct{ path, msg string }

func (e *fieldError) Error() string { return e.path + ": " + e.msg }

func bad(path, format string, args ...any) error {
	return &fieldError{path: path, msg: fmt.Sprintf(format, args...)}
}

// lineOf finds the line of a YAML path such as "$.accounts[3].owner".
func lineOf(b []byte, path string) int {
	p, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	f, err := parseFile(b)
	if err != nil {
		return 0
	}
	n, err := p.FilterFile(f)
	if err != nil || n == nil || n.GetToken() == nil {
		// Fall back to the parent path (the field is missing).
		if i := strings.LastIndexAny(path, ".["); i > 1 {
			return lineOf(b, path[:i])
		}
		return 0
	}
	return n.GetToken().Position.Line
}

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,40}$`)
var handleRE = regexp.MustCompile(`^@?[A-Za-z0-9_.\-]{1,100}$`)

func (c *Config) validate() error {
	if c.City.Code == "" || !codeRE.MatchString(c.City.Code) {
		return bad("$.city.code", "must be a short lower-case code like bekasi, got %q", c.City.Code)
	}
	if c.City.Timezone == "" {
		c.City.Timezone = "Asia/Jakarta"
	}
	loc, err := time.LoadLocation(c.City.Timezone)
	if err != nil {
		return bad("$.city.timezone", "unknown time zone %q", c.City.Timezone)
	}
	c.loc = loc
	cl := &c.Clocks
	for _, f := range []struct {
		name string
		v    *Duration
		def  time.Duration
	}{{"first_response", &cl.FirstResponse, 24 * time.Hour}, {"first_response_urgent", &cl.FirstResponseUrgent, 3 * time.Hour}, {"due_soon", &cl.DueSoon, 4 * time.Hour}} {
		if err := f.v.check("$.clocks." + f.name); err != nil {
			return err
		}
		if f.v.d == 0 {
			f.v.d = f.def
		}
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"routing_hk", &cl.RoutingHK, 3}, {"followup_hk", &cl.FollowupHK, 5},
		{"resolution_hk", &cl.ResolutionHK, 14}, {"resolution_field_check_hk", &cl.ResolutionFieldCheckHK, 60},
		{"autoclose_hk", &cl.AutocloseHK, 10}, {"info_request_hk", &cl.InfoRequestHK, 10},
		{"info_request_extension_hk", &cl.InfoRequestExtensionHK, 7},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 0 || *f.v > 365 {
			return bad("$.clocks."+f.name, "must be between 1 and 365 working days, got %d", *f.v)
		}
	}
	if cl.HoldExpireHK < 0 || cl.HoldExpireHK > 365 {
		return bad("$.clocks.hold_expire_hk", "must be between 0 (never) and 365 working days, got %d", cl.HoldExpireHK)
	}
	// The default applies only when neither is given: a lone end (or
	// start) is a half-written setting, not a request for 08:00-16:00.
	if cl.OfficeHours.Start == "" && cl.OfficeHours.End == "" {
		cl.OfficeHours = OfficeHours{Start: "08:00", End: "16:00"}
	}
	s, err1 := time.Parse("15:04", cl.OfficeHours.Start)
	e, err2 := time.Parse("15:04", cl.OfficeHours.End)
	if err1 != nil || err2 != nil || !s.Before(e) {
		return bad("$.clocks.office_hours", "start and end must both be HH:MM with start before end, got start %q, end %q", cl.OfficeHours.Start, cl.OfficeHours.End)
	}
	if d := c.Retention.EndedDays; d != 0 && (d < MinRetentionDays || d > 36500) {
		return bad("$.retention.ended_days", "must be 0 (keep every item) or between %d and 36500 days, got %d", MinRetentionDays, d)
	}
	if c.Triage.MinConfidence == 0 {
		c.Triage.MinConfidence = 0.55
	}
	if c.Triage.MinConfidence < 0 || c.Triage.MinConfidence > 1 {
		return bad("$.triage.min_confidence", "must be between 0 and 1, got %v", c.Triage.MinConfidence)
	}
	if len(c.OPDs) == 0 {
		return bad("$.opds", "at least one OPD is required")
	}
	c.opdIndex = make(map[string]int, len(c.OPDs))
	for i, o := range c.OPDs {
		p := fmt.Sprintf("$.opds[%d]", i)
		if !codeRE.MatchString(o.Code) || o.Code == OwnerCity || o.Code == OwnerMayor || o.Code == tanggap.OutOfScope {
			return bad(p+".code", "must be a lower-case code like bina_marga_sda, got %q", o.Code)
		}
		if _, dup := c.opdIndex[o.Code]; dup {
			return bad(p+".code", "duplicate OPD code %q", o.Code)
		}
		if strings.TrimSpace(o.Name) == "" {
			return bad(p+".name", "OPD %s has no name", o.Code)
		}
		c.opdIndex[o.Code] = i
	}
	for _, code := range slices.Sorted(maps.Keys(cl.PerOPD)) {
		d := cl.PerOPD[code]
		if _, ok := c.opdIndex[code]; !ok {
			return bad("$.clocks.per_opd."+code, "unknown OPD %q", code)
		}
		// An empty or null override has no default to fall back on: taken
		// as 0 it would make every item of the OPD overdue on arrival.
		if d.d == 0 {
			return bad("$.clocks.per_opd."+code, "not a positive duration (like 24h or 90m): %q", d.bad)
		}
	}
	for _, f := range []struct{ path, v string }{{"$.triage.pju_owner", c.Triage.PJUOwner}, {"$.triage.fallback_opd", c.Triage.FallbackOPD}} {
		if f.v == "" {
			continue
		}
		if _, ok := c.opdIndex[f.v]; !ok {
			return bad(f.path, "unknown OPD %q", f.v)
		}
	}
	c.accIndex = make(map[string]int, 2*len(c.Accounts))
	for i, a := range c.Accounts {
		p := fmt.Sprintf("$.accounts[%d]", i)
		if !a.Platform.Valid() {
			return bad(p+".platform", "unknown platform %q (instagram, x, facebook, youtube)", a.Platform)
		}
		if !handleRE.MatchString(a.Handle) {
			return bad(p+".handle", "not a valid handle: %q", a.Handle)
		}
		if a.Owner != OwnerCity && a.Owner != OwnerMayor {
			if _, ok := c.opdIndex[a.Owner]; !ok {
				return bad(p+".owner", "unknown owner %q: an OPD code, city or mayor", a.Owner)
			}
		}
		k := accKey(a.Platform, a.Handle)
		if _, dup := c.accIndex[k]; dup {
			return bad(p+".handle", "account %s/%s listed twice", a.Platform, a.Handle)
		}
		c.accIndex[k] = i
		if a.ID != "" {
			// A second account with the same id would take the id over, and
			// its owner would be credited with the first one's replies.
			k := accKey(a.Platform, "#"+a.ID)
			if _, dup := c.accIndex[k]; dup {
				return bad(p+".id", "account id %s/%s listed twice", a.Platform, a.ID)
			}
			c.accIndex[k] = i
		}
	}
	return nil
}

func accKey(p tanggap.Platform, h string) string {
	return string(p) + "\x00" + strings.ToLower(strings.TrimPrefix(h, "@"))
}

// CutiBersamaNonworking reports whether cuti bersama days are non-working
// (the default when the key is absent).
func (cl Clocks) CutiBersamaNonworking() bool {
	return cl.CutiBersamaIsNonworking == nil || *cl.CutiBersamaIsNonworking
}

// Location is the city's time zone.
func (c *Config) Location() *time.Location { return c.loc }

// OPD returns the OPD with a code.
func (c *Config) OPD(code string) (OPD, bool) {
	i, ok := c.opdIndex[code]
	if !ok {
		return OPD{}, false
	}
	return c.OPDs[i], true
}

// Official finds the registered account that wrote a post: the watched
// account it was collected under when its collector saw the account's own
// id (ByAccount), the account with the author's platform id, or, where
// Author is a unique handle (Post.AuthorIsHandle), the account with that
// handle. A display name never matches: anyone can name a Facebook profile
// after a city account.
func (c *Config) Official(p *tanggap.Post) (Account, bool) {
	if p.ByAccount {
		if a, ok := c.OfficialAccount(p.Platform, p.Account, ""); ok {
			return a, true
		}
	}
	handle := ""
	if p.AuthorIsHandle() {
		handle = p.Author
	}
	return c.OfficialAccount(p.Platform, handle, p.AuthorID)
}

// OfficialAccount finds a registered account by platform and handle or id.
// handle must be a platform handle, unique to its owner, never a display
// name.
func (c *Config) OfficialAccount(p tanggap.Platform, handle, id string) (Account, bool) {
	if id != "" {
		if i, ok := c.accIndex[accKey(p, "#"+id)]; ok {
			return c.Accounts[i], true
		}
	}
	if handle != "" {
		if i, ok := c.accIndex[accKey(p, handle)]; ok {
			return c.Accounts[i], true
		}
	}
	return Account{}, false
}

// WatchedAccounts lists the accounts polled on one platform.
func (c *Config) WatchedAccounts(p tanggap.Platform) []Account {
	var out []Account
	for _, a := range c.Accounts {
		if a.Platform == p && a.Watched() {
			out = append(out, a)
		}
	}
	return out
}

// FirstResponseFor returns the first-response clock for an OPD.
func (c *Config) FirstResponseFor(opd string, urgent bool) time.Duration {
	if urgent {
		return c.Clocks.FirstResponseUrgent.D()
	}
	if d, ok := c.Clocks.PerOPD[opd]; ok {
		return d.D()
	}
	return c.Clocks.FirstResponse.D()
}
