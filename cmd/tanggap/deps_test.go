package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// The common flags: TANGGAP_LOG_JSON is a boolean (false and 0 are off),
// and a log level or a boolean that does not parse is an error, not a
// default.
func TestCommonFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		json    bool
		level   slog.Level
		wantErr string
	}{
		{name: "defaults", level: slog.LevelInfo},
		{name: "json on", env: map[string]string{"TANGGAP_LOG_JSON": "1"}, json: true},
		{name: "json true", env: map[string]string{"TANGGAP_LOG_JSON": "true"}, json: true},
		{name: "json false", env: map[string]string{"TANGGAP_LOG_JSON": "false"}},
		{name: "json 0", env: map[string]string{"TANGGAP_LOG_JSON": "0"}},
		{name: "the flag wins", env: map[string]string{"TANGGAP_LOG_JSON": "1"}, args: []string{"--log-json=false"}},
		{name: "json yes", env: map[string]string{"TANGGAP_LOG_JSON": "yes"}, wantErr: `TANGGAP_LOG_JSON="yes": not a boolean`},
		{name: "level", args: []string{"--log-level", "debug"}, level: slog.LevelDebug},
		{name: "unknown level", args: []string{"--log-level", "verbose"}, wantErr: `invalid value "verbose" for flag -log-level`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var c common
			err := c.register(fs, env{getenv: func(k string) string { return tc.env[k] }})
			if err == nil {
				err = parseFlags(fs, tc.args)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.logJSON != tc.json || c.logLevel != tc.level {
				t.Errorf("log JSON %v level %v, want %v %v", c.logJSON, c.logLevel, tc.json, tc.level)
			}
			var b strings.Builder
			c.logger(&b).Info("hello")
			if got := strings.HasPrefix(b.String(), "{"); got != tc.json {
				t.Errorf("logged %q, want JSON %v", b.String(), tc.json)
			}
		})
	}
}

// TANGGAP_SECURE_COOKIES is read the same way; a value that is not a
// boolean stops serve before it opens anything.
func TestEnvBool(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "FALSE": false, "f": false, "1": true, "true": true, "T": true} {
		got, err := envBool(env{getenv: func(string) string { return v }}, "TANGGAP_SECURE_COOKIES")
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"yes", "on", "off", " 1"} {
		if _, err := envBool(env{getenv: func(string) string { return v }}, "TANGGAP_SECURE_COOKIES"); err == nil || !strings.Contains(err.Error(), "TANGGAP_SECURE_COOKIES") {
			t.Errorf("%q: %v, want an error naming the variable", v, err)
		}
	}
	_, err := runCLI(t, map[string]string{"TANGGAP_SECURE_COOKIES": "off"}, "", "serve")
	if err == nil || !strings.Contains(err.Error(), "TANGGAP_SECURE_COOKIES") {
		t.Errorf("serve with TANGGAP_SECURE_COOKIES=off: %v", err)
	}
}
