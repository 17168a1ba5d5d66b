package classify

import (
	"testing"

	"github.com/tanggap/tanggap/triage/normalize"
)

// Phrase sets share one lexicon of first tokens; each must still find
// only its own phrases, whichever set saw a token first.
func TestPhraseSetsShareLexicon(t *testing.T) {
	norm, err := normalize.New()
	if err != nil {
		t.Fatal(err)
	}
	lex := newLexicon()
	a, b := newPhraseSet(lex), newPhraseSet(lex)
	a.add(norm, "jalan rusak", 1)
	a.add(norm, "banjir", 2)
	b.add(norm, "banjir bandang", 3)
	b.add(norm, "pohon tumbang", 4)
	a.add(norm, "lampu mati", 5) // added after b grew the lexicon
	matches := func(p *phraseSet, s string) []int32 {
		toks := norm.Normalize(s).Tokens
		var tags []int32
		p.each(lex.index(toks, nil), func(i int32, _ int) bool {
			tags = append(tags, p.tags[i])
			return true
		})
		return tags
	}
	for _, c := range []struct {
		set  *phraseSet
		text string
		want []int32
	}{
		{a, "jln rusak dan banjir bandang, lampu mati", []int32{1, 2, 5}},
		{b, "jln rusak dan banjir bandang, lampu mati", []int32{3}},
		{b, "pohon tumbang", []int32{4}},
		{a, "pohon tumbang", nil},
		{a, "banjir", []int32{2}},
		{b, "banjir", nil},
	} {
		got := matches(c.set, c.text)
		if len(got) != len(c.want) {
			t.Errorf("%q: tags %v, want %v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: tags %v, want %v", c.text, got, c.want)
				break
			}
		}
	}
}
