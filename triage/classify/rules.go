package classify

import (
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/triage/normalize"
)

// The rules below are the few decisions that data cannot teach the model:
// which services the city does not run, what is urgent, what is spam and
// who owns street lights. They match normalised phrases, so slang and
// spelling variants are covered by the normaliser.

// oosRule routes a post to an agency outside the city government.
type oosRule struct {
	target string
	strong []string // any of these alone
	weak   []string // these need one of need (or, when need is empty, of troubleWords)
	need   []string
	unless []string // any of these vetoes the rule: the city has a part in it
}

// troubleWords make a weak out-of-scope mention a complaint about it.
func troubleWords() []string {
	return []string{"padam", "mati", "gangguan", "rusak", "lambat", "lemot", "error", "mahal", "naik",
		"tagihan", "token", "hilang", "tidak bisa", "susah", "lama", "antre", "antrean", "penuh", "telat", "terlambat",
		"dipersulit", "ditolak", "kecewa", "keluhan", "komplain", "bobrok", "byarpet", "putus"}
}

func oosRules() []oosRule {
	// Shared vetoes: the city's own part of a matter (its offices, its
	// programmes for poor households, its streets used as landmarks).
	cityPart := []string{"kelurahan", "kecamatan", "sktm", "surat keterangan", "dtks", "bansos", "bantuan", "pemkot", "dinas"}
	return []oosRule{
		{target: "PLN",
			strong: []string{"listrik padam", "listrik mati", "mati listrik", "pemadaman listrik", "padam listrik", "token listrik",
				"tagihan listrik", "meteran listrik", "kwh meter", "gardu pln", "tegangan listrik", "listrik byarpet", "pln padam", "pln mati"},
			weak: []string{"pln"},
			need: []string{"padam", "mati", "byarpet", "gangguan", "tagihan", "token", "meteran", "gardu", "menjuntai", "putus", "percikan"},
			unless: append([]string{"pohon", "ranting", "dahan", "lampu jalan", "penerangan jalan", "pju", "lampu penerangan", "lampu merah",
				"traffic light", "kebakaran", "terbakar", "korsleting", "konslet", "syarat"}, cityPart...)},
		{target: "BPJS Kesehatan",
			strong: []string{"mobile jkn", "aplikasi jkn", "iuran bpjs", "tunggakan bpjs", "denda bpjs", "bpjs mandiri", "bpjs nonaktif"},
			weak:   []string{"bpjs kesehatan"},
			need:   []string{"iuran", "tunggakan", "denda", "premi", "nonaktif", "tidak aktif", "kantor bpjs", "naik kelas", "turun kelas"},
			unless: append([]string{"pbi", "uhc", "kartu sehat", "rsud", "puskesmas", "ditolak", "dinkes", "dinsos", "daftar", "didaftarkan"}, cityPart...)},
		{target: "BPJS Ketenagakerjaan",
			strong: []string{"bpjs ketenagakerjaan", "bpjs tk", "bpjamsostek", "jamsostek", "jaminan hari tua", "klaim jht", "saldo jht", "pencairan jht"},
			unless: []string{"disnaker", "dinas tenaga kerja", "perusahaan tidak mendaftarkan", "tidak didaftarkan"}},
		{target: "KAI Commuter (KRL)",
			strong: []string{"krl", "commuter line", "commuterline", "kai commuter", "lrt jabodebek", "jadwal kereta", "gangguan kereta", "kereta telat"},
			weak:   []string{"kereta", "kereta api"},
			need:   []string{"jadwal", "tiket", "telat", "terlambat", "gangguan", "penuh", "desak", "peron", "gerbong", "penumpang", "antre", "antrean"},
			unless: []string{"perlintasan", "palang pintu", "parkir", "ojek", "angkot", "pkl", "pedagang", "jukir", "sampah", "banjir", "rel", "saluran", "jalan rusak"}},
		{target: "Jasa Marga (jalan tol)",
			strong: []string{"jalan tol", "ruas tol", "tarif tol", "e toll", "etoll", "kartu tol", "rest area", "jasa marga", "jasamarga", "tol becakayu", "tol jorr", "tol cikampek"},
			unless: []string{"bawah tol", "kolong tol", "samping tol", "pinggir tol", "sebelah tol", "dekat tol", "pkl", "sampah", "banjir", "saluran", "pengemis", "anak jalanan"}},
		{target: "Dinas Bina Marga dan Penataan Ruang Provinsi Jawa Barat (jalan provinsi)",
			strong: []string{"jalan provinsi", "ruas provinsi", "jalan milik provinsi", "kewenangan provinsi"}},
		{target: "Kementerian PU / BBPJN (jalan nasional)",
			strong: []string{"jalan nasional", "jalan negara", "bbpjn"}},
		{target: "Dinas Pendidikan Provinsi Jawa Barat (SMA/SMK/SLB, KCD Wilayah III)",
			weak: []string{"sma", "smk", "sman", "smkn", "sma negeri", "smk negeri", "slb", "stm"},
			need: []string{"ppdb", "pungli", "pungutan", "spp", "uang gedung", "uang bangunan", "guru", "kepala sekolah", "study tour",
				"perpisahan", "daftar ulang", "komite sekolah", "sumbangan", "titip", "kursi"},
			unless: append([]string{"sd", "sdn", "smp", "smpn", "paud", "tk", "mts", "madrasah", "beasiswa", "kip", "pip", "mbr", "gakin",
				"seragam gratis", "ijazah"}, cityPart...)},
		{target: "Polri (Polres Metro Bekasi Kota)",
			strong: []string{"skck", "begal", "dibegal", "curanmor", "jambret", "dijambret", "perampokan", "dirampok", "penipuan online",
				"lapor polisi", "laporan polisi", "sim keliling", "bikin sim", "perpanjang sim", "buat sim", "polantas", "satlantas"},
			unless: []string{"satpol", "satpol pp", "trantib", "tibum", "pkl", "parkir liar", "lampu", "pju", "penerangan", "cctv", "dukcapil",
				"dpmptsp", "jalan rusak", "lubang"}},
		{target: "Samsat (Bapenda Provinsi Jawa Barat)",
			strong: []string{"samsat", "pajak kendaraan", "perpanjang stnk", "perpanjangan stnk", "stnk mati", "bayar pajak motor",
				"bayar pajak mobil", "balik nama kendaraan", "mutasi kendaraan", "bpkb"},
			unless: cityPart},
		{target: "Operator telekomunikasi",
			strong: []string{"telkomsel", "indihome", "indosat", "smartfren", "xl axiata", "biznet", "first media", "myrepublic", "iconnet", "kartu perdana"},
			unless: []string{"tiang", "kabel", "galian", "trotoar", "tower", "menara", "bts"}},
		{target: "Bank / OJK",
			strong: []string{"pinjol", "pinjaman online", "debt collector", "leasing", "kartu kredit", "mesin atm", "atm error",
				"saldo terpotong", "rekening diblokir", "rekening terblokir", "uang tidak keluar"},
			weak: []string{"bank bri", "bank bca", "bank mandiri", "bank bni", "bank btn", "bank bjb", "bank dki", "bri", "bca", "bni", "atm"},
			need: []string{"saldo", "transfer", "rekening", "cicilan", "tabungan", "kredit", "debit", "teller", "customer service", "bunga", "kepotong", "terpotong"},
			unless: append([]string{"blt", "pkh", "bpnt", "kip", "pip", "pajak", "pbb", "retribusi", "gaji", "tpp", "honor", "insentif", "parkir",
				"koperasi", "kjs", "jalan", "depan", "samping", "sebelah"}, cityPart...)},
		{target: "Pertamina",
			strong: []string{"pertalite", "pertamax", "solar langka", "bbm langka", "antrean spbu", "antre spbu", "spbu curang"}},
	}
}

