package x

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// Credentials are the X API secrets. They are never logged: String and
// LogValue redact them.
//
// X API v1.1 has two kinds of auth:
//   - an OAuth 2 app-only Bearer token reads any public user_timeline
//     (rate window shared by the whole app, per endpoint);
//   - OAuth 1.0a user context (the app's consumer key and secret plus an
//     access token the account granted) is needed for mentions_timeline,
//     which lists the mentions of the authenticated account only.
//
// So an account is watched fully (mentions and its own replies) when it has
// a user token in Users; with the Bearer token alone only its own posts and
// replies are read.
type Credentials struct {
	Bearer         string
	ConsumerKey    string
	ConsumerSecret string
	Users          map[string]UserToken // by handle, case-insensitive
}

// UserToken is an OAuth 1.0a access token granted by one account.
type UserToken struct {
	Token  string
	Secret string
}

// String redacts the secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("x.Credentials{bearer:%t consumer:%t users:%d}", c.Bearer != "", c.ConsumerKey != "", len(c.Users))
}

// GoString redacts the secrets in %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue redacts the secrets in slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("bearer", c.Bearer != ""), slog.Bool("consumer", c.ConsumerKey != ""), slog.Int("users", len(c.Users)))
}

func (c Credentials) user(handle string) (UserToken, bool) {
	for h, t := range c.Users {
		if strings.EqualFold(strings.TrimPrefix(h, "@"), strings.TrimPrefix(handle, "@")) {
			return t, true
		}
	}
	return UserToken{}, false
}

func (c Credentials) validate() error {
	if c.Bearer == "" && len(c.Users) == 0 {
		return tanggap.Errorf(tanggap.EINVALID, "x: no credentials: set X_BEARER_TOKEN or user tokens")
	}
	if len(c.Users) > 0 && (c.ConsumerKey == "" || c.ConsumerSecret == "") {
		return tanggap.Errorf(tanggap.EINVALID, "x: user tokens need X_CONSUMER_KEY and X_CONSUMER_SECRET")
	}
	for h, t := range c.Users {
		if t.Token == "" || t.Secret == "" {
			return tanggap.Errorf(tanggap.EINVALID, "x: user token of @%s lacks its token or secret", h)
		}
	}
	return nil
}

// EnvName is the environment variable suffix of an account's user token:
// X_ACCESS_TOKEN_<EnvName> and X_ACCESS_TOKEN_SECRET_<EnvName>.
// "TirtaPatriot" -> "TIRTAPATRIOT", "dlh_kotabekasi" -> "DLH_KOTABEKASI".
func EnvName(handle string) string {
	var b strings.Builder
	for _, r := range strings.TrimPrefix(handle, "@") {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// CredentialsFromEnv reads the X secrets from the environment, each from
// NAME or the file named by NAME_FILE:
//
//	X_BEARER_TOKEN                         app-only bearer token
//	X_CONSUMER_KEY, X_CONSUMER_SECRET      the app's OAuth 1.0a keys
//	X_ACCESS_TOKEN_<H>, X_ACCESS_TOKEN_SECRET_<H>
//	                                       the user token of the account with handle H (see EnvName)
//
// handles are the watched accounts. Errors name variables, never values.
func CredentialsFromEnv(getenv func(string) string, handles []string) (Credentials, error) {
	var c Credentials
	var err error
	read := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = config.Secret(getenv, name)
		return v
	}
	c.Bearer = read("X_BEARER_TOKEN")
	c.ConsumerKey = read("X_CONSUMER_KEY")
	c.ConsumerSecret = read("X_CONSUMER_SECRET")
	for _, h := range handles {
		tok := read("X_ACCESS_TOKEN_" + EnvName(h))
		sec := read("X_ACCESS_TOKEN_SECRET_" + EnvName(h))
		if tok == "" && sec == "" {
			continue
		}
		if tok == "" || sec == "" {
			return Credentials{}, tanggap.Errorf(tanggap.EINVALID, "x: set both X_ACCESS_TOKEN_%[1]s and X_ACCESS_TOKEN_SECRET_%[1]s", EnvName(h))
		}
		if c.Users == nil {
			c.Users = map[string]UserToken{}
		}
		c.Users[h] = UserToken{Token: tok, Secret: sec}
	}
	if err != nil {
		return Credentials{}, tanggap.WrapCode(tanggap.EINVALID, err, "x credentials")
	}
	if err := c.validate(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// authorizer adds an Authorization header to a request.
type authorizer func(req *http.Request) error

func bearerAuth(token string) authorizer {
	return func(req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// oauth1Auth signs requests with OAuth 1.0a HMAC-SHA1 (RFC 5849). Only the
// URL's query parameters are signed: the poller sends GETs without bodies.
func oauth1Auth(consumerKey, consumerSecret string, tok UserToken, now func() time.Time) authorizer {
	return func(req *http.Request) error {
		nonce, err := newNonce()
		if err != nil {
			return err
		}
		oauth := map[string]string{
			"oauth_consumer_key":     consumerKey,
			"oauth_nonce":            nonce,
			"oauth_signature_method": "HMAC-SHA1",
			"oauth_timestamp":        strconv.FormatInt(now().Unix(), 10),
			"oauth_token":            tok.Token,
			"oauth_version":          "1.0",
		}
		params := url.Values{}
		for k, vs := range req.URL.Query() {
			params[k] = append(params[k], vs...)
		}
		for k, v := range oauth {
			params.Set(k, v)
		}
		oauth["oauth_signature"] = oauth1Signature(req.Method, req.URL, params, consumerSecret, tok.Secret)
		keys := make([]string, 0, len(oauth))
		for k := range oauth {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("OAuth ")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(percentEncode(k))
			b.WriteString(`="`)
			b.WriteString(percentEncode(oauth[k]))
			b.WriteString(`"`)
		}
		req.Header.Set("Authorization", b.String())
		return nil
	}
}

// oauth1Signature computes the HMAC-SHA1 signature of RFC 5849 section 3.4.
// params holds every parameter to sign (query, form body and oauth_*).
func oauth1Signature(method string, u *url.URL, params url.Values, consumerSecret, tokenSecret string) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, kv{percentEncode(k), percentEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var norm strings.Builder
	for i, p := range pairs {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p.k)
		norm.WriteByte('=')
		norm.WriteString(p.v)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if (scheme == "http" && strings.HasSuffix(host, ":80")) || (scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	base := strings.ToUpper(method) + "&" + percentEncode(scheme+"://"+host+path) + "&" + percentEncode(norm.String())
	mac := hmac.New(sha1.New, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as RFC 5849 section 3.6 wants it:
// everything but unreserved characters, upper-case hex.
func percentEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("x: oauth nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
