package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

// messages holds the UI strings: Bahasa Indonesia first, English second.
var messages = map[string][2]string{
	"app":                  {"Tanggap", "Tanggap"},
	"tagline":              {"Tidak ada aduan warga yang terlewat", "No citizen complaint left unanswered"},
	"home":                 {"Papan kota", "City board"},
	"queue":                {"Antrian", "Queue"},
	"unrouted":             {"Belum terdisposisi", "Not yet routed"},
	"opd":                  {"Perangkat Daerah", "Department"},
	"overdue":              {"Terlambat", "Overdue"},
	"due_soon":             {"Segera jatuh tempo", "Due soon"},
	"on_track":             {"Sesuai jadwal", "On track"},
	"answered":             {"Sudah dijawab", "Answered"},
	"new":                  {"Belum dijawab", "Not yet answered"},
	"left":                 {"sisa", "left"},
	"late":                 {"terlambat", "late by"},
	"ago":                  {"lalu", "ago"},
	"received":             {"Diterima", "Received"},
	"deadline":             {"Tenggat tanggapan pertama", "First-response deadline"},
	"status":               {"Status", "Status"},
	"kind":                 {"Jenis", "Kind"},
	"author":               {"Pelapor", "Reporter"},
	"author_unknown":       {"tidak diberikan platform", "not given by the platform"},
	"via_mention":          {"menyebut akun ini di unggahan akun lain", "mentioned this account on another account's post"},
	"platform":             {"Kanal", "Channel"},
	"account":              {"Akun", "Account"},
	"open_post":            {"Buka unggahan asli", "Open the original post"},
	"confidence":           {"Keyakinan", "Confidence"},
	"why":                  {"Alasan klasifikasi", "Why this routing"},
	"history":              {"Riwayat", "History"},
	"assign":               {"Disposisikan ke OPD lain", "Assign to another department"},
	"reason":               {"Alasan", "Reason"},
	"save":                 {"Simpan", "Save"},
	"mark_answer":          {"Tandai sudah dijawab", "Mark as answered"},
	"reply_link":           {"Tautan balasan publik", "Link to the public reply"},
	"answered_at":          {"Dijawab", "Answered"},
	"answered_by":          {"oleh", "by"},
	"empty":                {"Tidak ada.", "None."},
	"error":                {"Terjadi kesalahan", "Something went wrong"},
	"back":                 {"Kembali", "Back"},
	"urgent":               {"Darurat", "Urgent"},
	"place":                {"Lokasi", "Place"},
	"ok_assigned":          {"Berhasil didisposisikan.", "Assigned."},
	"ok_answered":          {"Ditandai sudah dijawab.", "Marked as answered."},
	"total":                {"Jumlah", "Total"},
	"lang_other":           {"English", "Bahasa Indonesia"},
	"truncated":            {"Teks dipotong karena terlalu panjang.", "Text cut: too long."},
	"deleted":              {"Unggahan ini sudah dihapus di platform.", "This post was deleted on the platform."},
	"edited":               {"Diubah oleh pelapor setelah direkam", "Edited by the reporter after capture"},
	"blind":                {"belum terpantau", "not seen for"},
	"partly_blind":         {"hanya terpantau sebagian selama", "only partly seen for"},
	"signout":              {"Keluar", "Sign out"},
	"signin":               {"Masuk", "Sign in"},
	"username":             {"Nama pengguna", "Username"},
	"password":             {"Kata sandi", "Password"},
	"my_account":           {"Akun saya", "My account"},
	"full_name":            {"Nama", "Name"},
	"role":                 {"Peran", "Role"},
	"role_opd_admin":       {"Admin OPD", "OPD admin"},
	"role_ppid_pelaksana":  {"PPID Pelaksana", "PPID Pelaksana (OPD information officer)"},
	"role_ppid_utama":      {"PPID Utama / Humas", "PPID Utama / Public relations"},
	"role_operator":        {"Operator sistem", "System operator"},
	"change_password":      {"Ganti kata sandi", "Change password"},
	"current_password":     {"Kata sandi sekarang", "Current password"},
	"new_password":         {"Kata sandi baru", "New password"},
	"confirm_password":     {"Ulangi kata sandi baru", "New password again"},
	"password_note":        {"10 sampai 72 karakter. Setelah diganti, semua sesi lain akun ini berakhir (termasuk di perangkat lain).", "10 to 72 characters. Once changed, every other session of this account ends (on other devices too)."},
	"password_changed":     {"Kata sandi diganti. Sesi lain akun ini sudah diakhiri.", "Password changed. Every other session of this account has ended."},
	"hours":                {"jam", "hours"},
	"users":                {"Pengguna", "Users"},
	"users_note_operator":  {"Anda mengelola semua akun. Akun Anda sendiri diubah di halaman Akun saya.", "You manage every account. Your own is changed on My account."},
	"users_note_ppid":      {"Anda mengelola akun Admin OPD dan PPID Pelaksana. Akun tingkat kota dikelola operator sistem; akun Anda sendiri diubah di halaman Akun saya.", "You manage the OPD admins' and PPID Pelaksana accounts. City-wide accounts are the system operator's; your own is changed on My account."},
	"email":                {"Surel", "E-mail"},
	"citywide":             {"seluruh kota", "city-wide"},
	"user_active":          {"Aktif", "Active"},
	"last_sign_in":         {"Terakhir masuk", "Last sign-in"},
	"never":                {"belum pernah", "never"},
	"user_disabled":        {"Nonaktif", "Disabled"},
	"user_temp":            {"Belum mengganti kata sandi sementara", "Temporary password not yet replaced"},
	"user_add":             {"Tambah pengguna", "Add a user"},
	"user_add_note":        {"Kata sandi sementara dibuat otomatis dan ditampilkan sekali. Pengguna wajib menggantinya saat pertama masuk.", "A temporary password is made and shown once. Its owner must replace it at first sign-in."},
	"user_opd_note":        {"(untuk Admin OPD dan PPID Pelaksana)", "(for OPD admins and PPID Pelaksana)"},
	"user_email_note":      {"(opsional, untuk ringkasan eskalasi)", "(optional, for the escalation digest)"},
	"user_changes":         {"Perubahan akun terakhir", "Latest account changes"},
	"user_details":         {"Data akun", "Account details"},
	"user_reset":           {"Buat kata sandi sementara baru", "Make a new temporary password"},
	"user_reset_note":      {"Untuk pengguna yang lupa kata sandi. Semua sesinya berakhir; kata sandi baru ditampilkan sekali dan wajib diganti saat masuk.", "For a forgotten password. Every session of the account ends; the new password is shown once and must be replaced at sign-in."},
	"user_disable":         {"Nonaktifkan akun", "Disable the account"},
	"user_disable_note":    {"Untuk pegawai yang pindah tugas. Pengguna langsung keluar dan tidak dapat masuk lagi; riwayat tindakannya tetap tersimpan.", "For someone who moved on. They are signed out at once and cannot sign in; the history of what they did stays."},
	"user_enable":          {"Aktifkan kembali", "Enable again"},
	"temp_password_is":     {"Kata sandi sementara (sampaikan langsung kepada pemilik akun):", "Temporary password (hand it to the account's owner in person):"},
	"temp_password_note":   {"Hanya ditampilkan sekali dan tidak disimpan dalam bentuk terbaca. Pemilik akun wajib menggantinya saat pertama masuk.", "Shown this once and not kept readable. Its owner must replace it at first sign-in."},
	"temp_password_banner": {"Kata sandi Anda dibuat oleh pengelola akun. Ganti dulu kata sandi Anda sebelum mulai bekerja.", "An account administrator set your password. Replace it before you start."},
	"ok_user_added":        {"Pengguna ditambahkan.", "User added."},
	"ok_user_edit":         {"Data akun disimpan.", "Account details saved."},
	"ok_user_reset":        {"Kata sandi sementara baru dibuat; semua sesi akun ini berakhir.", "A new temporary password was made; every session of the account has ended."},
	"ok_user_disable":      {"Akun dinonaktifkan; penggunanya sudah keluar.", "Account disabled; its user is signed out."},
	"ok_user_enable":       {"Akun diaktifkan kembali.", "Account enabled again."},
	"uc_add":               {"menambahkan", "added"},
	"uc_edit":              {"mengubah data", "changed the details of"},
	"uc_reset":             {"membuat kata sandi sementara untuk", "made a temporary password for"},
	"uc_disable":           {"menonaktifkan", "disabled"},
	"uc_enable":            {"mengaktifkan kembali", "enabled"},
	"uc_password":          {"mengganti kata sandinya sendiri", "changed their own password"},
	"working_days":         {"HK", "working days"},
	"text":                 {"Teks", "Text"},
	"never_answered":       {"Belum pernah dijawab", "Never answered"},
	"aging":                {"Umur aduan terbuka", "Age of open items"},
	"held":                 {"Tunda", "On hold"},
	"held_for":             {"menunggu warga selama", "waiting for the citizen for"},
	"held_ends":            {"ditutup otomatis bila warga belum menjawab pada", "closes without the citizen's answer on"},
	"in_progress":          {"Sudah dijawab, diproses", "Answered, in progress"},
	"queue_pager":          {"Menampilkan aduan %d-%d dari %d yang tenggatnya berjalan, tenggat terdekat lebih dulu; %d di antaranya terlambat.", "Showing items %d-%d of the %d with a running clock, nearest deadline first; %d of them are overdue."},
	"held_note":            {"Menampilkan %d yang paling awal diterima dari %d aduan yang ditunda.", "Showing the %d received first of the %d items on hold."},
	"prev_page":            {"« Halaman sebelumnya", "« Previous page"},
	"search":               {"Cari", "Search"},
	"search_title":         {"Cari aduan", "Search items"},
	"search_placeholder":   {"Cari teks, pelapor, kelurahan, ID…", "Search text, reporter, kelurahan, id…"},
	"search_help":          {"Semua kata harus ada (huruf besar/kecil sama saja) di teks, pelapor, kelurahan/kecamatan, akun, ID atau tautan aduan.", "Every word must occur (in any case) in the item's text, reporter, kelurahan/kecamatan, account, id or link."},
	"search_all":           {"Ditemukan %d di antara semua %d aduan.", "Found %d among all %d items."},
	"search_all_period":    {"Ditemukan %d di antara semua %d aduan yang diterima pada tanggal itu.", "Found %d among all %d items received on those days."},
	"search_read":          {"Ditemukan %d di antara %d aduan yang diterima %s sampai %s.", "Found %d among the %d items received from %s to %s."},
	"search_older_left":    {"Aduan yang lebih lama belum dicari.", "Older items were not searched yet."},
	"search_none_older":    {"Tidak ada aduan yang lebih lama.", "There are no older items."},
	"search_none_left":     {"Tidak ada aduan lain yang lebih lama.", "There are no more older items."},
	"search_capped":        {"Hanya %d hasil pertama yang ditampilkan.", "Only the first %d matches are shown."},
	"search_more":          {"Lanjutkan ke aduan yang lebih lama", "Continue with older items"},
	"search_from":          {"Diterima dari tanggal", "Received from"},
	"search_until":         {"sampai tanggal", "to"},
	"next_page":            {"Halaman berikutnya »", "Next page »"},
	"claimed_by":           {"sedang ditangani", "being handled by"},
	"select":               {"Pilih", "Select"},
	"bulk":                 {"Tindakan massal untuk yang dipilih", "Bulk action on the selection"},
	"live":                 {"Diperbarui otomatis", "Updates live"},
	"clock":                {"Jenis tenggat", "Clock"},
	"clock_first_response": {"tanggapan pertama", "first response"},
	"clock_routing":        {"disposisi", "routing"},
	"clock_followup":       {"tindak lanjut OPD", "OPD follow-up"},
	"clock_resolution":     {"penyelesaian", "resolution"},
	"clock_":               {"", ""},
	"act_claim":            {"Ambil (saya tangani)", "Claim"},
	"act_release":          {"Lepaskan", "Release"},
	"act_assign":           {"Disposisikan ke OPD lain", "Assign to another department"},
	"act_answer":           {"Tandai sudah dijawab", "Mark as answered"},
	"act_resolve":          {"Selesaikan dengan bukti", "Resolve with evidence"},
	"act_archive":          {"Arsipkan (bukan aduan)", "Archive (not a complaint)"},
	"act_out_of_scope":     {"Bukan wewenang Pemkot", "Out of the city's scope"},
	"act_duplicate":        {"Tandai duplikat", "Mark as duplicate"},
	"act_hold":             {"Tunda (menunggu warga)", "Put on hold (waiting for the citizen)"},
	"act_resume":           {"Lanjutkan", "Resume"},
	"act_extend":           {"Perpanjang tenggat penyelesaian", "Extend the resolution deadline"},
	"extend_info_request":  {"Permintaan informasi: diperpanjang sekali, dengan pemberitahuan tertulis kepada pemohon (UU 14/2008 Pasal 22)", "Information request: extended once, with written notice to the requester (UU 14/2008 art. 22)"},
	"extend_field_check":   {"Penyelesaian perlu pemeriksaan lapangan: tenggatnya diperpanjang sekali", "Resolution needs a field check: its deadline is extended once"},
	"act_reopen":           {"Buka kembali", "Reopen"},
	"act_close":            {"Tutup", "Close"},
	"evidence":             {"Bukti (tautan, foto, nomor surat)", "Evidence (link, photo, letter reference)"},
	"target":               {"Instansi tujuan", "Target agency"},
	"tracking_id":          {"Nomor pelacakan (mis. SP4N-LAPOR!)", "Tracking id (e.g. SP4N-LAPOR!)"},
	"duplicate_of":         {"ID aduan asal", "Id of the original item"},
	"replies_to":           {"Membalas", "Replies to"},
	"cluster_first":        {"Laporan serupa yang pertama diterima", "First similar report received"},
	"duplicate_of_item":    {"Duplikat dari", "Duplicate of"},
	"reason_code":          {"Kode alasan", "Reason code"},
	"board_note":           {"Merah: ada yang terlambat. Kuning: ada yang jatuh tempo dalam 1 HK (atau 4 jam untuk tanggapan pertama). Hijau: semua sesuai jadwal.", "Red: something is overdue. Yellow: something is due within 1 working day (4 hours for the first response). Green: all on track."},
	"cuti_note":            {"Cuti bersama dihitung sebagai hari libur", "Cuti bersama count as non-working days"},
	"cuti_note_off":        {"Cuti bersama dihitung sebagai hari kerja", "Cuti bersama count as working days"},
	"calendar":             {"Kalender", "Calendar"},
	"hops":                 {"Perpindahan OPD", "Hops between OPDs"},
	"reporters":            {"Jumlah pelapor", "Reporters"},
	"n_reporters":          {"pelapor", "reporters"},
	"in_cluster_of":        {"bagian dari kelompok laporan serupa", "part of a cluster of similar reports"},
	"cluster_members":      {"Laporan serupa yang bergabung", "Similar reports that joined"},
	"this_report":          {"Laporan ini (yang pertama diterima)", "This report (the first received)"},
	"similar_title":        {"Mungkin laporan yang sama", "Possibly the same report"},
	"similar_note":         {"Laporan dari tempat yang sama dalam 3 hari dengan teks mirip, yang tidak digabung otomatis. Bila memang sama, tandai laporan ini sebagai duplikatnya; pelapornya tetap perlu dijawab.", "Reports from the same place within 3 days with a similar text that were not joined automatically. If they are the same, mark this report a duplicate of one; its citizen still needs an answer."},
	"similarity":           {"Kemiripan", "Similarity"},
	"duplicate_of_this":    {"Duplikat dari ini", "Duplicate of this"},
	"members_elsewhere":    {"%d laporan lain di kelompok ini berada di OPD lain.", "%d more reports of this cluster are with another OPD."},
	"members_capped":       {"Hanya %d laporan yang ditampilkan.", "Only %d reports are listed."},
	"members_unlisted":     {"Setidaknya %d laporan yang bergabung tidak tercantum: bergabung sebelum daftar ini dicatat, atau dihapus karena berakhir sebelum batas penyimpanan (pelapornya tetap terhitung).", "At least %d reports that joined are not listed: they joined before this list was kept, or were removed for having ended before the retention cutoff (their citizens are counted among the reporters)."},
	"ok_done":              {"Tersimpan.", "Saved."},
	"reports":              {"Laporan", "Reports"},
	"deadline_any":         {"Tenggat", "Deadline"},
	"overruled":            {"Dikoreksi manusia", "Overruled"},
	"overruled_help":       {"Bagian disposisi otomatis classifier ke OPD ini yang dipindahkan oleh petugas", "Share of the classifier's routings to this OPD that people moved"},
	"corrections_csv":      {"Unduh koreksi (CSV latih)", "Download corrections (training CSV)"},
	"no_link":              {"Tautan unggahan tidak tersedia", "No link to the post"},
	// The history's actions (tanggap.Event.Action) and system actors, as
	// the history shows them; an action not listed shows its code.
	"ev_ingest":       {"diterima", "received"},
	"ev_edit":         {"diubah pelapor", "edited by the reporter"},
	"ev_delete":       {"dihapus di platform", "deleted on the platform"},
	"ev_cluster":      {"laporan serupa bergabung", "a similar report joined"},
	"ev_answer":       {"dijawab", "answered"},
	"ev_claim":        {"diambil untuk ditangani", "claimed"},
	"ev_release":      {"dilepaskan", "released"},
	"ev_assign":       {"didisposisikan", "assigned"},
	"ev_resolve":      {"diselesaikan", "resolved"},
	"ev_archive":      {"diarsipkan", "archived"},
	"ev_out_of_scope": {"ditandai bukan wewenang Pemkot", "marked out of the city's scope"},
	"ev_duplicate":    {"ditandai duplikat", "marked as duplicate"},
	"ev_hold":         {"ditunda", "put on hold"},
	"ev_resume":       {"dilanjutkan", "resumed"},
	"ev_reopen":       {"dibuka kembali", "reopened"},
	"ev_extend":       {"tenggat penyelesaian diperpanjang", "resolution deadline extended"},
	"ev_close":        {"ditutup", "closed"},
	"actor_triage":    {"sistem (triase)", "system (triage)"},
	"actor_system":    {"sistem", "system"},
	"actor_(cli)":     {"operator lewat `tanggap user`", "an operator with `tanggap user`"},
	// workflow.ArchiveReasons, as the archive forms offer them.
	"reason_praise":             {"Pujian / apresiasi", "Praise"},
	"reason_answered_elsewhere": {"Sudah dijawab di kanal lain", "Answered elsewhere"},
	"reason_spam":               {"Spam / promosi", "Spam"},
	"reason_noise":              {"Bukan aduan (obrolan, salam)", "Noise (chatter, greetings)"},
	"reason_not_actionable":     {"Tidak dapat ditindaklanjuti", "Not actionable"},
}

