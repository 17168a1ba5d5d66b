package classify

import (
	"strings"

	"github.com/tanggap/tanggap/triage/normalize"
)

// lexicon numbers the first tokens of the phrases of several phrase sets,
// so that a text's tokens are looked up in one map once, not once per set.
type lexicon struct {
	ids map[string]int32
}

func newLexicon() *lexicon { return &lexicon{ids: map[string]int32{}} }

func (l *lexicon) id(t string) int32 {
	i, ok := l.ids[t]
	if !ok {
		i = int32(len(l.ids))
		l.ids[t] = i
	}
	return i
}

// lexText is normalised tokens with their lexicon ids (-1: starts no phrase).
type lexText struct {
	toks []string
	ids  []int32
}

// index looks the tokens up, reusing ids' memory.
func (l *lexicon) index(toks []string, ids []int32) lexText {
	ids = ids[:0]
	for _, t := range toks {
		i, ok := l.ids[t]
		if !ok {
			i = -1
		}
		ids = append(ids, i)
	}
	return lexText{toks: toks, ids: ids}
}

// phraseSet finds phrases (token sequences) in normalised tokens. A token
// ending in '*' matches any token with that prefix ("kebakar*").
type phraseSet struct {
	lex      *lexicon
	first    [][]int32 // by lexicon id of the first token: phrases
	prefixed []int32   // phrases whose first token is a prefix pattern
	seqs     [][]string
	tags     []int32
	texts    []string
}

func newPhraseSet(lex *lexicon) *phraseSet { return &phraseSet{lex: lex} }

// add normalises a phrase like a post (slang mapped), so that "jln rusak"
// and "jalan rusak" are one phrase.
func (p *phraseSet) add(norm *normalize.Normalizer, phrase string, tag int) {
	var toks []string
	for _, w := range strings.Fields(strings.ToLower(phrase)) {
		if strings.HasSuffix(w, "*") {
			toks = append(toks, w)
			continue
		}
		toks = append(toks, norm.Normalize(w).Tokens...)
	}
	if len(toks) == 0 {
		return
	}
	i := int32(len(p.seqs))
	p.seqs = append(p.seqs, toks)
	p.tags = append(p.tags, int32(tag))
	p.texts = append(p.texts, phrase)
	if strings.HasSuffix(toks[0], "*") {
		p.prefixed = append(p.prefixed, i)
		return
	}
	id := int(p.lex.id(toks[0]))
	for len(p.first) <= id {
		p.first = append(p.first, nil)
	}
	p.first[id] = append(p.first[id], i)
}

func tokMatch(pat, t string) bool {
	if n := len(pat); n > 0 && pat[n-1] == '*' {
		return strings.HasPrefix(t, pat[:n-1])
	}
	return pat == t
}

func (p *phraseSet) matchAt(toks []string, pos int, i int32) bool {
	seq := p.seqs[i]
	if pos+len(seq) > len(toks) {
		return false
	}
	for j, pat := range seq {
		if !tokMatch(pat, toks[pos+j]) {
			return false
		}
	}
	return true
}

// each calls fn(phrase, position) for every match, in text order; fn
// returns false to stop. The text must be indexed by p's lexicon.
func (p *phraseSet) each(t lexText, fn func(i int32, pos int) bool) {
	toks := t.toks
	for pos, id := range t.ids {
		if id >= 0 && int(id) < len(p.first) {
			for _, i := range p.first[id] {
				if p.matchAt(toks, pos, i) && !fn(i, pos) {
					return
				}
			}
		}
		for _, i := range p.prefixed {
			if p.matchAt(toks, pos, i) && !fn(i, pos) {
				return
			}
		}
	}
}

// find returns the first match with a tag, or -1.
func (p *phraseSet) find(t lexText, tag int) (int32, int) {
	found, at := int32(-1), -1
	p.each(t, func(i int32, pos int) bool {
		if int(p.tags[i]) == tag {
			found, at = i, pos
			return false
		}
		return true
	})
	return found, at
}
