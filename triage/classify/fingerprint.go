package classify

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
)

// Fingerprint is a MinHash signature of a normalised text: for each of 32
// hash functions, the smallest hash over the text's shingles (its content
// words and word pairs, after slang mapping, without function words,
// numbers and masks). Two texts agree on a position with probability equal
// to the Jaccard similarity of their shingle sets.
//
// Each position keeps the low 16 bits of its minimum only (b-bit MinHash,
// Li and König 2010): two different minima then agree by chance
// with probability 2^-16, which moves an estimate by about 1.5e-5, while
// the stored form is half as long. Triage reads up to 200 stored
// fingerprints per place for every batch, so their length is read, sent
// and kept in Redis many times over.
type Fingerprint [32]uint32

const (
	fingerprintSize = 32
	hexWidth        = 4 // hex digits per position in String: the low 16 bits
	oldHexWidth     = 8 // before: all 32 bits (still read, see SimilarityHex)
)

// DuplicateThreshold is the Similarity from which two posts are taken to
// describe the same issue. Measured on our own reworded pairs
// (TestFingerprint and the package doc): rewordings of one complaint scored
// 0.38 to 0.81; different issues scored 0.06 to 0.31, the highest when they
// name the same road. So the triage consumer must also require the same
// OPD and place and a short time window before clustering.
const DuplicateThreshold = 0.35

// Fingerprint computes the fingerprint of a text.
func (c *Classifier) Fingerprint(text string) Fingerprint {
	return fingerprint(c.norm.Normalize(text).Tokens)
}

// Similarity estimates the Jaccard similarity of the shingle sets of two
// fingerprints, from 0 to 1. An empty text's fingerprint is similar to
// nothing.
func Similarity(a, b Fingerprint) float64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return float64(n) / fingerprintSize
}

// SimilarityHex is Similarity of two fingerprints in their String form,
// compared position by position without decoding (triage compares each new
// post with up to 200 stored ones). It also reads the longer form stored
// before (8 hex digits per position, of which the last 4 are compared),
// so clusters keep forming across an upgrade. A malformed or empty text's
// fingerprint is similar to nothing.
func SimilarityHex(a, b string) float64 {
	if len(a) == hexWidth*fingerprintSize && len(b) == len(a) {
		return similarityHex4(a, b)
	}
	wa, wb := len(a)/fingerprintSize, len(b)/fingerprintSize
	if !validHex(a, wa) || !validHex(b, wb) {
		return 0
	}
	n := 0
	for i := range fingerprintSize {
		ea, eb := (i+1)*wa, (i+1)*wb
		if a[ea-hexWidth:ea] == b[eb-hexWidth:eb] {
			n++
		}
	}
	return float64(n) / fingerprintSize
}

// similarityHex4 is SimilarityHex of two fingerprints in the current
// form, eight digits (two positions) at a time, checking in the same pass
// that neither is an empty text's (all zeros).
func similarityHex4(a, b string) float64 {
	const zeros = 0x3030303030303030 // "00000000"
	n := 0
	var orA, orB uint64
	for i := 0; i+8 <= len(a) && i+8 <= len(b); i += 8 {
		x, y := load64(a, i), load64(b, i)
		orA |= x ^ zeros
		orB |= y ^ zeros
		d := x ^ y
		if uint32(d) == 0 {
			n++
		}
		if d>>32 == 0 {
			n++
		}
	}
	if orA == 0 || orB == 0 {
		return 0
	}
	return float64(n) / fingerprintSize
}

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// validHex reports whether s is a String form of width digits per
// position and not an empty text's fingerprint (all zeros).
func validHex(s string, width int) bool {
	if (width != hexWidth && width != oldHexWidth) || len(s) != width*fingerprintSize {
		return false
	}
	return strings.Trim(s, "0") != ""
}