// featureEN puts the prefixes of the explaining features (triage and
// triage/classify write them, in Indonesian, and they are stored with the
// item) into English; what follows a prefix is the citizen's words or a
// code. The first prefix that matches wins: longer ones come first.
var featureEN = []struct{ id, en string }{
	// "darurat: <category>: <phrase>" (classify.UrgentReasons, as
	// cmd/tanggap adds them to the features).
	{"darurat: kebakaran: ", "urgent: fire: "},
	{"darurat: banjir: ", "urgent: flood: "},
	{"darurat: kecelakaan: ", "urgent: accident: "},
	{"darurat: pohon tumbang: ", "urgent: fallen tree: "},
	{"darurat: bencana: ", "urgent: disaster: "},
	{"darurat: ancaman jiwa atau kesehatan: ", "urgent: threat to life or health: "},
	{"aturan: PJU milik ", "rule: street lights owned by "},
	{"aturan: ", "rule: "},
	{"akun: ", "account: "},
	{"kata kunci ", "keyword "},
	{"frasa: ", "phrase: "},
	{"kata: ", "word: "},
	{"darurat: ", "urgent: "},
	{"bukan wewenang kota: ", "outside the city's remit: "},
	{"saran: ", "suggested: "},
}

// featureLabel is an explaining feature as the page's language shows it.
func featureLabel(f, l string) string {
	if l != "en" {
		return f
	}
	for _, p := range featureEN {
		if rest, ok := strings.CutPrefix(f, p.id); ok {
			return p.en + rest
		}
	}
	return f
}

