package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
)

func TestDefaultCity(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.OPDs) != 34 {
		t.Errorf("OPDs: %d, want the 34 of opd-bekasi.csv", len(c.OPDs))
	}
	if len(c.WatchedAccounts(tanggap.PlatformInstagram)) < 40 {
		t.Errorf("instagram accounts: %d", len(c.WatchedAccounts(tanggap.PlatformInstagram)))
	}
	a, ok := c.OfficialAccount(tanggap.PlatformX, "@HumasBekasiKota", "")
	if !ok || a.Owner != OwnerCity {
		t.Errorf("official account lookup is case-insensitive and strips @: %+v %v", a, ok)
	}
	if !c.Clocks.CutiBersamaNonworking() || c.FirstResponseFor("dukcapil", false).Hours() != 24 || c.FirstResponseFor("damkar", true).Hours() != 3 {
		t.Errorf("clocks: %+v", c.Clocks)
	}
	if c.Location().String() != "Asia/Jakarta" {
		t.Errorf("zone %s", c.Location())
	}
}

// The city config's OPDs must be the shared registry's, copied in.
func TestOPDsMatchSharedRegistry(t *testing.T) {
	p := filepath.Join("..", "..", "shared", "data", "opd-bekasi.csv")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("shared data not here (%v)", err)
	}
	c, _ := Load("")
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		code, _, _ := strings.Cut(line, ",")
		if _, ok := c.OPD(code); !ok {
			t.Errorf("OPD %s of opd-bekasi.csv missing from cities/bekasi.yaml", code)
		}
	}
}

