// Package place finds where a post is about: the kecamatan and kelurahan of
// Kota Bekasi named in it (with aliases, spelling variants, "kel."/"kec."
// forms and small misspellings), roads, estates and landmarks mapped to
// them, the RT/RW, and look-alike places outside the city (Cibubur, Tambun,
// Cikarang...) that make a post out of the city's scope unless a city place
// is also named. The border table's handling column decides two more
// things: a city name the border shares (Jl. Raya Pondok Gede) counts for
// nothing beside one of the row's cues (Pinang Ranti), and a row marked
// "ask" (Pondok Ungu Permai) yields no place at all. A place the places table
// rates low confidence does not outweigh a border row the text names.
//
// The gazetteer is data (data/*.csv, embedded); a Gazetteer is immutable
// once built and safe for concurrent use.
package place

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"

	"github.com/tanggap/tanggap/triage/normalize"
)

//go:embed data/*.csv
var dataFS embed.FS

// Place is what Extract found. Empty fields mean "not found".
type Place struct {
	Kecamatan   string   `json:"kecamatan,omitempty"`
	Kelurahan   string   `json:"kelurahan,omitempty"`
	RT          string   `json:"rt,omitempty"` // two digits, e.g. "03"
	RW          string   `json:"rw,omitempty"`
	OutsideCity string   `json:"outside_city,omitempty"` // a look-alike place outside Kota Bekasi, when no city place is named
	Matches     []string `json:"matches,omitempty"`      // gazetteer names that matched, in text order
}

type entryKind uint8

const (
	kindKecamatan entryKind = iota + 1
	kindKelurahan
	kindPlace
	kindBorder   // outside the city
	kindInternal // a city name that must not be read as a kecamatan (LRT Bekasi Barat)
	kindAsk      // straddles the border: neither the city nor outside, ask for the kelurahan
	kindCue      // a cue a border row's handling names, outside the city only beside the name it shares
)

type entry struct {
	name string
	kind entryKind
	kec  []string
	kel  []string
	// weak names are common words too (pejuang, bintara, harapan baru): they
	// count only after kel./kec. or a place word, or when another clue
	// names the same kecamatan.
	weak bool
	// low places come from a places row of low confidence: they do not
	// outweigh a border or "ask" row named in the same text.
	low bool
}

// borderRule is a border row's handling that names a city place the row
// shares and the cues that mean the row's side: "'jl raya pondok gede' +
// Kramat Jati/Pinang Ranti cue -> Jakarta".
type borderRule struct {
	shared string         // the shared name's coreKey ("pondokgede")
	cues   map[int32]bool // the row's aliases and the cues its handling names
}

// Gazetteer is an immutable place index.
type Gazetteer struct {
	entries []entry
	index   map[uint64][]int32 // hash of an alias's canonical tokens joined without spaces
	starts  map[string]bool    // first tokens of aliases, and their first six letters
	maxLen  int                // longest alias, in tokens
	seed    maphash.Seed
	// fuzzy candidates for misspelled kelurahan/kecamatan names, by their
	// first two letters.
	fuzzy map[string][]fuzzyName
	kecs  []string
	rules []borderRule
}

type fuzzyName struct {
	key   string // joined, no spaces
	entry int32
}

// Default builds the gazetteer from the embedded data.
func Default() (*Gazetteer, error) {
	open := func(name string) (io.ReadCloser, error) { return dataFS.Open("data/" + name) }
	w, err := open("wilayah-bekasi.csv")
	if err != nil {
		return nil, fmt.Errorf("place: %w", err)
	}
	defer w.Close()
	p, err := open("places-bekasi.csv")
	if err != nil {
		return nil, fmt.Errorf("place: %w", err)
	}
	defer p.Close()
	b, err := open("places-border-confusions.csv")
	if err != nil {
		return nil, fmt.Errorf("place: %w", err)
	}
	defer b.Close()
	return Load(w, p, b)
}

// weakNames are kelurahan names that are also everyday words or phrases.
func weakName(key string) bool {
	switch key {
	case "pejuang", "perwira", "bintara", "harapanbaru", "kotabaru", "kalibaru", "harapanjaya",
		"harapanmulya", "margahayu", "pengasinan", "margajaya", "margamulya":
		return true
	}
	return false
}