// inLang is table[key] in language l (Bahasa Indonesia first, English
// second), or fallback when the table has no key.
func inLang(table map[string][2]string, key, l, fallback string) string {
	m, ok := table[key]
	if !ok {
		return fallback
	}
	if l == "en" {
		return m[1]
	}
	return m[0]
}

// lang is "en" when the person asked for English (?lang=en, then a cookie).
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "id" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "id"
}

func (s *Server) t(r *http.Request, key string) string { return inLang(messages, key, lang(r), key) }

// localTime is an instant as the pages show it: the city's time zone,
// day first.
func (s *Server) localTime(t time.Time) string { return t.In(s.loc).Format("02/01/2006 15:04") }

// duration renders a duration for people: "47 menit", "3 jam", "2 hari".
func (s *Server) duration(r *http.Request, d time.Duration) string {
	en := lang(r) == "en"
	unit := func(n int, id, en1, enN string) string {
		if !en {
			return fmt.Sprintf("%d %s", n, id)
		}
		if n == 1 {
			return fmt.Sprintf("%d %s", n, en1)
		}
		return fmt.Sprintf("%d %s", n, enN)
	}
	switch {
	case d < time.Hour:
		return unit(int(d/time.Minute), "menit", "minute", "minutes")
	case d < 48*time.Hour:
		return unit(int(d/time.Hour), "jam", "hour", "hours")
	}
	return unit(int(d/(24*time.Hour)), "hari", "day", "days")
}

