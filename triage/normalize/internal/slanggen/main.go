// Command slanggen derives triage/normalize/slang.tsv from the Colloquial
// Indonesian Lexicon (../shared/data/slang-id.csv, licence unknown, so it is
// not vendored): it keeps only the pairs whose slang word occurs at least
// twice in the texts we train on (the rows of ../shared/data/complaints-dev.csv
// dated before 2023, the test period being left out, and our own training
// examples), drops single letters, domain abbreviations that the
// lexicon maps to a wrong everyday word (kk is kartu keluarga, not kakak;
// kel is kelurahan; gg is gang; smp/sma are schools) and slang words that
// are themselves formal words, rewrites a few targets (enggak -> tidak),
// keeps the most frequent pairs and appends our own pairs for social-media
// spellings the lexicon lacks. The corpus is only counted: no text is copied.
//
//	go run ./triage/normalize/internal/slanggen -out triage/normalize/slang.tsv \
//		-examples triage/classify/data/examples.csv
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tanggap/tanggap/internal/shareddata"
	"github.com/tanggap/tanggap/triage/normalize"
)

// blocked are abbreviations that mean something else in complaints to a
// city (the lexicon's reading in brackets).
var blocked = []string{
	"kk",  // kartu keluarga (kakak)
	"kel", // kelurahan (keluarga)
	"kec", "gg", "gng", "smp", "sma", "smk", "sd", "sdn", "tk", "pu", "sk", "pk", "rt", "rw", "kb",
	"pbb", "ktp", "kia", "pkh", "pkm", "ka", "kai", "si", "sby", "pln", "bpjs", "umk", "mpp", "dll",
	"ac", "tv", "hp", "wa", "ig", "fb", "pt", "cv", "ud", "lpg", "bbm", "atm", "nik", "kis",
	"ndak", "pak", "bu", "ibu", "bapak", "no", "jam", "kali", "sampah", "pasar", "minta", "kaya",
	"dinas", "camat", "lurah", "warga", "air", "ada", "ya", "oke", "ok", "kan",
	"bca", "bsk", "pkk", "sp", "pa", // BCA, Bumi Satria Kencana, PKK, surat peringatan, bapak
	"in", "to", "do", "or", "so", "it", "co", "lt", "fi", "pi", "pan", "kam", "ma", "wk", // English or too short to guess
}

// retarget rewrites formal targets so one meaning has one token.
var retarget = map[string]string{
	"enggak": "tidak",
	"indak":  "tidak",
	"kalo":   "kalau",
	"kayak":  "seperti",
}