// urgency classes and their phrases. A phrase preceded (within three
// tokens) by a prevention or negation word ("agar tidak banjir",
// "antisipasi banjir") does not count.
type urgentRule struct {
	reason  string
	phrases []string
}

func urgentRules() []urgentRule {
	return []urgentRule{
		{"kebakaran", []string{"kebakaran", "terbakar", "kebakar", "dilalap api", "api besar", "api menyala", "kobaran api", "asap tebal", "korsleting", "konslet",
			"ledakan", "meledak", "gas bocor", "tabung gas bocor", "bau gas"}},
		{"banjir", []string{"banjir", "kebanjiran", "terendam", "air masuk rumah", "air masuk ke rumah", "tanggul jebol", "tanggul bocor", "kali meluap",
			"sungai meluap", "luapan", "banjir bandang", "air setinggi", "sepinggang", "sedada", "selutut", "pengungsi", "mengungsi"}},
		{"kecelakaan", []string{"kecelakaan", "tabrakan", "ditabrak", "tertabrak", "laka", "laka lantas", "terjatuh", "jatuh dari motor", "terperosok",
			"terpeleset", "terlindas", "tergelincir", "terjungkal", "nyungsep"}},
		{"pohon tumbang", []string{"pohon tumbang", "pohon roboh", "pohon rubuh", "pohon ambruk", "pohon mau tumbang", "pohon hampir tumbang",
			"pohon miring", "pohon rawan tumbang", "dahan patah", "ranting patah", "dahan besar patah", "tumbang", "menimpa"}},
		{"bencana", []string{"longsor", "puting beliung", "angin kencang", "rumah roboh", "rumah ambruk", "atap ambruk", "ambruk", "roboh", "runtuh",
			"jebol", "amblas", "ambles", "gempa"}},
		{"ancaman jiwa atau kesehatan", []string{"korban jiwa", "korban", "meninggal", "tewas", "luka", "terluka", "berdarah", "pingsan", "sesak napas",
			"sesak nafas", "keracunan", "kabel putus", "kabel menjuntai", "kabel listrik putus", "tersengat listrik", "kesetrum", "tersetrum",
			"tenggelam", "hanyut", "anak hilang", "orang hilang", "ular", "ular kobra", "sarang tawon", "tawon", "darurat", "gawat", "bahaya",
			"membahayakan", "berbahaya", "mengancam", "nyawa", "wabah", "dbd", "demam berdarah", "diare", "muntaber", "kejang", "kritis",
			"sekarat", "kdrt", "kekerasan", "dianiaya", "pelecehan", "pencabulan", "bunuh diri", "mengamuk", "ngamuk", "odgj mengamuk",
			"ditolak rumah sakit", "ditolak rs", "ditolak igd", "tidak ada ambulans", "ambulans"}},
	}
}