func TestBrokenConfigNamesFileLineField(t *testing.T) {
	base := "city:\n  code: bekasi\nopds:\n  - code: dlh\n    name: DLH\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"not yaml", "city: [\n", "broken.yaml:1"},
		{"unknown field", "city:\n  code: bekasi\n  colour: red\n", "broken.yaml:3: field $.city.colour: unknown field \"colour\""},
		{"unknown field in a list", base + "accounts:\n  - {platform: x, handle: a, owner: dlh, wach: false}\n", "broken.yaml:7: field $.accounts[0].wach: unknown field"},
		{"wrong type", "city:\n  code: bekasi\nclocks:\n  routing_hk: tiga\n", "broken.yaml:4: field $.clocks.routing_hk: got \"tiga\", want a whole number"},
		{"wrong type in a list", base + "accounts:\n  - {platform: x, handle: a, owner: dlh}\n  - {platform: x, handle: b, owner: dlh, watch: nope}\n", "broken.yaml:8: field $.accounts[1].watch: got \"nope\", want true or false"},
		{"scalar for a list", base + "  - code: dinkes\n    name: Dinkes\n    keywords: sakit\n", "broken.yaml:8: field $.opds[1].keywords: string was used where sequence is expected"},
		{"wrong type, then an empty document", "city: bekasi\n---\n", "broken.yaml:1: field $.city: string was used where mapping is expected"},
		{"list for a scalar", "city:\n  code: [bekasi]\n", "broken.yaml:2: field $.city.code: got a list, want a string"},
		{"number out of range", base + "clocks:\n  routing_hk: 99999999999999999999999\n", "broken.yaml:7: field $.clocks.routing_hk: 99999999999999999999999 is out of range"},
		{"bad duration", "city:\n  code: bekasi\nclocks:\n  first_response: besok\n", "broken.yaml:4"},
		{"no opds", "city:\n  code: bekasi\n", "field $.opds"},
		{"bad city code", "city:\n  code: Kota Bekasi\n", "broken.yaml:2: field $.city.code"},
		{"unknown owner", base + "accounts:\n  - platform: x\n    handle: foo\n    owner: dishub\n", "broken.yaml:9: field $.accounts[0].owner: unknown owner \"dishub\""},
		{"unknown platform", base + "accounts:\n  - platform: tiktok\n    handle: foo\n    owner: dlh\n", "broken.yaml:7: field $.accounts[0].platform"},
		{"duplicate account", base + "accounts:\n  - {platform: x, handle: a, owner: dlh}\n  - {platform: x, handle: A, owner: dlh}\n", "broken.yaml:8: field $.accounts[1].handle"},
		{"duplicate account id", base + "accounts:\n  - {platform: facebook, handle: a, id: \"637\", owner: dlh}\n  - {platform: facebook, handle: b, id: \"637\", owner: dlh}\n", "broken.yaml:8: field $.accounts[1].id: account id facebook/637 listed twice"},
		{"bad confidence", base + "triage:\n  min_confidence: 2\n", "broken.yaml:7: field $.triage.min_confidence"},
		{"negative hold expiry", base + "clocks:\n  hold_expire_hk: -1\n", "broken.yaml:7: field $.clocks.hold_expire_hk"},
		{"short retention", base + "retention:\n  ended_days: 30\n", "broken.yaml:7: field $.retention.ended_days: must be 0 (keep every item) or between 90"},
		{"retention in words", base + "retention:\n  ended_days: setahun\n", "broken.yaml:7"},
		{"bad office hours", base + "clocks:\n  office_hours: {start: \"17:00\", end: \"08:00\"}\n", "broken.yaml:7: field $.clocks.office_hours"},
		{"empty per-OPD clock", base + "clocks:\n  per_opd: {dlh: \"\"}\n", "broken.yaml:7: field $.clocks.per_opd.dlh: not a positive duration"},
		{"null per-OPD clock", base + "clocks:\n  per_opd: {dlh: }\n", "broken.yaml:7: field $.clocks.per_opd.dlh: not a positive duration"},
		{"null per-OPD clock, block", base + "clocks:\n  per_opd:\n    dlh:\n", "broken.yaml:8: field $.clocks.per_opd.dlh: not a positive duration"},
		{"bad per-OPD clock", base + "clocks:\n  per_opd:\n    dlh: 0s\n", "broken.yaml:8: field $.clocks.per_opd.dlh: not a positive duration"},
		{"office hours end only", base + "clocks:\n  office_hours: {end: \"12:00\"}\n", "broken.yaml:7: field $.clocks.office_hours: start and end must both be HH:MM"},
		{"office hours start only", base + "clocks:\n  office_hours:\n    start: \"09:00\"\n", "broken.yaml:8: field $.clocks.office_hours: start and end must both be HH:MM"},
		{"not UTF-8", "city:\n  code: bekasi\n  name: Kota \xff\xfe Bekasi\n", "broken.yaml:3: field $.city.name: not valid UTF-8"},
		{"keyword not UTF-8", base + "    keywords: [\"sampah\", \"jalan \xc3 rusak\"]\n", "broken.yaml:6: field $.opds[0].keywords[1]: not valid UTF-8"},
		{"comment not UTF-8", base + "# caf\xe9\n", "broken.yaml:6: not valid UTF-8"},
		{"fraction for a whole number", base + "clocks:\n  routing_hk: 3.7\n", "broken.yaml:7: field $.clocks.routing_hk: must be a whole number, got 3.7"},
		{"fraction in a flow mapping", base + "retention: {ended_days: 90.5}\n", "broken.yaml:6: field $.retention.ended_days: must be a whole number, got 90.5"},
		{"duplicate opd", base + "  - code: dlh\n    name: again\n", "broken.yaml:6: field $.opds[1].code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "broken.yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o644)
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	if _, err := Load("/nonexistent/city.yaml"); err == nil || !strings.Contains(err.Error(), "/nonexistent/city.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// A number with nothing after the point is a whole number, and a fraction is
// fine where the field takes one.
func TestWholeNumbers(t *testing.T) {
	c, err := Parse("city.yaml", []byte("city:\n  code: bekasi\nclocks:\n  routing_hk: 4.0\ntriage:\n  min_confidence: 0.7\nopds:\n  - {code: dlh, name: DLH, keywords: [\"3.5\", 2.5]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Clocks.RoutingHK != 4 || c.Triage.MinConfidence != 0.7 {
		t.Errorf("routing_hk %d, min_confidence %v", c.Clocks.RoutingHK, c.Triage.MinConfidence)
	}
}

func TestSecret(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	os.WriteFile(p, []byte("s3cret\n"), 0o600)
	blank := filepath.Join(t.TempDir(), "blank")
	os.WriteFile(blank, []byte(" \n"), 0o600)
	env := map[string]string{"A": "direct", "B_FILE": p, "C_FILE": "/nonexistent", "E_FILE": blank}
	get := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name, want string
		err        bool
	}{{"A", "direct", false}, {"B", "s3cret", false}, {"C", "", true}, {"D", "", false}, {"E", "", false}} {
		got, err := Secret(get, tc.name)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: %q %v", tc.name, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("secret leaked into an error")
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := cities.ReadFile(DefaultCity)
	f.Add(b)
	f.Add([]byte("city:\n  code: bekasi\nopds:\n  - code: dlh\n    name: DLH\n"))
	f.Add([]byte("city: [\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse("fuzz.yaml", in)
		if err == nil && (c == nil || len(c.OPDs) == 0 || c.Location() == nil) {
			t.Fatalf("accepted a config without OPDs or zone")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "config fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func TestPerOPDClock(t *testing.T) {
	c, err := Parse("city.yaml", []byte("city:\n  code: bekasi\nclocks:\n  per_opd: {dlh: 12h}\nopds:\n  - {code: dlh, name: DLH}\n  - {code: damkar, name: Damkar}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.FirstResponseFor("dlh", false); got != 12*time.Hour {
		t.Errorf("dlh: %v, want the override 12h", got)
	}
	if got := c.FirstResponseFor("damkar", false); got != 24*time.Hour {
		t.Errorf("damkar: %v, want the default 24h", got)
	}
	if got := c.Clocks.OfficeHours; got != (OfficeHours{Start: "08:00", End: "16:00"}) {
		t.Errorf("office hours: %+v, want the default 08:00-16:00", got)
	}
}

// The same id on two platforms is two accounts.
func TestAccountIDPerPlatform(t *testing.T) {
	c, err := Parse("city.yaml", []byte("city:\n  code: bekasi\nopds:\n  - {code: dlh, name: DLH}\naccounts:\n  - {platform: facebook, handle: a, id: \"637\", owner: dlh}\n  - {platform: instagram, handle: b, id: \"637\", owner: city}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.OfficialAccount(tanggap.PlatformInstagram, "", "637"); !ok || a.Owner != OwnerCity {
		t.Errorf("instagram id 637: %+v %v", a, ok)
	}
}