func (s *Server) parseTemplates() error {
	s.tmpl = map[string]*template.Template{}
	for _, page := range []string{"home", "queue", "item", "search", "account", "users", "user", "error", "login", "report", "report_print"} {
		t := template.New("layout.html").Funcs(template.FuncMap{
			"statusLabel": func(st tanggap.Status, l string) string { return st.Label(l) },
			"kindLabel":   func(k tanggap.Kind, l string) string { return k.Label(l) },
			"pct":         func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
			"add3":        func(a, b, c int64) int64 { return a + b + c },
			"opdName":     func(code string) string { return s.opdLabel(code) },
			"eventLabel":  func(action, l string) string { return inLang(messages, "ev_"+action, l, action) },
			"actorLabel":  func(login, l string) string { return inLang(messages, "actor_"+login, l, login) },
			"whyLabel":    featureLabel,
			"localTime":   s.localTime,
			"mul":         func(a, b int) int { return a * b },
			"plus":        func(a int, b any) int64 { return int64(a) + toInt64(b) },
			"scale":       func(n, total int64) int64 { return n * 200 / max(total, 1) },
			"scale2":      func(a, b, total int64) int64 { return (a + b) * 200 / max(total, 1) },
			"dict": func(kv ...any) map[string]any {
				m := map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			},
		})
		files := []string{"templates/layout.html", "templates/" + page + ".html"}
		switch page {
		case "report", "report_print":
			files = append(files, "templates/report_parts.html") // the tables both show
		case "queue", "item":
			files = append(files, "templates/bulk_parts.html") // the bulk actions both offer
		case "users", "user":
			files = append(files, "templates/account_parts.html") // the account fields both edit
		}
		t, err := t.ParseFS(templateFS, files...)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", page, err)
		}
		s.tmpl[page] = t
	}
	return nil
}