// UrgentReasons are the categories of urgency, in Indonesian: an urgent
// Result's UrgentReason is "<category>: <phrase>" (the pages translate
// the categories).
func UrgentReasons() []string {
	rules := urgentRules()
	out := make([]string, len(rules))
	for i, u := range rules {
		out[i] = u.reason
	}
	return out
}

// preventWords cancel an urgent phrase that follows them closely.
func preventWord(t string) bool {
	switch t {
	case "agar", "supaya", "biar", "cegah", "mencegah", "pencegahan", "antisipasi", "mengantisipasi", "tidak", "bebas", "penanggulangan",
		"simulasi", "sosialisasi", "pelatihan", "bekas", "pasca", "setelah", "sesudah", "sisa", "kemarin", "rawan", "potensi", "pernah", "tahun":
		return true
	}
	return false
}

// spamWords mark gambling and other promotion spam. Two distinct ones in a
// post make it BUKAN_ADUAN regardless of the model.
func spamWords() []string {
	return []string{"slot", "gacor", "maxwin", "max win", "judol", "togel", "rtp", "scatter", "jackpot", "deposit", "depo pulsa",
		"wd", "withdraw", "bonus new member", "link alternatif", "daftar sekarang", "situs slot", "situs terpercaya", "bandar", "zeus",
		"olympus", "pragmatic", "mahjong", "anti rungkad", "cuan", "modal receh", "slot88", "pasti menang", "auto sultan", "link di bio",
		"cek bio", "klik link", "promo", "diskon", "open order", "order sekarang", "jasa followers", "followers murah", "pinjaman cepat",
		"tanpa jaminan", "langsung cair", "cair cepat", "[emo_uang]"}
}

