package web

import "github.com/tanggap/tanggap"

// errorTexts are the messages of the errors a person can meet on a page
// (bad input, not found, conflicts, refusals) in Bahasa Indonesia, keyed by
// the English format they are built with (tanggap.Errorf): the same
// arguments in the same fmt verbs, indexed where the sentence takes them in
// another order. TestErrorTextsComplete finds every such format in web,
// workflow, store and report and fails on one without its sentence here.
// The JSON API keeps the English message.
var errorTexts = map[string]string{
	// workflow: the actions on an item
	"item %s not found": "aduan %s tidak ditemukan",
	"item %s was changed by someone else (now version %d): reload and try again":           "aduan %s baru saja diubah orang lain (kini versi %d): muat ulang halaman lalu coba lagi",
	"item %s is being handled by %s until %s":                                              "aduan %s sedang ditangani %s sampai pukul %s",
	"item %s is already claimed by %s until %s":                                            "aduan %s sudah diambil %s sampai pukul %s",
	"item %s is already with %s":                                                           "aduan %s sudah berada di %s",
	"item %s is not on hold":                                                               "aduan %s tidak sedang ditunda",
	"an item in status %s cannot move to %s":                                               "aduan berstatus %s tidak dapat diubah menjadi %s",
	"reason is longer than 1000 characters":                                                "alasan lebih dari 1000 karakter",
	"unknown OPD %q":                                                                       "OPD %q tidak dikenal",
	"unknown action %q":                                                                    "tindakan %q tidak dikenal",
	"a reason is required to assign or reassign":                                           "isi alasan untuk mendisposisikan atau mengalihkan aduan",
	"a reason is required to put an item on hold (what the citizen must send)":             "isi alasan penundaan (apa yang harus dikirim warga)",
	"a reason is required to reopen":                                                       "isi alasan untuk membuka kembali aduan",
	"a reason is required to extend the deadline (what the requester or citizen was told)": "isi alasan perpanjangan tenggat (apa yang disampaikan kepada pemohon atau warga)",
	"only an open item's resolution deadline can be extended":                              "hanya tenggat penyelesaian aduan yang masih terbuka yang dapat diperpanjang",
	"item %s was extended once already":                                                    "tenggat aduan %s sudah pernah diperpanjang",
	"the city's clocks give no extension for this kind of item":                            "aturan tenggat kota tidak memberi perpanjangan untuk jenis aduan ini",
	"the link to the public reply must be an http(s) URL":                                  "tautan ke balasan publik harus berupa URL http(s)",
	"evidence (a link, a photo or a letter reference) is required to resolve":              "isi bukti penyelesaian (tautan, foto, atau nomor surat)",
	"archive needs a reason code: %s":                                                      "pilih alasan pengarsipan: %s",
	"out of scope needs the target agency (and its tracking id when there is one)":         "isi instansi yang berwenang (dan nomor lacaknya bila ada)",
	"duplicate needs the id of another item":                                               "isi ID aduan lain yang diulang aduan ini",
	"duplicate of %s: item not found":                                                      "duplikat dari %s: aduan tidak ditemukan",
	"at most 500 items at once":                                                            "paling banyak 500 aduan sekaligus",
	// web: forms, queues and exports
	"missing item version":                                     "versi aduan tidak terkirim: muat ulang halaman lalu coba lagi",
	"bad form":                                                 "isian formulir tidak terbaca",
	"select at least one item":                                 "pilih sedikitnya satu aduan",
	"action %q cannot be done in bulk":                         "tindakan %q tidak dapat dilakukan sekaligus",
	"%d of %d done; not done: %s":                              "%d dari %d selesai; belum: %s",
	"unknown status %q":                                        "status %q tidak dikenal",
	"limit must be 1..1000":                                    "limit harus 1..1000",
	"before must be RFC 3339":                                  "before harus berformat RFC 3339",
	"not your OPD":                                             "bukan OPD Anda",
	"search for at most %d characters":                         "kata pencarian paling banyak %d karakter",
	"%s must be YYYY-MM-DD, got %q":                            "tanggal %s harus berformat YYYY-MM-DD, bukan %q",
	"dari must not be after sampai":                            "tanggal dari tidak boleh sesudah tanggal sampai",
	"malformed search cursor %q":                               "penanda lanjutan pencarian %q tidak sah",
	"malformed cursor %q":                                      "penanda halaman %q tidak sah",
	"give cursor or before, not both":                          "isi cursor atau before, jangan keduanya",
	"this role cannot route items":                             "peran Anda tidak dapat mendisposisikan aduan",
	"this role sees no OPD":                                    "peran Anda tidak melihat OPD mana pun",
	"this role has no access to citizen data":                  "peran Anda tidak berhak melihat data warga",
	"the PPID Utama exports corrections":                       "koreksi diekspor oleh PPID Utama",
	"only the PPID Utama may see reporters' identities":        "hanya PPID Utama yang boleh melihat identitas pelapor",
	"unmask must be 1 or absent":                               "unmask harus 1 atau tidak diisi",
	"unmask applies to the register only":                      "unmask hanya berlaku untuk register",
	"sep must be semicolon or comma":                           "sep harus semicolon atau comma",
	"from and to go together (YYYY-MM-DD, both days included)": "isi tanggal dari dan sampai bersamaan (YYYY-MM-DD, kedua hari termasuk)",
	"sign in first":                                            "silakan masuk terlebih dahulu",
	// web: account administration
	"this role does not manage accounts":                                "peran Anda tidak mengelola akun",
	"change your own account on the account page":                       "ubah akun Anda sendiri di halaman Akun saya",
	"your role cannot manage %s accounts":                               "peran Anda tidak dapat mengelola akun %s",
	"a name of 1 to 100 characters is required":                         "isi nama (1 sampai 100 karakter)",
	"role %s needs one of the city's OPDs, got %q":                      "peran %s memerlukan salah satu OPD kota, bukan %q",
	"role %s is city-wide: it has no OPD":                               "peran %s berlaku untuk seluruh kota: tanpa OPD",
	"unknown role %q (opd_admin, ppid_pelaksana, ppid_utama, operator)": "peran %q tidak dikenal (opd_admin, ppid_pelaksana, ppid_utama, operator)",
	"replace the temporary password on the account page first":          "ganti dulu kata sandi sementara di halaman Akun saya",
	// report: periods
	"month must be YYYY-MM, got %q":            "bulan harus berformat YYYY-MM, bukan %q",
	"from must be YYYY-MM-DD, got %q":          "tanggal dari harus berformat YYYY-MM-DD, bukan %q",
	"to must be YYYY-MM-DD, got %q":            "tanggal sampai harus berformat YYYY-MM-DD, bukan %q",
	"to (%s) is before from (%s)":              "tanggal sampai (%s) sebelum tanggal dari (%s)",
	"empty report period":                      "periode laporan kosong",
	"a report period is at most one year":      "periode laporan paling lama satu tahun",
	"a report period starts in %d or later":    "periode laporan paling awal dimulai pada tahun %d",
	"a report period ends in %d at the latest": "periode laporan paling lambat berakhir pada tahun %d",
	// store: sign-in, sessions, users
	"wrong login or password":                                     "nama pengguna atau kata sandi salah",
	"too many failed sign-ins for this login: wait 15 minutes":    "terlalu banyak percobaan masuk yang gagal untuk nama pengguna ini: tunggu 15 menit",
	"too many failed sign-ins from this address: wait 15 minutes": "terlalu banyak percobaan masuk yang gagal dari alamat ini: tunggu 15 menit",
	"no session":                                        "belum masuk",
	"session ended by a new password":                   "sesi berakhir karena kata sandi diganti: silakan masuk lagi",
	"session expired":                                   "sesi berakhir: silakan masuk lagi",
	"user disabled":                                     "pengguna dinonaktifkan",
	"user not found":                                    "pengguna tidak ditemukan",
	"user %s not found":                                 "pengguna %s tidak ditemukan",
	"user %s already exists":                            "pengguna %s sudah ada",
	"a new user needs a password":                       "pengguna baru memerlukan kata sandi",
	"password must be 10 to 72 bytes":                   "kata sandi harus 10 sampai 72 byte",
	"the current password is wrong":                     "kata sandi sekarang salah",
	"the new password must differ from the current one": "kata sandi baru harus berbeda dari yang sekarang",
	"the two new passwords differ":                      "kedua isian kata sandi baru tidak sama",
	"not an e-mail address: %q":                         "bukan alamat surel: %q",
	"login must be 2-40 lower-case letters, digits, '.', '_' or '-'": "nama pengguna harus 2-40 huruf kecil, angka, '.', '_' atau '-'",
	"login %q names the system in the audit history: choose another": "nama pengguna %q dipakai sistem dalam riwayat audit: pilih yang lain",
}