// weakBorder are outside-city aliases that are everyday words too.
func weakBorder(key string) bool {
	switch key {
	case "gabus", "setu", "halim", "pup", "cbl", "vni", "vgh", "tambun", "kebalen":
		return true
	}
	return false
}

// Load builds a gazetteer from the three CSVs (formats of ../shared/data).
func Load(wilayah, places, border io.Reader) (*Gazetteer, error) {
	g := &Gazetteer{index: map[uint64][]int32{}, starts: map[string]bool{}, seed: maphash.MakeSeed(), fuzzy: map[string][]fuzzyName{}}
	// Kelurahan and kecamatan.
	wr, err := readCSV(wilayah, "kecamatan", "kelurahan", "kecamatan_aliases", "kelurahan_aliases")
	if err != nil {
		return nil, fmt.Errorf("place: wilayah: %w", err)
	}
	kecSeen := map[string]bool{}
	for _, r := range wr {
		kec, kel := r[0], r[1]
		if !kecSeen[kec] {
			ki := int32(len(g.entries))
			kecSeen[kec] = true
			g.kecs = append(g.kecs, kec)
			g.entries = append(g.entries, entry{name: kec, kind: kindKecamatan, kec: []string{kec}})
			for _, a := range append([]string{kec}, split(r[2])...) {
				g.add(a, ki)
				g.addFuzzy(a, ki)
			}
		}
		ei := int32(len(g.entries))
		key := joinKey(kel)
		g.entries = append(g.entries, entry{name: kel, kind: kindKelurahan, kec: []string{kec}, kel: []string{kel}, weak: weakName(key)})
		for _, a := range append([]string{kel}, split(r[3])...) {
			g.add(a, ei)
			g.addFuzzy(a, ei)
		}
	}
	// Roads, estates, landmarks.
	pr, err := readCSV(places, "name", "aliases", "kecamatan", "kelurahan", "confidence")
	if err != nil {
		return nil, fmt.Errorf("place: places: %w", err)
	}
	for _, r := range pr {
		ei := int32(len(g.entries))
		low := strings.EqualFold(r[4], "low")
		g.entries = append(g.entries, entry{name: r[0], kind: kindPlace, kec: split(r[2]), kel: split(r[3]), low: low})
		for _, a := range split(r[1]) {
			g.add(a, ei)
		}
	}
	// Look-alikes outside the city.
	br, err := readCSV(border, "name", "aliases", "actual_admin", "handling")
	if err != nil {
		return nil, fmt.Errorf("place: border: %w", err)
	}
	rowAliases := make([][]int32, len(br))
	rowKind := make([]entryKind, len(br))
	for ri, r := range br {
		admin := strings.ToLower(r[2])
		kind := kindBorder
		switch {
		case strings.HasPrefix(admin, "kota bekasi"):
			kind = kindInternal
		case hasWord(strings.ToLower(r[3]), "ask"):
			kind = kindAsk
		}
		rowKind[ri] = kind
		for _, a := range split(r[1]) {
			key := joinKey(a)
			if x := g.lookup(key); x >= 0 {
				// The city's own gazetteer has it: trust that. Another
				// border row's alias is still this row's cue.
				if g.entries[x].kind == kindBorder {
					rowAliases[ri] = append(rowAliases[ri], x)
				}
				continue
			}
			ei := int32(len(g.entries))
			g.entries = append(g.entries, entry{name: titleCase(a), kind: kind, weak: weakBorder(key)})
			g.add(a, ei)
			rowAliases[ri] = append(rowAliases[ri], ei)
		}
	}
	// Handling rules come after every border alias is indexed: a cue may
	// be another row's alias (Cakung).
	for ri, r := range br {
		shared, cues := sharedName(r[3])
		if shared == "" || rowKind[ri] != kindBorder {
			continue
		}
		rule := borderRule{shared: shared, cues: map[int32]bool{}}
		for _, x := range rowAliases[ri] {
			rule.cues[x] = true
		}
		for _, c := range cues {
			key := joinKey(c)
			x := g.lookup(key)
			switch {
			case x < 0:
				// Not a place the gazetteer knows (Kramat Jati): a cue
				// only beside the shared name.
				x = int32(len(g.entries))
				g.entries = append(g.entries, entry{name: titleCase(c), kind: kindCue, weak: weakBorder(key)})
				g.add(c, x)
			case g.entries[x].kind != kindBorder && g.entries[x].kind != kindCue:
				continue // a city name is no cue for leaving the city
			}
			rule.cues[x] = true
		}
		g.rules = append(g.rules, rule)
	}
	return g, nil
}