// Kind cues. A post with a praise cue and no complaint cue leans to
// APRESIASI; one with a suggestion cue and no grievance to ASPIRASI; a post
// made only of greeting and chatter words to BUKAN_ADUAN. They move the kind model's log-odds by kindCueBonus rather
// than decide alone.
func praiseCues() []string {
	return []string{"terima kasih", "makasih", "salut", "mantap", "keren", "alhamdulillah", "bangga", "good job", "sukses", "apresiasi",
		"hebat", "luar biasa", "sehat selalu", "semoga sehat", "gercep", "gerak cepat", "top", "jempol", "[emo_pos]"}
}

func aspirationCues() []string {
	return []string{"usul", "usulan", "saran", "sebaiknya", "mending", "alangkah baiknya", "gimana kalau", "bagaimana kalau", "bagaimana jika",
		"mohon dipertimbangkan", "semoga ada", "perlu ada", "harusnya ada", "ide"}
}

// grievanceCues veto an aspiration cue: the post reports a failure.
func grievanceCues() []string {
	return []string{"rusak", "kecewa", "parah", "lambat", "belum", "tidak pernah", "[emo_neg]", "mati", "bocor", "mampet", "numpuk"}
}

func complaintCues() []string {
	return []string{"tolong", "mohon", "belum", "tidak", "kapan", "kenapa", "rusak", "masih", "parah", "kecewa", "lambat", "lama",
		"[tanya]", "[emo_neg]", "bagaimana", "minta", "harap", "segera", "sayang", "padahal", "tapi", "namun", "sudah berapa"}
}

// chatterWord reports words that carry no request: greetings, fillers,
// reactions.
func chatterWord(t string) bool {
	switch t {
	case "selamat", "pagi", "siang", "sore", "malam", "assalamualaikum", "asalamualaikum", "waalaikumsalam", "wr", "wb", "halo", "hai", "hi",
		"min", "admin", "salam", "kenal", "hadir", "nyimak", "first", "pertamax", "mantap", "gan", "kak", "bang", "semua", "semuanya", "warga",
		"bekasi", "kota", "semangat", "sehat", "selalu", "aamiin", "amin", "ya", "yuk", "ayo", "dong", "nih", "deh", "sih", "kok", "wah", "wow",
		"lucu", "kocak", "seru", "ikut", "meramaikan", "absen", "dulu", "follow", "back", "mampir", "cek", "dm", "[tawa]", "[emo_tawa]",
		"[emo_pos]", "[akun]", "jumat", "berkah", "hari", "ini", "the", "and", "yang", "dari", "di", "dan", "buat", "untuk", "kalian", "kamu":
		return true
	}
	return false
}

// pjuPhrases mark street-light complaints, whose owner is configured.
func pjuPhrases() []string {
	return []string{"pju", "penerangan jalan umum", "penerangan jalan", "lampu jalan", "lampu penerangan", "lampu penerangan jalan",
		"tiang lampu", "lampu jalanan", "lampu pju"}
}

// rules holds the compiled phrase sets. Its methods take a text indexed
// by index.
type rules struct {
	lex     *lexicon
	oos     []oosRule
	oosSet  *phraseSet // tags: rule index*4 + part (0 strong, 1 weak, 2 need, 3 unless)
	trouble *phraseSet
	urgent  *phraseSet // tag: urgent rule index
	reasons []string
	spam    *phraseSet
	pju     *phraseSet
	praise  *phraseSet
	plaint  *phraseSet
	aspire  *phraseSet
	grieve  *phraseSet
}

const (
	partStrong = iota
	partWeak
	partNeed
	partUnless
)