// IsZero reports whether the fingerprint is of a text without content
// words.
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// String encodes the fingerprint for storage: 128 hex digits, the low 16
// bits of each position.
func (f Fingerprint) String() string {
	b := make([]byte, 2*fingerprintSize)
	for i, v := range f {
		binary.BigEndian.PutUint16(b[2*i:], uint16(v))
	}
	return hex.EncodeToString(b)
}

// MarshalText implements encoding.TextMarshaler.
func (f Fingerprint) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	p, err := ParseFingerprint(string(b))
	if err != nil {
		return err
	}
	*f = p
	return nil
}

// ParseFingerprint decodes String's output, or the 256 hex digits of the
// form stored before.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 2*fingerprintSize && len(b) != 4*fingerprintSize) {
		return f, errors.New("classify: malformed fingerprint")
	}
	for i := range f {
		if len(b) == 2*fingerprintSize {
			f[i] = uint32(binary.BigEndian.Uint16(b[2*i:]))
		} else {
			f[i] = binary.BigEndian.Uint32(b[4*i:]) & 0xffff
		}
	}
	return f, nil
}

// functionWord reports words that say nothing about the issue.
func functionWord(t string) bool {
	switch t {
	case "yang", "di", "dan", "ke", "dari", "ini", "itu", "untuk", "dengan", "ada", "sudah", "tidak", "min", "admin",
		"tolong", "mohon", "pak", "bu", "bapak", "ibu", "saya", "kami", "kita", "nya", "sih", "dong", "ya", "juga", "lagi",
		"sama", "atau", "karena", "jadi", "masih", "belum", "bisa", "mau", "kok", "kan", "pada", "saja", "banget", "sangat",
		"terima", "kasih", "the", "and":
		return true
	}
	return false
}

// fingerprint hashes unigrams and bigrams of content words.
func fingerprint(toks []string) Fingerprint {
	var seen hashSet
	return fingerprintSeen(toks, &seen)
}

// fingerprintSeen is fingerprint with a reusable set: a shingle that
// occurs again changes no minimum, so it is hashed 32 times only once.
func fingerprintSeen(toks []string, seen *hashSet) Fingerprint {
	seen.reset()
	var f Fingerprint
	for i := range f {
		f[i] = ^uint32(0)
	}
	any := false
	prev := ""
	for _, t := range toks {
		if !isFeatureToken(t) || t[0] == '[' || functionWord(t) {
			continue
		}
		any = true
		h := fnv64(14695981039346656037, t)
		if seen.add(h) {
			f.add(h)
		}
		if prev != "" {
			if b := fnv64(fnv64(h^0x9e3779b97f4a7c15, " "), prev); seen.add(b) {
				f.add(b)
			}
		}
		prev = t
	}
	if !any {
		return Fingerprint{}
	}
	for i := range f {
		f[i] &= 0xffff // see Fingerprint
	}
	return f
}

// add folds one shingle hash in. The 32 hash functions are h1 + i*h2 over
// two halves of a mixed 64-bit hash (Kirsch and Mitzenmacher), which is
// as good as independent functions for MinHash and costs one multiply-add
// each.
func (f *Fingerprint) add(h uint64) {
	m := mix64(h)
	h1, h2 := uint32(m), uint32(m>>32)|1
	for i := range f {
		v := mix32(h1 + uint32(i)*h2)
		if v < f[i] {
			f[i] = v
		}
	}
}

// mix32 is the murmur3 32-bit finaliser.
func mix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func fnv64(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashSet is a small open-addressing set of 64-bit hashes, reset per text.
type hashSet struct {
	slots []uint64 // 0 is empty; a hash of 0 is stored as 1
	n     int
}

func (s *hashSet) reset() {
	if s.n > 0 {
		clear(s.slots)
		s.n = 0
	}
}

// add reports whether h was not in the set yet.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := (h * 0x9e3779b97f4a7c15) >> 32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return true
		case h:
			return false
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(256, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}