// own are pairs we add for spellings common on Bekasi social media.
var own = [][2]string{
	{"bgt", "banget"}, {"bngt", "banget"}, {"bener2", "benar benar"}, {"pemkot", "pemerintah kota"},
	{"jl", "jalan"}, {"jln", "jalan"}, {"jlan", "jalan"}, {"gmna", "bagaimana"}, {"gak", "tidak"},
	{"ga", "tidak"}, {"gk", "tidak"}, {"nggak", "tidak"}, {"ngga", "tidak"}, {"engga", "tidak"},
	{"kagak", "tidak"}, {"kaga", "tidak"}, {"kgk", "tidak"}, {"tdk", "tidak"}, {"ngk", "tidak"},
	{"blm", "belum"}, {"udh", "sudah"}, {"dah", "sudah"}, {"tlg", "tolong"}, {"tolongin", "tolong"},
	{"mohon2", "mohon"}, {"min", "admin"}, {"mimin", "admin"}, {"adm", "admin"}, {"dishub", "dinas perhubungan"},
	{"bener", "benar"}, {"bet", "banget"}, {"bnr", "benar"}, {"sampe", "sampai"}, {"ampe", "sampai"},
	{"mampet", "mampet"}, {"ngalir", "mengalir"}, {"bocor2", "bocor"}, {"nyampah", "buang sampah"},
	{"gimana", "bagaimana"}, {"gmn", "bagaimana"}, {"knp", "kenapa"}, {"napa", "kenapa"}, {"ngapain", "mengapa"},
	{"brp", "berapa"}, {"kpn", "kapan"}, {"dmn", "di mana"}, {"dimana", "di mana"}, {"pd", "pada"},
	{"mulu", "melulu"}, {"mlulu", "melulu"}, {"ngebut", "kebut"}, {"kebanjiran", "kebanjiran"},
	{"parah", "parah"}, {"ancur", "hancur"}, {"ancor", "hancur"}, {"rusak2", "rusak"}, {"bolong2", "bolong"},
	{"lobang", "lubang"}, {"lobangnya", "lubangnya"}, {"item", "hitam"}, {"ijo", "hijau"}, {"bau2", "bau"},
	{"pengen", "ingin"}, {"pgn", "ingin"}, {"mao", "mau"}, {"pengin", "ingin"}, {"kyk", "seperti"},
	{"kek", "seperti"}, {"trs", "terus"}, {"trus", "terus"}, {"mksh", "terima kasih"}, {"makasih", "terima kasih"},
	{"makasi", "terima kasih"}, {"mkasih", "terima kasih"}, {"thx", "terima kasih"}, {"tq", "terima kasih"},
	{"thanks", "terima kasih"}, {"tengkyu", "terima kasih"}, {"kece", "keren"}, {"mantul", "mantap"},
	{"mantab", "mantap"}, {"mntp", "mantap"}, {"gercep", "gerak cepat"}, {"sat set", "cepat"},
	{"wkwk", "[tawa]"}, {"lol", "[tawa]"}, {"anjir", "astaga"}, {"anjay", "astaga"}, {"buset", "astaga"},
	{"kmrn", "kemarin"}, {"kemaren", "kemarin"}, {"td", "tadi"}, {"tadi2", "tadi"}, {"skrg", "sekarang"},
	{"skrng", "sekarang"}, {"sj", "saja"}, {"aja", "saja"}, {"doang", "saja"}, {"dong", "dong"},
	{"ortu", "orang tua"}, {"bocil", "anak kecil"}, {"emak2", "ibu ibu"}, {"bapak2", "bapak bapak"},
	{"tetangga2", "tetangga"}, {"nih", "ini"}, {"tuh", "itu"}, {"gitu", "begitu"}, {"gini", "begini"},
	{"dgn", "dengan"}, {"dg", "dengan"}, {"sm", "sama"}, {"ama", "sama"}, {"yg", "yang"}, {"utk", "untuk"},
	{"krn", "karena"}, {"karna", "karena"}, {"soalnya", "karena"}, {"gegara", "gara gara"}, {"gara2", "gara gara"},
	{"ngadu", "mengadu"}, {"lapor", "lapor"}, {"laporin", "laporkan"}, {"benerin", "perbaiki"},
	{"benahin", "benahi"}, {"beresin", "bereskan"}, {"bersihin", "bersihkan"}, {"angkut", "angkut"},
	{"diangkut", "diangkut"}, {"dibenerin", "diperbaiki"}, {"diberesin", "dibereskan"}, {"dibersihin", "dibersihkan"},
	{"ditambal", "ditambal"}, {"ditindak", "ditindak"}, {"nutup", "menutup"}, {"ditutup", "ditutup"},
	{"nongkrong", "nongkrong"}, {"mangkal", "mangkal"}, {"ngetem", "berhenti menunggu penumpang"},
	{"kendaraan2", "kendaraan"}, {"motor2", "motor"}, {"mobil2", "mobil"}, {"truk2", "truk"},
	{"jukir", "juru parkir"}, {"parkir2", "parkir"}, {"pak ogah", "pak ogah"}, {"ojol", "ojek online"},
	{"angkot2", "angkot"}, {"pju", "penerangan jalan umum"}, {"lampu2", "lampu"}, {"gelap2", "gelap"},
}