// pageMessage is what a page says about err below its title, in the page's
// language: the error's own message when the person can act on it, nothing
// for a failure of ours (the title says so; the log has the detail).
func pageMessage(err error, l string) string {
	te := shown(err)
	if te == nil {
		return ""
	}
	if l == "en" {
		return te.Message
	}
	return te.In(l, func(format string) string { return errorTexts[format] })
}

// errorTitles say in the page's language what kind of error happened; the
// detail (pageMessage) follows. Codes without their own title take
// EINTERNAL's.
var errorTitles = map[string][2]string{
	tanggap.ECONFLICT:     {"Aduan ini sedang ditangani atau baru diubah orang lain. Muat ulang halaman lalu coba lagi.", "Someone else is handling or just changed this item. Reload and try again."},
	tanggap.ENOTFOUND:     {"Tidak ditemukan.", "Not found."},
	tanggap.EINVALID:      {"Isian belum benar.", "Please check the form."},
	tanggap.EFORBIDDEN:    {"Anda tidak berwenang membuka halaman ini.", "You may not open this page."},
	tanggap.ERATELIMIT:    {"Terlalu banyak percobaan. Tunggu sebentar.", "Too many attempts. Please wait."},
	tanggap.EUNAVAILABLE:  {"Layanan sedang tidak tersedia. Coba lagi sebentar lagi.", "The service is unavailable. Try again shortly."},
	tanggap.EUNAUTHORIZED: {"Silakan masuk terlebih dahulu.", "Please sign in first."},
	tanggap.EINTERNAL:     {"Terjadi kesalahan.", "Something went wrong."},
}

func errorTitle(err error, l string) string {
	return inLang(errorTitles, tanggap.ErrorCode(err), l, inLang(errorTitles, tanggap.EINTERNAL, l, ""))
}

// errorText is one sentence about err for a page that has no room for a
// title: its message, else its title.
func errorText(err error, l string) string {
	if m := pageMessage(err, l); m != "" {
		return m
	}
	return errorTitle(err, l)
}