func newRules(norm *normalize.Normalizer) *rules {
	lex := newLexicon()
	r := &rules{lex: lex, oos: oosRules(), oosSet: newPhraseSet(lex), trouble: newPhraseSet(lex), urgent: newPhraseSet(lex), spam: newPhraseSet(lex),
		pju: newPhraseSet(lex), praise: newPhraseSet(lex), plaint: newPhraseSet(lex), aspire: newPhraseSet(lex), grieve: newPhraseSet(lex)}
	for i, o := range r.oos {
		for part, ps := range [][]string{o.strong, o.weak, o.need, o.unless} {
			for _, p := range ps {
				r.oosSet.add(norm, p, i*4+part)
			}
		}
	}
	for _, w := range troubleWords() {
		r.trouble.add(norm, w, 0)
	}
	for i, u := range urgentRules() {
		r.reasons = append(r.reasons, u.reason)
		for _, p := range u.phrases {
			r.urgent.add(norm, p, i)
		}
	}
	for i, w := range spamWords() {
		r.spam.add(norm, w, i)
	}
	for _, w := range pjuPhrases() {
		r.pju.add(norm, w, 0)
	}
	for _, w := range praiseCues() {
		r.praise.add(norm, w, 0)
	}
	for _, w := range complaintCues() {
		r.plaint.add(norm, w, 0)
	}
	for _, w := range aspirationCues() {
		r.aspire.add(norm, w, 0)
	}
	for _, w := range grievanceCues() {
		r.grieve.add(norm, w, 0)
	}
	return r
}

// index prepares normalised tokens for the rules, reusing ids' memory.
func (r *rules) index(toks []string, ids []int32) lexText { return r.lex.index(toks, ids) }

// outOfScope returns the agency a post is about when the city does not run
// it, and the phrase that decided.
func (r *rules) outOfScope(toks lexText) (target, phrase string) {
	var parts [64][4]int32 // first match per rule and part, +1
	r.oosSet.each(toks, func(i int32, _ int) bool {
		t := r.oosSet.tags[i]
		rule, part := t/4, t%4
		if int(rule) < len(parts) && parts[rule][part] == 0 {
			parts[rule][part] = i + 1
		}
		return true
	})
	troubled := -1
	for i, o := range r.oos {
		if i >= len(parts) {
			break
		}
		p := parts[i]
		if p[partUnless] != 0 {
			continue
		}
		if p[partStrong] != 0 {
			return o.target, r.oosSet.texts[p[partStrong]-1]
		}
		if p[partWeak] == 0 {
			continue
		}
		if len(o.need) > 0 {
			if p[partNeed] != 0 {
				return o.target, r.oosSet.texts[p[partWeak]-1]
			}
			continue
		}
		if troubled < 0 {
			troubled = 0
			if i, _ := r.trouble.find(toks, 0); i >= 0 {
				troubled = 1
			}
		}
		if troubled == 1 {
			return o.target, r.oosSet.texts[p[partWeak]-1]
		}
	}
	return "", ""
}

// urgency returns the reason a post is urgent and the phrase that said so.
func (r *rules) urgency(t lexText) (reason, phrase string) {
	r.urgent.each(t, func(i int32, pos int) bool {
		for j := max(0, pos-3); j < pos; j++ {
			if preventWord(t.toks[j]) {
				return true
			}
		}
		reason, phrase = r.reasons[r.urgent.tags[i]], r.urgent.texts[i]
		return false
	})
	return reason, phrase
}

// spamScore counts distinct spam words.
func (r *rules) spamScore(toks lexText) (int, string) {
	var seen [64]bool
	n, first := 0, ""
	r.spam.each(toks, func(i int32, _ int) bool {
		t := r.spam.tags[i]
		if int(t) < len(seen) && !seen[t] {
			seen[t] = true
			n++
			if first == "" {
				first = r.spam.texts[i]
			}
		}
		return true
	})
	return n, first
}

// kindCue returns the kind that cues point to, if any.
func (r *rules) kindCue(toks lexText) tanggap.Kind {
	chatter := len(toks.toks) > 0
	for _, t := range toks.toks {
		if !chatterWord(t) {
			chatter = false
			break
		}
	}
	if chatter {
		return tanggap.KindNoise
	}
	if i, _ := r.praise.find(toks, 0); i >= 0 {
		if j, _ := r.plaint.find(toks, 0); j < 0 {
			return tanggap.KindPraise
		}
	}
	if i, _ := r.aspire.find(toks, 0); i >= 0 {
		if j, _ := r.grieve.find(toks, 0); j < 0 {
			return tanggap.KindAspiration
		}
	}
	return ""
}

func (r *rules) isPJU(toks lexText) bool {
	i, _ := r.pju.find(toks, 0)
	return i >= 0
}