// render executes a page into a buffer first, so a template error never
// leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, data map[string]any) error {
	return s.renderCode(w, r, page, http.StatusOK, data)
}

func (s *Server) renderCode(w http.ResponseWriter, r *http.Request, page string, code int, data map[string]any) error {
	l := lang(r)
	if q := r.URL.Query().Get("lang"); q == "en" || q == "id" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	data["Lang"] = l
	data["T"] = func(key string) string { return s.t(r, key) }
	data["Me"] = principal(r)
	data["Path"] = r.URL.Path
	q := r.URL.Query()
	if l == "en" {
		q.Set("lang", "id")
	} else {
		q.Set("lang", "en")
	}
	data["LangURL"] = r.URL.Path + "?" + q.Encode()
	if s.opt.Coverage != nil && data["Me"] != nil {
		var gaps []string
		now := s.opt.Now()
		for _, g := range s.opt.Coverage(r.Context()) {
			blind := "blind"
			if g.Reason == "partial" { // polled, but not all of it (collectors.GapPartial)
				blind = "partly_blind"
			}
			gaps = append(gaps, fmt.Sprintf("%s @%s %s %s: %s", g.Platform.Label(), g.Account, s.t(r, blind), s.duration(r, now.Sub(g.Since)), gapReason(g.Reason, l)))
		}
		data["Gaps"] = gaps
	}
	if s.opt.Clocks != nil {
		cal := s.opt.Clocks.Calendar()
		data["HolidayWarning"] = cal.MissingYearWarningIn(s.opt.Now(), l)
		data["CalendarVersion"] = cal.Version()
		data["CutiNonworking"] = cal.CutiBersamaIsNonworking()
	}
	var buf bytes.Buffer
	if err := s.tmpl[page].Execute(&buf, data); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, err := buf.WriteTo(w)
	return err
}

