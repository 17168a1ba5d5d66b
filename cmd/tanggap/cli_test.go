package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap/notify"
	"github.com/tanggap/tanggap/store"
)

func runCLI(t *testing.T, envs map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(context.Background(), args, func(k string) string { return envs[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestBrokenConfigExitsNonZero(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kota.yaml")
	os.WriteFile(p, []byte("city:\n  code: bekasi\nopds:\n  - code: dlh\n    name: DLH\naccounts:\n  - {platform: x, handle: a, owner: nobody}\n"), 0o644)
	mr := miniredis.RunT(t)
	for _, cmd := range []string{"serve", "triage", "collect", "dev"} {
		_, err := runCLI(t, map[string]string{"TANGGAP_CONFIG": p, "REDIS_ADDR": mr.Addr(), "TANGGAP_KAFKA_BROKERS": "127.0.0.1:1"}, "", cmd)
		if err == nil || !strings.Contains(err.Error(), p+":7: field $.accounts[0].owner") {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, err := runCLI(t, nil, "", "triage", "--consumers", "0"); err == nil || !strings.Contains(err.Error(), "--consumers") {
		t.Errorf("triage --consumers 0: %v", err)
	}
	if _, err := runCLI(t, nil, "", "nonsense"); err == nil {
		t.Error("unknown command must fail")
	}
}

func TestUserCommands(t *testing.T) {
	mr := miniredis.RunT(t)
	env := map[string]string{"REDIS_ADDR": mr.Addr()}
	if out, err := runCLI(t, env, "kata-sandi-panjang\n", "user", "add", "-login", "Dishub.Admin", "-role", "opd_admin", "-opd", "perhubungan", "-name", "Admin Dishub", "-email", "dishub@example.go.id"); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, err := runCLI(t, env, "x\n", "user", "add", "-login", "bad", "-role", "opd_admin", "-opd", "nope"); err == nil {
		t.Error("unknown OPD accepted")
	}
	if _, err := runCLI(t, env, "kata-sandi-panjang\n", "user", "add", "-login", "h", "-role", "ppid_utama"); err == nil {
		t.Error("one-letter login accepted")
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	st := store.New(rdb, "bekasi", nil)
	ctx := context.Background()
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-panjang", "t"); err != nil {
		t.Fatalf("sign-in after add: %v", err)
	}
	// The account administrators' record names the command as the author.
	if ch, err := st.UserChanges(ctx, 10); err != nil || len(ch) != 1 || ch[0].By != "(cli)" || ch[0].Action != "add" || ch[0].Detail != "opd_admin perhubungan" {
		t.Errorf("the record of the add: %+v %v", ch, err)
	}
	if out, err := runCLI(t, map[string]string{"REDIS_ADDR": mr.Addr(), "TANGGAP_USER_PASSWORD": "kata-sandi-baru-1"}, "", "user", "reset", "-login", "dishub.admin"); err != nil {
		t.Fatalf("reset: %v %s", err, out)
	}
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-baru-1", "t"); err != nil {
		t.Fatalf("sign-in after reset: %v", err)
	}
	if _, err := runCLI(t, env, "", "user", "disable", "-login", "dishub.admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-baru-1", "t"); err == nil {
		t.Fatal("disabled user signed in")
	}
	// The list names every account and its state.
	if out, err := runCLI(t, env, "", "user", "list"); err != nil || out != "dishub.admin\topd_admin\tperhubungan\tdisabled\tnever\n" {
		t.Errorf("list: %q %v", out, err)
	}
	// The digest finds the OPD admin's address; the unrouted queue goes to the PPID Utama.
	st.SetDisabled(ctx, "dishub.admin", false)
	st.PutUser(ctx, store.User{Login: "humas", Name: "Humas", Role: "ppid_utama", Email: "humas@example.go.id"}, "kata-sandi-panjang", true)
	r := userRecipients{st}
	got, _ := r.Recipients(ctx, "perhubungan", notify.LevelAdmin)
	if len(got) != 1 || got[0].Email != "dishub@example.go.id" {
		t.Errorf("admins of perhubungan: %v", got)
	}
	got, _ = r.Recipients(ctx, store.Unrouted, notify.LevelAdmin)
	if len(got) != 1 || got[0].Email != "humas@example.go.id" {
		t.Errorf("unrouted: %v", got)
	}
	got, _ = r.Recipients(ctx, "perhubungan", notify.LevelUtama)
	if len(got) != 1 || got[0].Email != "humas@example.go.id" {
		t.Errorf("utama: %v", got)
	}
}
