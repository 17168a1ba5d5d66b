package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/tanggap/tanggap/config"
)

// Event names a receiver can subscribe to.
const (
	// EventStatusChanged is an item moving from one status to another.
	EventStatusChanged = "item.status_changed"
	// EventCreated is a new item (triage's ingest: every captured post,
	// official replies and noise included). Not delivered unless asked for.
	EventCreated = "item.created"
	// Other events are "item.<action>" for the actions listed in
	// Config.Actions (for example item.assign for a hop between OPDs that
	// keeps the status ASSIGNED, or item.claim).
	actionPrefix = "item."
)

// Config is the webhook section of a deployment (YAML). Secrets are not in
// it: each endpoint names the environment variable that holds its secret.
//
//	endpoints:
//	  - name: lapor_dashboard
//	    url: https://dasbor.example.go.id/hooks/tanggap
//	    secret_env: TANGGAP_WEBHOOK_LAPOR_SECRET   # or TANGGAP_WEBHOOK_LAPOR_SECRET_FILE
//	    events: [item.status_changed, item.assign]
//	    opds: [bina_marga_sda]
//	actions: [assign]
type Config struct {
	Endpoints []Endpoint `yaml:"endpoints"`
	// Actions are audit actions delivered even when the status does not
	// change, as event "item.<action>" (assign, answer, claim, hold, ...).
	Actions []string `yaml:"actions"`

	Timeout     Duration `yaml:"timeout"`      // per attempt (default 10s)
	MaxAttempts int      `yaml:"max_attempts"` // per delivery (default 8)
	// MaxElapsed bounds one delivery, retries included (default 2m): then it
	// goes to the dead-letter topic, so a dead receiver never blocks the
	// partition for longer.
	MaxElapsed  Duration `yaml:"max_elapsed"`
	BackoffBase Duration `yaml:"backoff_base"` // first retry wait before jitter (default 1s)
	BackoffMax  Duration `yaml:"backoff_max"`  // longest wait between attempts (default 1m)
	// Cooldown: after a delivery to an endpoint gave up, later deliveries to
	// it make a single attempt until one succeeds or this long has passed
	// (default 1m), so an outage costs one timeout per event, not MaxElapsed.
	Cooldown Duration `yaml:"cooldown"`

	// SSRF guard: by default webhooks only reach public addresses. These
	// open loopback (tests, a receiver on the same host) and private
	// networks (RFC 1918, ULA, CGNAT: a receiver inside the city network).
	// Link-local (cloud metadata), multicast and reserved ranges stay closed.
	AllowLoopback bool `yaml:"allow_loopback"`
	AllowPrivate  bool `yaml:"allow_private"`
}

// Endpoint is one receiver.
type Endpoint struct {
	// Name is a short name, used as the metric label and in logs (the URL
	// never is: it may carry a token).
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// SecretEnv names the environment variable holding the HMAC secret
	// (NAME, or NAME_FILE for a Docker/Kubernetes secret file).
	SecretEnv string `yaml:"secret_env"`
	// Events to deliver; empty means [item.status_changed].
	Events []string `yaml:"events"`
	// OPDs limits deliveries to items of these OPD codes; empty means all.
	OPDs []string `yaml:"opds"`
}

// ParseConfig decodes a webhook config from YAML (unknown fields are
// errors); name is used in messages. Validation happens in New.
func ParseConfig(name string, b []byte) (Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return Config{}, fmt.Errorf("webhook config %s: %s", name, yaml.FormatError(err, false, false))
	}
	return c, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
var actionRE = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

// Duration is a time.Duration written as "10s" or "2m" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.BytesUnmarshaler.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("not a positive duration (like 10s or 2m): %q", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (c *Config) defaults() {
	set := func(d *Duration, v time.Duration) {
		if *d <= 0 {
			*d = Duration(v)
		}
	}
	set(&c.Timeout, 10*time.Second)
	set(&c.MaxElapsed, 2*time.Minute)
	set(&c.BackoffBase, time.Second)
	set(&c.BackoffMax, time.Minute)
	set(&c.Cooldown, time.Minute)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
}

// endpoint is a validated Endpoint with its secret.
type endpoint struct {
	name   string
	url    string
	secret []byte
	events map[string]bool
	opds   map[string]bool
	state  *breaker
}

// validate checks the config and reads the secrets.
func (c *Config) validate(getenv func(string) string, g *guard) ([]*endpoint, error) {
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		return nil, fmt.Errorf("webhook: max_attempts must be 1..100, got %d", c.MaxAttempts)
	}
	if c.BackoffMax < c.BackoffBase {
		return nil, errors.New("webhook: backoff_max is shorter than backoff_base")
	}
	events := map[string]bool{EventStatusChanged: true, EventCreated: true}
	for _, a := range c.Actions {
		if !actionRE.MatchString(a) || a == "ingest" {
			return nil, fmt.Errorf("webhook: actions: %q is not an action name (assign, answer, claim, ...)", a)
		}
		events[actionPrefix+a] = true
	}
	var out []*endpoint
	seen := map[string]bool{}
	for i, e := range c.Endpoints {
		where := fmt.Sprintf("webhook: endpoints[%d]", i)
		if !nameRE.MatchString(e.Name) {
			return nil, fmt.Errorf("%s: name must be a short lower-case name like lapor_dashboard, got %q", where, e.Name)
		}
		where = "webhook " + e.Name
		if seen[e.Name] {
			return nil, fmt.Errorf("%s: name used twice", where)
		}
		seen[e.Name] = true
		if err := checkURL(e.URL, g); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if e.SecretEnv == "" {
			return nil, fmt.Errorf("%s: secret_env is required (deliveries are always signed)", where)
		}
		secret, err := config.Secret(getenv, e.SecretEnv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("%s: the secret in %s (or %s_FILE) is missing or shorter than 16 bytes", where, e.SecretEnv, e.SecretEnv)
		}
		ep := &endpoint{name: e.Name, url: e.URL, secret: []byte(secret), events: map[string]bool{}, state: &breaker{}}
		evs := e.Events
		if len(evs) == 0 {
			evs = []string{EventStatusChanged}
		}
		for _, ev := range evs {
			if !events[ev] {
				known := make([]string, 0, len(events))
				for k := range events {
					known = append(known, k)
				}
				slices.Sort(known)
				return nil, fmt.Errorf("%s: unknown event %q (known: %s; add the action to actions first)", where, ev, strings.Join(known, ", "))
			}
			ep.events[ev] = true
		}
		if len(e.OPDs) > 0 {
			ep.opds = map[string]bool{}
			for _, o := range e.OPDs {
				ep.opds[o] = true
			}
		}
		out = append(out, ep)
	}
	return out, nil
}

// checkURL refuses what a webhook must never call: other schemes,
// credentials in the URL, and (when the host is an address) a blocked one.
// Host names are checked again at dial time, on the resolved address.
func checkURL(raw string, g *guard) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("url does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("url scheme must be http or https, got %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return errors.New("url has no host")
	case u.User != nil:
		return errors.New("url must not carry credentials: the secret signs the body instead")
	case u.Fragment != "":
		return errors.New("url must not have a fragment")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && g.blocked(ip) {
		return fmt.Errorf("url points at %s, a loopback, private or reserved address (see allow_loopback, allow_private)", ip)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return fmt.Errorf("url port %q is not valid", p)
		}
	}
	return nil
}