// renderPart renders one named template of a page (an htmx fragment).
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, page, part string, data map[string]any) error {
	data["Lang"] = lang(r)
	data["T"] = func(key string) string { return s.t(r, key) }
	data["Me"] = principal(r)
	var buf bytes.Buffer
	if err := s.tmpl[page].ExecuteTemplate(&buf, part, data); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, part, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

// gapReasons name a coverage gap's reason (collectors' gap reasons) in the
// banner; gapReason falls back to the code.
var gapReasons = map[string][2]string{
	"rate_limited":      {"batas API", "API limit"},
	"token_expired":     {"token kedaluwarsa", "token expired"},
	"api_error":         {"API gagal", "API failing"},
	"publish_failed":    {"Kafka tidak menerima", "Kafka not accepting"},
	"posts_unreachable": {"pos terlewat, tidak lagi disajikan API", "posts missed, no longer served by the API"},
	"backlog":           {"komentar belum terbaca semua", "comments not all read yet"},
	"collector_silent":  {"kolektor tidak melapor", "collector silent"},
	"partial":           {"kuota API tidak cukup, balasan di utas lama tidak terbaca", "API quota too small, replies to older threads not read"},
}

func gapReason(reason, l string) string { return inLang(gapReasons, reason, l, reason) }

// opdLabel is an OPD's name (for templates; the code when unknown).
func (s *Server) opdLabel(code string) string {
	switch code {
	case "", "city", "mayor":
		return map[string]string{"": "-", "city": "Pemerintah Kota", "mayor": "Wali Kota"}[code]
	}
	if o, ok := s.opt.Config.OPD(code); ok {
		return o.Name
	}
	return code
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *Principal, err error) {
	code := httpStatus(err)
	if code >= 500 {
		s.opt.Log.Error("page_failed", "path", r.URL.Path, "err", err)
	}
	l := lang(r)
	if rerr := s.renderCode(w, r, "error", code, map[string]any{"Code": code, "Title": errorTitle(err, l), "Message": pageMessage(err, l)}); rerr != nil {
		s.opt.Log.Error("render_error_page_failed", "err", rerr)
	}
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	return 0
}
