package classify

import (
	"math"
	"strings"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage/normalize"
)

// FeatureSpec says how texts become sparse vectors. It is stored in the
// model file, so a model is always read with the features it was trained on.
type FeatureSpec struct {
	Bits      uint8   // hash space: 1<<Bits buckets
	CharMin   uint8   // character n-grams inside each word (with < > boundaries)
	CharMax   uint8   // 0 disables them
	Bigrams   bool    // word bigrams
	Keywords  bool    // one feature per OPD whose scope keywords occur (from the city config)
	CharScale float32 // weight of the character n-gram block relative to words
}

// defaultSpec is the feature set chosen by the measurements in the package doc.
func defaultSpec() FeatureSpec {
	return FeatureSpec{Bits: 18, CharMin: 4, CharMax: 4, Bigrams: true, Keywords: true, CharScale: 0.6}
}

// Namespaces keep features of different kinds apart in the hash space.
const (
	nsWord    = 'w'
	nsBigram  = 'b'
	nsChar    = 'c'
	nsKeyword = 'k'
	nsLength  = 'l'
)

// feat is one active feature of a document.
type feat struct {
	bucket uint32
	val    float32
	row    int32 // weight row in the model table, -1 for none (set by table.prepare)
	src    int32 // index of the token that produced it (keyword features: -1-keywordIndex)
	ns     byte
	touch  int8 // written by table.prepare so that its early reads of the row are kept
}

// keywords matches each OPD's scope keywords (config) as token sequences.
type keywords struct {
	first map[string][]int // first token -> phrases
	seqs  [][]string
	opd   []string
	text  []string // the keyword as written in the config
}

func newKeywords(cfg *config.Config, norm *normalize.Normalizer) *keywords {
	k := &keywords{first: map[string][]int{}}
	for _, o := range cfg.OPDs {
		for _, kw := range o.Keywords {
			toks := norm.Normalize(strings.ReplaceAll(kw, "-", " ")).Tokens
			if len(toks) == 0 {
				continue
			}
			i := len(k.seqs)
			k.seqs = append(k.seqs, toks)
			k.opd = append(k.opd, o.Code)
			k.text = append(k.text, kw)
			k.first[toks[0]] = append(k.first[toks[0]], i)
		}
	}
	return k
}

// match calls fn for each keyword phrase found in toks (once per phrase).
func (k *keywords) match(toks []string, fn func(i int)) {
	var seen [8]int
	ns := 0
	for p, t := range toks {
		for _, i := range k.first[t] {
			seq := k.seqs[i]
			if p+len(seq) > len(toks) {
				continue
			}
			ok := true
			for j := 1; j < len(seq); j++ {
				if toks[p+j] != seq[j] {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			dup := false
			for _, s := range seen[:ns] {
				dup = dup || s == i
			}
			if dup {
				continue
			}
			if ns < len(seen) {
				seen[ns] = i
				ns++
			}
			fn(i)
		}
	}
}

func lengthClass(n int) byte {
	switch {
	case n <= 3:
		return 'a'
	case n <= 7:
		return 'b'
	case n <= 15:
		return 'c'
	case n <= 30:
		return 'd'
	}
	return 'e'
}

// fnv-1a, 32 bit: stable across processes, so buckets in a model file stay
// valid.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func hashNS(ns byte) uint32 { return (fnvOffset ^ uint32(ns)) * fnvPrime }

func hashAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

func hashByte(h uint32, b byte) uint32 { return (h ^ uint32(b)) * fnvPrime }

// finalize mixes the bits (fnv's low bits are weak) and cuts to the space.
func finalize(h uint32, bits uint8) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h & (1<<bits - 1)
}

// extractor turns normalised tokens into features. It holds no mutable
// state: buffers come from the caller.
type extractor struct {
	spec FeatureSpec
	kw   *keywords
}

// isFeatureToken drops tokens that carry no topic: numbers and masks of
// personal data.
func isFeatureToken(t string) bool {
	if t == "" {
		return false
	}
	c := t[0]
	if c >= '0' && c <= '9' {
		return false
	}
	switch t {
	case normalize.MaskPhone, normalize.MaskNIK, normalize.MaskEmail, "[num]", "[name]":
		return false
	}
	return true
}

// extract puts the features of toks in buf, de-duplicated (binary values)
// and scaled per block; idfTable.weigh finishes the vector.
func (x *extractor) extract(toks []string, buf []feat, seen *bucketSet) []feat {
	buf = buf[:0]
	seen.reset()
	bits := x.spec.Bits
	add := func(h uint32, val float32, src int32, ns byte) {
		b := finalize(h, bits)
		if seen.add(b) {
			buf = append(buf, feat{bucket: b, val: val, src: src, ns: ns})
		}
	}
	prev := -1
	var gram [64]byte
	for i, t := range toks {
		if !isFeatureToken(t) {
			prev = -1
			continue
		}
		add(hashAdd(hashNS(nsWord), t), 1, int32(i), nsWord)
		if x.spec.Bigrams && prev >= 0 {
			h := hashAdd(hashNS(nsBigram), toks[prev])
			h = hashByte(h, ' ')
			add(hashAdd(h, t), 1, int32(i), nsBigram)
		}
		prev = i
		if x.spec.CharMax == 0 || t[0] == '[' || len(t)+2 > len(gram) {
			continue
		}
		w := gram[:0]
		w = append(w, '<')
		w = append(w, t...)
		w = append(w, '>')
		for n := int(x.spec.CharMin); n <= int(x.spec.CharMax); n++ {
			if n >= len(w) {
				break // the whole word is already a word feature
			}
			for s := 0; s+n <= len(w); s++ {
				h := hashNS(nsChar)
				for _, c := range w[s : s+n] {
					h = hashByte(h, c)
				}
				add(h, x.spec.CharScale, int32(i), nsChar)
			}
		}
	}
	// Length class: greetings and spam are short, complaints long.
	n := 0
	for _, t := range toks {
		if isFeatureToken(t) {
			n++
		}
	}
	add(hashByte(hashNS(nsLength), lengthClass(n)), 1, -1-int32(1<<20), nsLength)
	if x.spec.Keywords && x.kw != nil {
		x.kw.match(toks, func(k int) {
			add(hashAdd(hashNS(nsKeyword), x.kw.opd[k]), 1, int32(-1-k), nsKeyword)
		})
	}
	return buf
}

// idf is ln((n+1)/(df+1)) + 1, as in scikit-learn's smoothed TF-IDF.
func idf(n, df int) float32 { return float32(math.Log(float64(n+1)/float64(df+1)) + 1) }

// bucketSet is a small open-addressing set of buckets, reset per document.
type bucketSet struct {
	slots []uint32 // bucket+1; 0 is empty
	used  []int
}

func (s *bucketSet) reset() {
	for _, i := range s.used {
		s.slots[i] = 0
	}
	s.used = s.used[:0]
}

func (s *bucketSet) add(b uint32) bool {
	if len(s.used)*2 >= len(s.slots) {
		s.grow()
	}
	mask := uint32(len(s.slots) - 1)
	i := (b * 2654435761) & mask
	for {
		switch s.slots[i] {
		case 0:
			s.slots[i] = b + 1
			s.used = append(s.used, int(i))
			return true
		case b + 1:
			return false
		}
		i = (i + 1) & mask
	}
}

func (s *bucketSet) grow() {
	n := max(1024, 2*len(s.slots))
	old := s.slots
	oldUsed := s.used
	s.slots = make([]uint32, n)
	s.used = make([]int, 0, n/2)
	for _, i := range oldUsed {
		b := old[i] - 1
		s.add(b)
	}
}
