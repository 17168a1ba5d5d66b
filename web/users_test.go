package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var tempPasswordRE = regexp.MustCompile(`<code class="secret">([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>`)

// tempPassword is the temporary password a page shows once.
func shownPassword(t *testing.T, body string) string {
	t.Helper()
	m := tempPasswordRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no temporary password on the page")
	}
	return m[1]
}

// signIn signs in with a password and returns the cookie-keeping client.
func (f *fixture) signIn(t *testing.T, login, password string) *http.Client {
	t.Helper()
	c := f.client(t, "")
	if code, _ := post(t, c, f.srv.URL+"/masuk", url.Values{"login": {login}, "password": {password}}); code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", login, code)
	}
	return c
}

// The PPID Utama adds an OPD admin, who must replace the temporary
// password before anything else opens; the PPID Utama keeps the OPDs'
// accounts and no city-wide one, and nobody changes their own account
// here. Every change is recorded, no password is logged.
func TestAccountAdministrationPages(t *testing.T) {
	f := newFixture(t)
	humas := f.client(t, "humas")
	code, body := get(t, humas, f.srv.URL+"/pengguna")
	if code != 200 {
		t.Fatalf("users page: %d", code)
	}
	hasAll(t, "the PPID Utama's users page", body,
		[]string{"17/03/2026 17:00", "belum pernah", `href="/pengguna/dlh"`, `href="/pengguna/dlh.ppid"`, "Admin DBMSDA", "Operator sistem", `<option value="opd_admin"`, `href="/pengguna">Pengguna</a>`},
		[]string{`href="/pengguna/ops"`, `href="/pengguna/humas"`, `<option value="operator"`, `<option value="ppid_utama"`})

	// Adding: the forms' mistakes are said in the page's language and add nobody.
	add := func(form url.Values) (int, string) {
		return post(t, humas, f.srv.URL+"/pengguna", form)
	}
	for _, tc := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"login": {"dlh2"}, "name": {"Staf DLH"}, "role": {"opd_admin"}, "opd": {"tidak_ada"}}, 400, "peran opd_admin memerlukan salah satu OPD kota"},
		{url.Values{"login": {"dlh2"}, "name": {""}, "role": {"opd_admin"}, "opd": {"lingkungan_hidup"}}, 400, "isi nama"},
		{url.Values{"login": {"Dl h"}, "name": {"Staf"}, "role": {"opd_admin"}, "opd": {"lingkungan_hidup"}}, 400, "nama pengguna harus 2-40 huruf kecil"},
		{url.Values{"login": {"humas2"}, "name": {"Humas 2"}, "role": {"ppid_utama"}}, 403, "peran Anda tidak dapat mengelola akun ppid_utama"},
		{url.Values{"login": {"dlh"}, "name": {"Lagi"}, "role": {"opd_admin"}, "opd": {"lingkungan_hidup"}}, 409, "pengguna dlh sudah ada"},
	} {
		code, body := add(tc.form)
		if code != tc.code || !strings.Contains(body, tc.want) || !strings.Contains(body, `value="`+tc.form.Get("name")+`"`) {
			t.Errorf("add %v: %d, want %d with %q and the form kept", tc.form, code, tc.code, tc.want)
		}
	}
	code, body = add(url.Values{"login": {"DLH2"}, "name": {"Staf DLH <b>baru</b>"}, "role": {"opd_admin"}, "opd": {"lingkungan_hidup"}, "email": {"staf@example.go.id"}})
	if code != 200 {
		t.Fatalf("add: %d\n%s", code, f.logs.String())
	}
	temp := shownPassword(t, body)
	hasAll(t, "the new user's page", body, []string{"Pengguna ditambahkan.", "Staf DLH &lt;b&gt;baru&lt;/b&gt;", "Belum mengganti kata sandi sementara"}, []string{"<b>baru</b>"})

	// The new user: only the account page opens until the password is theirs.
	staf := f.signIn(t, "dlh2", temp)
	for _, path := range []string{"/antrian/lingkungan_hidup", "/", "/laporan", "/cari?q=sampah"} {
		res, err := staf.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/akun" {
			t.Errorf("%s with a temporary password: %d to %q, want the account page", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if code, _ := get(t, staf, f.srv.URL+"/api/v1/items"); code != http.StatusForbidden {
		t.Errorf("the API with a temporary password: %d", code)
	}
	_, body = get(t, staf, f.srv.URL+"/akun")
	hasAll(t, "the account page with a temporary password", body, []string{"Kata sandi Anda dibuat oleh pengelola akun"}, []string{`href="/antrian/`, `action="/cari"`})
	const own = "milik-staf-sendiri-1"
	if code, _ := post(t, staf, f.srv.URL+"/akun", url.Values{"current": {temp}, "new": {own}, "confirm": {own}}); code != http.StatusSeeOther {
		t.Fatalf("replacing the temporary password: %d", code)
	}
	if code, _ := get(t, staf, f.srv.URL+"/antrian/lingkungan_hidup"); code != 200 {
		t.Errorf("the queue after the password is the owner's: %d", code)
	}

	// Editing: the PPID Utama may move an account between OPD roles, not
	// make it city-wide, and not touch a city-wide account.
	dbm := f.client(t, "dbm")
	edit := url.Values{"action": {"edit"}, "name": {"PPID DBMSDA"}, "role": {"ppid_pelaksana"}, "opd": {"bina_marga_sda"}, "email": {"ppid.dbmsda@example.go.id"}}
	if code, _ := post(t, humas, f.srv.URL+"/pengguna/dbm", edit); code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	if u, _ := f.st.User(context.Background(), "dbm"); u.Role != "ppid_pelaksana" || u.Email != "ppid.dbmsda@example.go.id" || u.Name != "PPID DBMSDA" {
		t.Errorf("after the edit: %+v", u)
	}
	if code, _ := get(t, dbm, f.srv.URL+"/antrian/bina_marga_sda"); code != 200 {
		t.Errorf("an edit ended the session: %d", code)
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/pengguna/dbm", url.Values{"action": {"edit"}, "name": {"x"}, "role": {"operator"}}},
		{"/pengguna/ops", url.Values{"action": {"disable"}}},
		{"/pengguna/humas", url.Values{"action": {"disable"}}},
	} {
		if code, _ := post(t, humas, f.srv.URL+tc.path, tc.form); code != http.StatusForbidden {
			t.Errorf("%s %v: %d, want 403", tc.path, tc.form, code)
		}
	}
	if u, _ := f.st.User(context.Background(), "ops"); u.Disabled {
		t.Fatal("the PPID Utama disabled the operator")
	}

	// A reset ends the account's sessions and shows the new password once.
	code, body = post(t, humas, f.srv.URL+"/pengguna/dbm", url.Values{"action": {"reset"}})
	if code != 200 {
		t.Fatalf("reset: %d", code)
	}
	reset := shownPassword(t, body)
	if code, _ := get(t, dbm, f.srv.URL+"/antrian/bina_marga_sda"); code != http.StatusSeeOther {
		t.Errorf("a session outlived the reset: %d", code)
	}
	f.signIn(t, "dbm", reset)

	// Disabling signs the person out at once; enabling lets them back.
	dlh := f.client(t, "dlh")
	if code, _ := post(t, humas, f.srv.URL+"/pengguna/dlh", url.Values{"action": {"disable"}}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _ := get(t, dlh, f.srv.URL+"/antrian/lingkungan_hidup"); code != http.StatusSeeOther {
		t.Errorf("a disabled account's session: %d", code)
	}
	if code, _ := post(t, f.client(t, ""), f.srv.URL+"/masuk", url.Values{"login": {"dlh"}, "password": {pw}}); code == http.StatusSeeOther {
		t.Error("a disabled account signed in")
	}
	if code, _ := post(t, humas, f.srv.URL+"/pengguna/dlh", url.Values{"action": {"enable"}}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	f.client(t, "dlh")

	// Their own account is the account page's.
	res, err := humas.Get(f.srv.URL + "/pengguna/humas")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/akun" {
		t.Errorf("the PPID Utama's own account: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	// The operator keeps every account, the city-wide ones too.
	ops := f.client(t, "ops")
	_, body = get(t, ops, f.srv.URL+"/pengguna?lang=en")
	hasAll(t, "the operator's users page", body, []string{`href="/pengguna/humas"`, `<option value="operator"`, "Latest account changes"}, []string{`href="/pengguna/ops"`})
	if code, _ := post(t, ops, f.srv.URL+"/pengguna/humas", url.Values{"action": {"edit"}, "name": {"Humas Kota"}, "role": {"ppid_utama"}, "opd": {"lingkungan_hidup"}}); code != http.StatusSeeOther {
		t.Errorf("the operator edits the PPID Utama: %d", code)
	}
	if u, _ := f.st.User(context.Background(), "humas"); u.OPD != "" || u.Name != "Humas Kota" {
		t.Errorf("a city-wide role kept the form's OPD: %+v", u)
	}

	// The record, newest first, in the page's language.
	_, body = get(t, humas, f.srv.URL+"/pengguna")
	want := []string{"<b>ops</b> mengubah data <b>humas</b>", "<b>humas</b> mengaktifkan kembali <b>dlh</b>", "<b>humas</b> menonaktifkan <b>dlh</b>",
		"<b>humas</b> membuat kata sandi sementara untuk <b>dbm</b>", "<b>humas</b> mengubah data <b>dbm</b> (ppid_pelaksana bina_marga_sda)",
		"<b>dlh2</b> mengganti kata sandinya sendiri", "<b>humas</b> menambahkan <b>dlh2</b> (opd_admin lingkungan_hidup)"}
	last := -1
	for _, w := range want {
		i := strings.Index(body, w)
		if i < 0 || i < last {
			t.Errorf("the record lacks %q or has it out of order", w)
		}
		last = i
	}
	logs := f.logs.String()
	for _, secret := range []string{temp, reset, own} {
		if strings.Contains(logs, secret) {
			t.Errorf("a password is in the log")
		}
	}
}