// sharedName reads the handling forms that name a city place a border row
// shares and the cues that decide it: "'jl raya pondok gede' + Kramat
// Jati/Pinang Ranti cue -> Jakarta" and "'pasar baru' alone -> Kota only if
// no Cikarang cue". It returns the shared name's coreKey, or "" when the
// handling has neither form.
func sharedName(handling string) (string, []string) {
	h := strings.ToLower(handling)
	q0 := strings.IndexByte(h, '\'')
	if q0 < 0 {
		return "", nil
	}
	q1 := strings.IndexByte(h[q0+1:], '\'')
	if q1 < 0 {
		return "", nil
	}
	name, rest := h[q0+1:q0+1+q1], h[q0+2+q1:]
	end := strings.Index(rest, " cue")
	if end < 0 {
		return "", nil
	}
	rest = rest[:end]
	var list string
	if t := strings.TrimSpace(rest); strings.HasPrefix(t, "+") {
		list = t[1:]
	} else if i := strings.LastIndex(rest, " no "); i >= 0 && strings.HasPrefix(strings.TrimSpace(rest), "alone") {
		list = rest[i+len(" no "):]
	} else {
		return "", nil
	}
	var cues []string
	for _, c := range strings.Split(list, "/") {
		if c = strings.TrimSpace(c); c != "" && !strings.ContainsRune(c, '\'') {
			cues = append(cues, c)
		}
	}
	return coreKey(canonical(normalize.Words(name, nil, nil))), cues
}

// coreKey is a place name's canonical tokens joined, without the road words
// it starts with: "jl raya pondok gede", "jalan pondokgede" and "pondok
// gede" are all "pondokgede".
func coreKey(toks []string) string {
	if len(toks) > 0 && toks[0] == "jl" {
		toks = toks[1:]
	}
	if len(toks) > 0 && toks[0] == "raya" {
		toks = toks[1:]
	}
	return strings.Join(toks, "")
}

func hasWord(s, w string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) {
		if f == w {
			return true
		}
	}
	return false
}

// Kecamatans lists the kecamatan names.
func (g *Gazetteer) Kecamatans() []string { return append([]string(nil), g.kecs...) }

func (g *Gazetteer) add(alias string, e int32) {
	toks := canonical(normalize.Words(alias, nil, nil))
	if len(toks) == 0 {
		return
	}
	g.starts[toks[0]] = true
	if len(toks) == 1 && len(toks[0]) > 6 {
		// "jatiasih" must also be found from "jati asih".
		g.starts[toks[0][:6]] = true
	}
	h := g.hashTokens(toks)
	for _, x := range g.index[h] {
		if x == e {
			return
		}
	}
	g.index[h] = append(g.index[h], e)
	g.maxLen = max(g.maxLen, len(toks))
}

func (g *Gazetteer) addFuzzy(alias string, e int32) {
	key := joinKey(alias)
	if len(key) < 6 {
		return
	}
	g.fuzzy[key[:2]] = append(g.fuzzy[key[:2]], fuzzyName{key: key, entry: e})
}

func (g *Gazetteer) lookup(key string) int32 {
	var h maphash.Hash
	h.SetSeed(g.seed)
	h.WriteString(key)
	if xs := g.index[h.Sum64()]; len(xs) > 0 {
		return xs[0]
	}
	return -1
}

func (g *Gazetteer) hashTokens(toks []string) uint64 {
	var h maphash.Hash
	h.SetSeed(g.seed)
	for _, t := range toks {
		h.WriteString(t)
	}
	return h.Sum64()
}

