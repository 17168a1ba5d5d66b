package classify

import "testing"

// SimilarityHex must agree with Similarity on every pair, and give 0 for
// empty texts and malformed strings.
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
			if got, want := SimilarityHex(fa.String(), fb.String()), Similarity(fa, fb); got != want {
				t.Errorf("SimilarityHex=%v Similarity=%v for\n%q\n%q", got, want, a, b)
			}
		}
	}
	f := c.Fingerprint(texts[0]).String()
	for _, bad := range []string{"", "ff", f[:len(f)-1], f + "0"} {
		if s := SimilarityHex(f, bad); s != 0 {
			t.Errorf("malformed %q scored %v", bad, s)
		}
	}
}