func main() {
	out := flag.String("out", "triage/normalize/slang.tsv", "output file")
	top := flag.Int("top", 800, "keep at most this many derived pairs")
	min := flag.Int("min", 2, "minimum corpus frequency of a slang word")
	before := flag.String("before", "2023-01-01", "count only corpus rows dated before this (the 2023 rows are the test set)")
	var extra multi
	flag.Var(&extra, "examples", "our own example CSV with a text column (repeatable)")
	flag.Parse()
	if err := run(*out, *top, *min, *before, extra); err != nil {
		fmt.Fprintln(os.Stderr, "slanggen:", err)
		os.Exit(1)
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func run(out string, top, min int, before string, examples []string) error {
	lex, err := shareddata.File("slang-id.csv")
	if err != nil {
		return err
	}
	corpus, err := shareddata.File("complaints-dev.csv")
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, f := range append([]string{corpus}, examples...) {
		if err := countWords(f, before, counts); err != nil {
			return err
		}
	}
	pairs, err := readPairs(lex)
	if err != nil {
		return err
	}
	formal := map[string]bool{}
	for _, p := range pairs {
		for _, w := range strings.Fields(p[1]) {
			formal[w] = true
		}
	}
	block := map[string]bool{}
	for _, b := range blocked {
		block[b] = true
	}
	ownKeys := map[string]bool{}
	for _, p := range own {
		ownKeys[p[0]] = true
	}
	type cand struct {
		slang, formal string
		n             int
	}
	var cands []cand
	seen := map[string]bool{}
	for _, p := range pairs {
		s, f := p[0], p[1]
		if t, ok := retarget[f]; ok {
			f = t
		}
		switch {
		case seen[s], len(s) < 2, s == f, block[s], ownKeys[s], formal[s] && !strings.ContainsAny(s, "0123456789"),
			strings.ContainsAny(s, " -'"), counts[s] < min:
			continue
		}
		seen[s] = true
		words := strings.Fields(strings.ReplaceAll(f, "-", " "))
		for i, w := range words {
			if t, ok := retarget[w]; ok {
				words[i] = t
			}
		}
		cands = append(cands, cand{s, strings.Join(words, " "), counts[s]})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].n != cands[j].n {
			return cands[i].n > cands[j].n
		}
		return cands[i].slang < cands[j].slang
	})
	if len(cands) > top {
		cands = cands[:top]
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].slang < cands[j].slang })
	var b strings.Builder
	fmt.Fprintf(&b, "# Slang -> formal table of Tanggap's normaliser (slang<TAB>formal words).\n")
	fmt.Fprintf(&b, "# Generated by triage/normalize/internal/slanggen (read its doc comment). Part 1: %d pairs\n", len(cands))
	fmt.Fprintf(&b, "# selected from the Colloquial Indonesian Lexicon (Salsabila et al., IALP 2018) whose slang word\n")
	fmt.Fprintf(&b, "# occurs at least %d times in our training texts, minus abbreviations with a civic meaning.\n", min)
	fmt.Fprintf(&b, "# Part 2: our own pairs for social-media spellings. Edit part 2 in the generator, then rerun it.\n")
	for _, c := range cands {
		fmt.Fprintf(&b, "%s\t%s\n", c.slang, c.formal)
	}
	b.WriteString("# part 2: own pairs\n")
	for _, p := range own {
		if p[0] == p[1] || strings.Contains(p[0], " ") {
			continue
		}
		fmt.Fprintf(&b, "%s\t%s\n", p[0], p[1])
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func readPairs(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	var pairs [][2]string
	header := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return pairs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if header {
			header = false
			continue
		}
		if len(rec) >= 2 {
			pairs = append(pairs, [2]string{strings.ToLower(strings.TrimSpace(rec[0])), strings.ToLower(strings.TrimSpace(rec[1]))})
		}
	}
}

func countWords(path, before string, counts map[string]int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	col, dateCol := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "text":
			col = i
		case "date":
			dateCol = i
		}
	}
	if col < 0 {
		return fmt.Errorf("%s: no text column", path)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if col >= len(rec) || dateCol >= 0 && dateCol < len(rec) && before != "" && rec[dateCol] >= before {
			continue
		}
		// Count raw lower-case words (before reduplication expansion) too.
		for _, w := range strings.FieldsFunc(strings.ToLower(rec[col]), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) {
			counts[w]++
		}
		for _, w := range normalize.Words(rec[col], nil, nil) {
			counts[w]++
		}
	}
}