func joinKey(s string) string { return strings.Join(canonical(normalize.Words(s, nil, nil)), "") }

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func titleCase(s string) string {
	f := strings.Fields(s)
	for i, w := range f {
		if len(w) > 3 || i == 0 {
			f[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(f, " ")
}

// Marker tokens after canonicalisation.
const (
	markKel = "\x00kel"
	markKec = "\x00kec"
)

// canonical rewrites tokens in place into the forms the index uses.
func canonical(toks []string) []string {
	for i, t := range toks {
		toks[i] = canonicalWord(t)
	}
	return toks
}

func canonicalWord(t string) string {
	switch t {
	case "jl", "jln", "jalan", "jlan", "jaln", "jl.":
		return "jl"
	case "kel", "kelurahan", "kelurhan", "kalurahan", "klurahan", "kelrahan", "kelur", "kelurah", "lurah":
		return markKel
	case "kec", "kecamatan", "kecamtan", "kecmatan", "kcmtn", "kecamtn", "camat":
		return markKec
	case "perum", "perumahan", "prmh", "perumnas":
		return "perum"
	case "komp", "komplek", "kompleks", "kompl", "komplex":
		return "komp"
	case "kp", "kampung", "kmp", "kampong":
		return "kp"
	case "gg", "gang":
		return "gg"
	case "st", "stasiun", "stsiun", "statsiun":
		return "stasiun"
	case "psr", "pasar":
		return "pasar"
	case "desa", "ds":
		return "desa"
	}
	return t
}

// placeWord reports whether a token introduces a place ("di Pejuang").
func placeWord(t string) bool {
	switch t {
	case "di", "daerah", "wilayah", "perum", "komp", "kp", "desa", "jl", "dekat", "sekitar", "area",
		"kawasan", "warga", "ke", "dari", markKel, markKec:
		return true
	}
	return false
}

// Extract finds the place named in a text.
func (g *Gazetteer) Extract(text string) Place {
	return g.ExtractWords(normalize.Words(text, nil, nil))
}

type hit struct {
	entry  int32
	marker string // markKel, markKec or ""
	ctx    bool   // introduced by a place word
	at, n  int    // the tokens matched
}

// ExtractWords is Extract on the words of normalize.Words (not modified).
func (g *Gazetteer) ExtractWords(words []string) Place {
	var p Place
	if len(words) == 0 {
		return p
	}
	toks := make([]string, len(words))
	for i, w := range words {
		toks[i] = canonicalWord(w)
	}
	p.RT, p.RW = rtrw(toks)
	var hits []hit
	for i := 0; i < len(toks); {
		if toks[i] == markKel || toks[i] == markKec {
			i++
			continue
		}
		marker, ctx := "", false
		if i > 0 {
			prev := toks[i-1]
			if prev == markKel || prev == markKec {
				marker = prev
			}
			ctx = placeWord(prev)
		}
		e, n := g.longest(toks, i)
		if e < 0 && marker != "" {
			e, n = g.fuzzyAt(toks, i, marker)
		}
		if e < 0 && len(toks[i]) >= 7 {
			e, n = g.fuzzyAt(toks, i, "")
		}
		if e < 0 {
			i++
			continue
		}
		hits = append(hits, hit{entry: e, marker: marker, ctx: ctx, at: i, n: n})
		i += n
	}
	g.resolve(toks, hits, &p)
	return p
}

// longest finds the longest alias starting at toks[i].
func (g *Gazetteer) longest(toks []string, i int) (int32, int) {
	if !g.starts[toks[i]] && !g.startsJoined(toks, i) {
		return -1, 0
	}
	var h maphash.Hash
	h.SetSeed(g.seed)
	best, bestN := int32(-1), 0
	for n := 1; n <= g.maxLen && i+n <= len(toks); n++ {
		t := toks[i+n-1]
		if t == markKel || t == markKec {
			break
		}
		h.WriteString(t)
		if xs := g.index[h.Sum64()]; len(xs) > 0 {
			best, bestN = g.prefer(xs, toks, i), n
		}
	}
	return best, bestN
}

// startsJoined reports whether an alias written as one word may start
// with toks[i] written apart ("jati asih", "bantar gebang").
func (g *Gazetteer) startsJoined(toks []string, i int) bool {
	if i+1 >= len(toks) || len(toks[i]) > 6 {
		return false
	}
	var b [6]byte
	n := copy(b[:], toks[i])
	n += copy(b[n:], toks[i+1])
	return n == 6 && g.starts[string(b[:n])]
}

// prefer picks among entries sharing an alias: after kel. the kelurahan,
// after kec. the kecamatan, otherwise the kecamatan (Jatiasih, Bantargebang
// name both).
func (g *Gazetteer) prefer(xs []int32, toks []string, i int) int32 {
	if len(xs) == 1 {
		return xs[0]
	}
	want := kindKecamatan
	if i > 0 && toks[i-1] == markKel {
		want = kindKelurahan
	}
	for _, x := range xs {
		if g.entries[x].kind == want {
			return x
		}
	}
	return xs[0]
}

// fuzzyAt matches one to three tokens against kelurahan/kecamatan names
// with at most one edit (two for long names). Without a kel./kec. marker
// only single tokens of seven letters or more are tried.
func (g *Gazetteer) fuzzyAt(toks []string, i int, marker string) (int32, int) {
	maxN := 3
	if marker == "" {
		maxN = 1
	}
	key := ""
	for n := 1; n <= maxN && i+n <= len(toks); n++ {
		t := toks[i+n-1]
		if t == "" || t[0] == '\x00' || t[0] == '[' {
			break
		}
		key += t
		if len(key) < 6 {
			continue
		}
		limit := 1
		if len(key) >= 10 && marker != "" {
			limit = 2
		}
		for _, c := range g.fuzzy[key[:2]] {
			ent := g.entries[c.entry]
			if marker == markKel && ent.kind != kindKelurahan || marker == markKec && ent.kind != kindKecamatan {
				continue
			}
			if abs(len(c.key)-len(key)) > limit {
				continue
			}
			if editDistance(c.key, key, limit) <= limit {
				return c.entry, n
			}
		}
	}
	return -1, 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the optimal string alignment distance of a and b, or
// limit+1 when it exceeds limit.
func editDistance(a, b string, limit int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la > 32 || lb > 32 {
		return limit + 1
	}
	var rows [3][33]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// resolve turns hits into one kecamatan and kelurahan.
func (g *Gazetteer) resolve(toks []string, hits []hit, p *Place) {
	if len(hits) == 0 {
		return
	}
	type score struct {
		v     float64
		first int
	}
	kec := map[string]*score{}
	kel := map[string]*score{}
	kelKec := map[string]string{}
	bump := func(m map[string]*score, name string, v float64, order int) {
		if s, ok := m[name]; ok {
			s.v += v
			return
		}
		m[name] = &score{v: v, first: order}
	}
	// A weak outside name (halim, pup) counts only after a place word.
	counts := func(h hit) bool { return !g.entries[h.entry].weak || h.ctx }
	// A border row's cue beside a city name the row shares (Pinang Ranti
	// and Jl. Raya Pondok Gede) means the row's side: that city name counts
	// for nothing, and the cue says where the post is.
	var shared, cueActs []bool // by hit; nil when no rule applies
	for _, r := range g.rules {
		cue := -1
		for i, h := range hits {
			if r.cues[h.entry] && counts(h) {
				cue = i
				break
			}
		}
		if cue < 0 {
			continue
		}
		for i, h := range hits {
			if g.entries[h.entry].kind != kindPlace || coreKey(toks[h.at:h.at+h.n]) != r.shared {
				continue
			}
			if shared == nil {
				shared, cueActs = make([]bool, len(hits)), make([]bool, len(hits))
			}
			shared[i], cueActs[cue] = true, true
		}
	}
	ignored := func(i int) bool { return shared != nil && shared[i] }
	// Firm city clues: any of them keeps the post in the city whatever
	// border place is named too. A low-confidence place is not one.
	strongKec := map[string]bool{}
	firm, outside := false, false
	for i, h := range hits {
		e := g.entries[h.entry]
		switch e.kind {
		case kindKecamatan, kindKelurahan:
			firm = firm || !e.weak || h.marker != "" || h.ctx
			if !e.weak {
				for _, k := range e.kec {
					strongKec[k] = true
				}
			}
		case kindPlace:
			if !e.low && !ignored(i) {
				firm = true
				for _, k := range e.kec {
					strongKec[k] = true
				}
			}
		case kindInternal:
			firm = true
		case kindBorder, kindAsk:
			outside = outside || counts(h)
		case kindCue:
			outside = outside || cueActs != nil && cueActs[i]
		}
	}
	// A low-confidence place (Pondok Ungu) alone does not outweigh a border
	// or "ask" row the text names (Pondok Ungu Permai).
	dropLow := outside && !firm
	if !dropLow {
		for i, h := range hits {
			if e := g.entries[h.entry]; e.kind == kindPlace && e.low && !ignored(i) {
				for _, k := range e.kec {
					strongKec[k] = true
				}
			}
		}
	}
	city := false
	var border string
	for order, h := range hits {
		e := g.entries[h.entry]
		switch e.kind {
		case kindKecamatan:
			v := 3.0
			if h.marker == markKec {
				v = 4
			}
			bump(kec, e.name, v, order)
			city = true
		case kindKelurahan:
			if e.weak && h.marker == "" && !h.ctx && !strongKec[e.kec[0]] {
				continue
			}
			v := 3.0
			if h.marker == markKel {
				v = 4
			}
			bump(kel, e.name, v, order)
			kelKec[e.name] = e.kec[0]
			bump(kec, e.kec[0], 2, order)
			city = true
		case kindPlace:
			if ignored(order) || e.low && dropLow {
				continue
			}
			city = true
			for _, k := range e.kec {
				bump(kec, k, 1.5/float64(len(e.kec)), order)
			}
			for _, l := range e.kel {
				bump(kel, l, 1.5/float64(len(e.kel)), order)
				if len(e.kec) == 1 {
					kelKec[l] = e.kec[0]
				} else if k := g.kecOf(l); k != "" {
					kelKec[l] = k
				}
			}
		case kindInternal:
			city = true
		case kindAsk:
			if !counts(h) {
				continue
			}
		case kindBorder:
			if !counts(h) {
				continue
			}
			if border == "" {
				border = e.name
			}
		case kindCue:
			if cueActs == nil || !cueActs[order] {
				continue
			}
			if border == "" {
				border = e.name
			}
		}
		p.Matches = append(p.Matches, e.name)
	}
	// A name needs the weight of one named place (1.5): a river crossing
	// four kecamatan decides none of them. Ties go to the first mentioned,
	// then to the name, so the result never depends on map order.
	best := func(m map[string]*score, ok func(string) bool) string {
		name, bv, bf := "", 0.0, 0
		for k, s := range m {
			if !ok(k) || s.v < 1.5-1e-9 {
				continue
			}
			if name == "" || s.v > bv || s.v == bv && (s.first < bf || s.first == bf && k < name) {
				name, bv, bf = k, s.v, s.first
			}
		}
		return name
	}
	p.Kecamatan = best(kec, func(string) bool { return true })
	p.Kelurahan = best(kel, func(k string) bool { return p.Kecamatan == "" || kelKec[k] == p.Kecamatan })
	if p.Kecamatan == "" && p.Kelurahan != "" {
		p.Kecamatan = kelKec[p.Kelurahan]
	}
	if !city && border != "" {
		p.OutsideCity = border
	}
}

// kecOf returns the kecamatan of a kelurahan.
func (g *Gazetteer) kecOf(kel string) string {
	for _, e := range g.entries {
		if e.kind == kindKelurahan && e.name == kel {
			return e.kec[0]
		}
	}
	return ""
}

// rtrw reads "rt 03 rw 05", "rt.3/rw.5", "rt03/05", "rt/rw 03/05".
func rtrw(toks []string) (rt, rw string) {
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "rt" && i+2 < len(toks) && toks[i+1] == "rw":
			// rt/rw 03/05
			if a, ok := num(toks, i+2); ok {
				rt = a
				if b, ok := num(toks, i+3); ok {
					rw = b
				}
			}
		case t == "rt" || strings.HasPrefix(t, "rt") && isNum(t[2:]):
			a, ok := "", false
			if t == "rt" {
				a, ok = num(toks, i+1)
			} else {
				a, ok = pad(t[2:])
			}
			if ok && rt == "" {
				rt = a
				// rt 03/05: a bare number right after is the RW.
				j := i + 2
				if t != "rt" {
					j = i + 1
				}
				if j < len(toks) && isNum(toks[j]) && rw == "" {
					rw, _ = pad(toks[j])
				}
			}
		case t == "rw" || strings.HasPrefix(t, "rw") && isNum(t[2:]):
			a, ok := "", false
			if t == "rw" {
				a, ok = num(toks, i+1)
			} else {
				a, ok = pad(t[2:])
			}
			if ok {
				rw = a
			}
		}
	}
	return rt, rw
}

func num(toks []string, i int) (string, bool) {
	if i >= len(toks) {
		return "", false
	}
	return pad(toks[i])
}

func isNum(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func pad(s string) (string, bool) {
	if !isNum(s) {
		return "", false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n == 0 {
		return "", false
	}
	return fmt.Sprintf("%02d", n), true
}

// readCSV reads the named columns of a CSV with a header row.
func readCSV(r io.Reader, cols ...string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, h := range head {
			if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("no %q column", c)
		}
	}
	var out [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, j := range idx {
			if j < len(rec) {
				row[i] = strings.TrimSpace(rec[j])
			}
		}
		out = append(out, row)
	}
}
