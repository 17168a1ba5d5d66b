package classify

import (
	"strings"

	"github.com/tanggap/tanggap/triage/normalize"
)

// phraseSet finds phrases (token sequences) in normalised tokens. A token
// ending in '*' matches any token with that prefix ("kebakar*").
type phraseSet struct {
	first    map[string][]int32
	prefixed []int32 // phrases whose first token is a prefix pattern
	seqs     [][]string
	tags     []int32
	texts    []string
}

func newPhraseSet() *phraseSet { return &phraseSet{first: map[string][]int32{}} }

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
	p.first[toks[0]] = append(p.first[toks[0]], i)
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
// returns false to stop.
func (p *phraseSet) each(toks []string, fn func(i int32, pos int) bool) {
	for pos, t := range toks {
		for _, i := range p.first[t] {
			if p.matchAt(toks, pos, i) && !fn(i, pos) {
				return
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
func (p *phraseSet) find(toks []string, tag int) (int32, int) {
	found, at := int32(-1), -1
	p.each(toks, func(i int32, pos int) bool {
		if int(p.tags[i]) == tag {
			found, at = i, pos
			return false
		}
		return true
	})
	return found, at
}
