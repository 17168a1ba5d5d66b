package classify

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// oldString is the form fingerprints were stored in before 16-bit
// positions: all 32 bits of each, 256 hex digits.
func oldString(f Fingerprint) string {
	b := make([]byte, 4*fingerprintSize)
	for i, v := range f {
		binary.BigEndian.PutUint32(b[4*i:], v)
	}
	return hex.EncodeToString(b)
}

// SimilarityHex must agree with Similarity on every pair, in the stored
// form and against the longer form stored before, and give 0 for empty
// texts and malformed strings.
func TestSimilarityHex(t *testing.T) {
	c := defaultClassifier(t)
	texts := []string{
		"sampah numpuk di pinggir jalan pengasinan udah seminggu gak diangkut",
		"udah seminggu sampah di pinggir jalan pengasinan numpuk gak diangkut2",
		"lampu pju di jl. raya jatiwarna mati semua",
		"jalan rusak di jatiasih depan sekolah",
		"!!! 123",
	}
	for _, a := range texts {
		for _, b := range texts {
			fa, fb := c.Fingerprint(a), c.Fingerprint(b)
			want := Similarity(fa, fb)
			for _, pair := range [][2]string{{fa.String(), fb.String()}, {oldString(fa), fb.String()}, {fa.String(), oldString(fb)}, {oldString(fa), oldString(fb)}} {
				if got := SimilarityHex(pair[0], pair[1]); got != want {
					t.Errorf("SimilarityHex=%v Similarity=%v for\n%q (%d digits)\n%q (%d digits)", got, want, a, len(pair[0]), b, len(pair[1]))
				}
			}
			if p, err := ParseFingerprint(oldString(fa)); err != nil || Similarity(p, fb) != want {
				t.Errorf("ParseFingerprint of the old form: %v, similarity %v, want %v", err, Similarity(p, fb), want)
			}
		}
	}
	f := c.Fingerprint(texts[0]).String()
	if len(f) != 128 {
		t.Errorf("String is %d hex digits, want 128", len(f))
	}
	for _, bad := range []string{"", "ff", f[:len(f)-1], f + "0", Fingerprint{}.String(), oldString(Fingerprint{})} {
		if s := SimilarityHex(f, bad); s != 0 {
			t.Errorf("malformed %q scored %v", bad, s)
		}
	}
}

// BenchmarkSimilarityHex: triage compares each post with up to 200 stored
// fingerprints and with the batch's earlier posts of its place.
func BenchmarkSimilarityHex(b *testing.B) {
	c := defaultClassifier(b)
	x := c.Fingerprint("sampah numpuk di pinggir jalan pengasinan udah seminggu gak diangkut").String()
	y := c.Fingerprint("udah seminggu sampah di pinggir jalan pengasinan numpuk gak diangkut2").String()
	for b.Loop() {
		SimilarityHex(x, y)
	}
}
