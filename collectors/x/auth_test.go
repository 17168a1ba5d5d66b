package x

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOAuth1Signature(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		method, rawURL              string
		extra                       url.Values // form body parameters
		oauth                       map[string]string
		consumerSecret, tokenSecret string
		want                        string
	}{
		{
			name:   "RFC 5849 section 1.2",
			method: "GET", rawURL: "http://photos.example.net/photos?file=vacation.jpg&size=original",
			oauth: map[string]string{
				"oauth_consumer_key": "dpf43f3p2l4k3l03", "oauth_token": "nnch734d00sl2jdk",
				"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131202", "oauth_nonce": "chapoH",
			},
			consumerSecret: "kd94hf93k423kf44", tokenSecret: "pfkkdhi9sl3r4s00",
			want: "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
		},
		{
			name:   "X developer docs, creating a signature",
			method: "POST", rawURL: "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
			extra: url.Values{"status": {"Hello Ladies + Gentlemen, a signed OAuth request!"}},
			oauth: map[string]string{
				"oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog", "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
				"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "1318622958",
				"oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", "oauth_version": "1.0",
			},
			consumerSecret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw", tokenSecret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
			want: "hCtSmYh+iHYCEqBWrE7C7hYmtUk=",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.rawURL)
			if err != nil {
				t.Fatal(err)
			}
			params := u.Query()
			for k, vs := range tc.extra {
				params[k] = append(params[k], vs...)
			}
			for k, v := range tc.oauth {
				params.Set(k, v)
			}
			if got := oauth1Signature(tc.method, u, params, tc.consumerSecret, tc.tokenSecret); got != tc.want {
				t.Errorf("signature %s, want %s", got, tc.want)
			}
		})
	}
}

func TestOAuth1Header(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://api.twitter.com/1.1/statuses/mentions_timeline.json?count=200&tweet_mode=extended", nil)
	now := func() time.Time { return time.Unix(1772500000, 0) }
	if err := oauth1Auth("ck", "cs", UserToken{Token: "tok", Secret: "ts"}, now)(req); err != nil {
		t.Fatal(err)
	}
	h := req.Header.Get("Authorization")
	got := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(h, "OAuth "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		got[k], _ = url.PathUnescape(strings.Trim(v, `"`))
	}
	// Recompute the signature from the header's own parameters.
	params := req.URL.Query()
	for k, v := range got {
		if k != "oauth_signature" {
			params.Set(k, v)
		}
	}
	if want := oauth1Signature("GET", req.URL, params, "cs", "ts"); got["oauth_signature"] != want {
		t.Errorf("header signature %q, want %q (header %s)", got["oauth_signature"], want, h)
	}
	if got["oauth_token"] != "tok" || got["oauth_timestamp"] != "1772500000" || got["oauth_version"] != "1.0" || len(got["oauth_nonce"]) < 16 {
		t.Errorf("header %s", h)
	}
	if strings.Contains(h, "ts") && strings.Contains(h, `"cs"`) {
		t.Errorf("header carries a secret: %s", h)
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"Ladies + Gentlemen": "Ladies%20%2B%20Gentlemen",
		"An encoded string!": "An%20encoded%20string%21",
		"Dogs, Cats & Mice":  "Dogs%2C%20Cats%20%26%20Mice",
		"☃":                  "%E2%98%83",
		"-._~":               "-._~",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "consumer_secret")
	if err := os.WriteFile(secretFile, []byte("file-consumer-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	handles := []string{"humasbekasikota", "dlh_kotabekasi", "TirtaPatriot"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr string
	}{
		{
			name: "bearer only",
			env:  map[string]string{"X_BEARER_TOKEN": "bearer-value"},
			want: Credentials{Bearer: "bearer-value"},
		},
		{
			name: "user tokens, secret from a file",
			env: map[string]string{
				"X_CONSUMER_KEY": "ck", "X_CONSUMER_SECRET_FILE": secretFile,
				"X_ACCESS_TOKEN_HUMASBEKASIKOTA": "t1", "X_ACCESS_TOKEN_SECRET_HUMASBEKASIKOTA": "s1",
				"X_ACCESS_TOKEN_DLH_KOTABEKASI": "t2", "X_ACCESS_TOKEN_SECRET_DLH_KOTABEKASI": "s2",
			},
			want: Credentials{ConsumerKey: "ck", ConsumerSecret: "file-consumer-secret", Users: map[string]UserToken{
				"humasbekasikota": {Token: "t1", Secret: "s1"}, "dlh_kotabekasi": {Token: "t2", Secret: "s2"},
			}},
		},
		{name: "nothing", env: map[string]string{}, wantErr: "no credentials"},
		{name: "token without secret", env: map[string]string{"X_BEARER_TOKEN": "b", "X_ACCESS_TOKEN_TIRTAPATRIOT": "t"}, wantErr: "X_ACCESS_TOKEN_SECRET_TIRTAPATRIOT"},
		{name: "user token without app keys", env: map[string]string{"X_ACCESS_TOKEN_TIRTAPATRIOT": "t", "X_ACCESS_TOKEN_SECRET_TIRTAPATRIOT": "s"}, wantErr: "X_CONSUMER_KEY"},
		{name: "unreadable file", env: map[string]string{"X_BEARER_TOKEN_FILE": filepath.Join(dir, "missing")}, wantErr: "X_BEARER_TOKEN_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CredentialsFromEnv(func(k string) string { return tc.env[k] }, handles)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				for _, v := range tc.env {
					if len(v) > 3 && strings.Contains(err.Error(), v) && !strings.Contains(v, dir) {
						t.Errorf("error shows a secret value: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialsAreRedacted(t *testing.T) {
	c := Credentials{Bearer: "SECRET-BEARER", ConsumerKey: "SECRET-CK", ConsumerSecret: "SECRET-CS",
		Users: map[string]UserToken{"humasbekasikota": {Token: "SECRET-T", Secret: "SECRET-S"}}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x credentials", "creds", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x credentials", "creds", c)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
	if strings.Contains(out, "SECRET") {
		t.Errorf("secrets printed: %s", out)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"TirtaPatriot": "TIRTAPATRIOT", "dlh_kotabekasi": "DLH_KOTABEKASI", "@kel.pejuang": "KEL_PEJUANG"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}
