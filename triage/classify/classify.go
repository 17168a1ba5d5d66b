package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage/normalize"
	"github.com/tanggap/tanggap/triage/place"
)

//go:embed model/default.bin
var defaultModel []byte

// Result is the triage of one text.
type Result struct {
	Kind           tanggap.Kind `json:"kind"`
	KindConfidence float64      `json:"kind_confidence"`
	OPD            string       `json:"opd"`        // OPD code, tanggap.OutOfScope, or "" when nothing fits
	Confidence     float64      `json:"confidence"` // calibrated probability of OPD
	Features       []string     `json:"features"`   // the few features that explain the decision
	Urgent         bool         `json:"urgent"`
	UrgentReason   string       `json:"urgent_reason,omitempty"`
	OutTarget      string       `json:"out_target,omitempty"` // e.g. "PLN" when OPD == tanggap.OutOfScope
	Kecamatan      string       `json:"kecamatan,omitempty"`
	Kelurahan      string       `json:"kelurahan,omitempty"`
	RT             string       `json:"rt,omitempty"`
	RW             string       `json:"rw,omitempty"`
	OutsideCity    string       `json:"outside_city,omitempty"` // a border place outside Kota Bekasi, when no city place is named
	Mentions       []string     `json:"mentions,omitempty"`     // @handles found
	// Fingerprint is the near-duplicate signature of the text; compare two
	// with Similarity against DuplicateThreshold.
	Fingerprint Fingerprint `json:"-"`
}

// Confidence given to decisions taken by rules rather than the model.
const (
	ruleConfidence = 0.9
	spamConfidence = 0.97
	// Mention bonuses, in calibrated log-odds: tagging an OPD's own
	// account multiplies that OPD's odds by e^1.5 (about 4.5); tagging a
	// kecamatan or kelurahan account by e^0.7 (about 2).
	mentionBonusOPD = 1.5
	mentionBonusKec = 0.7
	// kindCueBonus is the log-odds a kind cue (rules.kindCue) adds.
	kindCueBonus = 2.0
	maxFeatures  = 5
	// A BUKAN_ADUAN post gets no OPD when spam rules say so, or when the
	// kind model is at least noiseBlank sure and the OPD model is less than
	// noiseKeepOPD sure: a post the OPD model routes confidently is more
	// likely a complaint written in an unusual way than noise.
	noiseBlank   = 0.8
	noiseKeepOPD = 0.6
)

// Classifier routes texts. It is immutable after construction and safe for
// concurrent use; Classify does no I/O.
type Classifier struct {
	model    *Model
	norm     *normalize.Normalizer
	gaz      *place.Gazetteer
	ext      extractor
	rules    *rules
	accounts map[string]string // lower-case handle without @ -> owner
	opdIndex map[string]int
	kindIdx  []tanggap.Kind
	pjuOwner string
	scratch  sync.Pool
}

type scratch struct {
	doc   normalize.Doc // reused: a Result keeps strings, never these slices
	feats []feat
	seen  bucketSet
	// shingles de-duplicates the fingerprint's shingles.
	shingles hashSet
	z        []float64
	zk       []float64
	acc      []float32
	tok      []float64
	big      []float64
	kw       []kwContribution
	ids      []int32 // the tokens' ids in the rules' lexicon
}

// Default returns the classifier with the embedded model and gazetteer.
// Building one decodes the model (about 0.1 s): build it once and share it.
func Default(cfg *config.Config) (*Classifier, error) {
	if len(defaultModel) == 0 {
		return nil, errors.New("classify: no embedded model: run tanggap train --out triage/classify/model/default.bin")
	}
	return Load(bytes.NewReader(defaultModel), cfg)
}

// Load reads a model file (written by tanggap train) and builds a
// classifier for a city config.
func Load(r io.Reader, cfg *config.Config) (*Classifier, error) {
	m, err := ReadModel(r)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	return newClassifier(m, cfg)
}

func newClassifier(m *Model, cfg *config.Config) (*Classifier, error) {
	if cfg == nil {
		return nil, errors.New("classify: nil config")
	}
	norm, err := normalize.New()
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	gaz, err := place.Default()
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	c := &Classifier{
		model:    m,
		norm:     norm,
		gaz:      gaz,
		ext:      extractor{spec: m.Meta.Spec, kw: newKeywords(cfg, norm)},
		rules:    newRules(norm),
		accounts: map[string]string{},
		opdIndex: map[string]int{},
		pjuOwner: cfg.Triage.PJUOwner,
	}
	for _, a := range cfg.Accounts {
		c.accounts[strings.ToLower(strings.TrimPrefix(a.Handle, "@"))] = a.Owner
	}
	for i, l := range m.opd.labels {
		c.opdIndex[l] = i
	}
	if m.kind != nil {
		for _, l := range m.kind.labels {
			c.kindIdx = append(c.kindIdx, tanggap.Kind(l))
		}
	}
	c.scratch.New = func() any { return &scratch{} }
	return c, nil
}

// Model returns the model the classifier uses.
func (c *Classifier) Model() *Model { return c.model }

// Normalizer returns the classifier's normaliser.
func (c *Classifier) Normalizer() *normalize.Normalizer { return c.norm }

// Gazetteer returns the classifier's place index.
func (c *Classifier) Gazetteer() *place.Gazetteer { return c.gaz }

// Classify triages one text.
func (c *Classifier) Classify(text string) Result {
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	doc := &s.doc
	c.norm.NormalizeInto(text, doc)
	s.feats = c.ext.extract(doc.Tokens, s.feats, &s.seen)
	c.model.tab.prepare(s.feats)
	var res Result

	// Every head's logits in one pass over the features.
	tab := c.model.tab
	s.acc = grow32(s.acc, tab.width)
	tab.scoreAll(s.feats, s.acc)

	// OPD model, with the mentioned accounts as a prior.
	om := c.model.opd
	s.z = grow(s.z, om.k())
	for i, v := range s.acc[om.off : om.off+om.k()] {
		s.z[i] = float64(v)
	}
	var mentionFeat string
	for _, h := range doc.Mentions {
		res.Mentions = append(res.Mentions, "@"+h)
		owner, ok := c.accounts[h]
		if !ok {
			continue
		}
		i, ok := c.opdIndex[owner]
		if !ok {
			continue
		}
		bonus := mentionBonusOPD
		if owner == "kecamatan" {
			bonus = mentionBonusKec
		}
		s.z[i] += bonus * om.temp
		if mentionFeat == "" {
			mentionFeat = "akun: @" + h
		}
	}
	best := softmax(s.z, om.temp)
	res.OPD, res.Confidence = om.labels[best], s.z[best]
	if !knownContent(s.feats) && mentionFeat == "" {
		// Nothing in the text is known to the model: nothing fits.
		res.OPD, res.Confidence = "", 0
	}

	// Kind.
	rt := c.rules.index(doc.Tokens, s.ids)
	s.ids = rt.ids
	res.Kind, res.KindConfidence = tanggap.KindComplaint, 1
	if km := c.model.kind; km != nil {
		s.zk = grow(s.zk, km.k())
		for i, v := range s.acc[km.off : km.off+km.k()] {
			s.zk[i] = float64(v)
		}
		if cue := c.rules.kindCue(rt); cue != "" {
			for i, k := range c.kindIdx {
				if k == cue {
					s.zk[i] += kindCueBonus * km.temp
				}
			}
		}
		kb := softmax(s.zk, km.temp)
		res.Kind, res.KindConfidence = c.kindIdx[kb], s.zk[kb]
	}
	ruleFeats := make([]string, 0, maxFeatures)
	spam := false
	if n, w := c.rules.spamScore(rt); n >= 2 {
		spam = true
		res.Kind, res.KindConfidence = tanggap.KindNoise, max(res.KindConfidence, spamConfidence)
		ruleFeats = append(ruleFeats, "aturan: spam ("+w+")")
	}
	explainOPD := res.OPD != ""
	switch {
	case res.Kind == tanggap.KindNoise && (spam || res.KindConfidence >= noiseBlank && res.Confidence < noiseKeepOPD):
		res.OPD, res.Confidence = "", 0
		explainOPD = false
	default:
		if target, phrase := c.rules.outOfScope(rt); target != "" {
			res.OPD, res.Confidence, res.OutTarget = tanggap.OutOfScope, ruleConfidence, target
			ruleFeats = append(ruleFeats, "bukan wewenang kota: "+target+" ("+phrase+")")
			explainOPD = false
		} else if res.OPD != "" && res.OPD == c.model.Meta.PJULabel && c.pjuOwner != "" && c.pjuOwner != res.OPD && c.rules.isPJU(rt) {
			res.OPD = c.pjuOwner
			ruleFeats = append(ruleFeats, "aturan: PJU milik "+c.pjuOwner)
		}
	}
	if res.Kind.Actionable() {
		if reason, phrase := c.rules.urgency(rt); reason != "" {
			res.Urgent, res.UrgentReason = true, reason+": "+phrase
		}
	}

	res.Fingerprint = fingerprintSeen(doc.Tokens, &s.shingles)
	p := c.gaz.ExtractWords(doc.Words)
	res.Kecamatan, res.Kelurahan, res.RT, res.RW, res.OutsideCity = p.Kecamatan, p.Kelurahan, p.RT, p.RW, p.OutsideCity

	res.Features = ruleFeats
	if mentionFeat != "" {
		res.Features = append(res.Features, mentionFeat)
	}
	if explainOPD {
		res.Features = append(res.Features, c.explain(s, doc.Tokens, best, maxFeatures-len(res.Features))...)
	}
	return res
}

// kwContribution is a matched keyword phrase's contribution to a label.
type kwContribution struct {
	k int // index in keywords.seqs
	v float64
}

// knownContent reports whether any content feature has weights.
func knownContent(fs []feat) bool {
	for _, f := range fs {
		if f.row >= 0 && f.ns != nsLength {
			return true
		}
	}
	return false
}

func grow32(x []float32, n int) []float32 {
	if cap(x) < n {
		return make([]float32, n)
	}
	return x[:n]
}

func grow(x []float64, n int) []float64 {
	if cap(x) < n {
		return make([]float64, n)
	}
	return x[:n]
}

// explain lists the words, phrases and keywords that pushed the text most
// towards a label, strongest first.
func (c *Classifier) explain(s *scratch, toks []string, label int, n int) []string {
	if n <= 0 {
		return nil
	}
	om := c.model.opd
	s.tok = grow(s.tok, len(toks))
	s.big = grow(s.big, len(toks))
	clear(s.tok)
	clear(s.big)
	s.kw = s.kw[:0]
	for _, f := range s.feats {
		if f.row < 0 || f.ns == nsLength {
			continue
		}
		v := c.model.tab.contribution(om, f, label)
		switch {
		case f.ns == nsKeyword:
			// One feature per matched keyword phrase (extract de-duplicates).
			s.kw = append(s.kw, kwContribution{int(-1 - f.src), v})
		case f.ns == nsBigram:
			s.big[f.src] += v
		default:
			s.tok[f.src] += v
		}
	}
	// Keep the top candidates in a small sorted array; build strings only
	// for them.
	type cand struct {
		kind byte // 't' token, 'b' bigram, 'k' keyword
		i    int
		v    float64
	}
	var top [maxFeatures + 4]cand
	nt := 0
	consider := func(kind byte, i int, v float64) {
		if v <= 0 || nt == len(top) && v <= top[nt-1].v {
			// Weaker than every kept candidate, including an earlier
			// occurrence of the same word.
			return
		}
		if kind == 't' || kind == 'b' {
			// The same word may occur twice: keep its best occurrence.
			for j := 0; j < nt; j++ {
				if top[j].kind == kind && toks[top[j].i] == toks[i] && (kind == 't' || toks[prevFeature(toks, top[j].i)] == toks[prevFeature(toks, i)]) {
					if v > top[j].v {
						top[j].v = v
						for ; j > 0 && top[j].v > top[j-1].v; j-- {
							top[j], top[j-1] = top[j-1], top[j]
						}
					}
					return
				}
			}
		}
		if nt < len(top) {
			nt++
		}
		j := nt - 1
		for ; j > 0 && top[j-1].v < v; j-- {
			top[j] = top[j-1]
		}
		top[j] = cand{kind, i, v}
	}
	for i, v := range s.tok {
		consider('t', i, v)
	}
	for i, v := range s.big {
		if prevFeature(toks, i) >= 0 {
			consider('b', i, v)
		}
	}
	for _, kc := range s.kw {
		consider('k', kc.k, kc.v)
	}
	out := make([]string, 0, min(n, nt))
	for _, cd := range top[:nt] {
		if len(out) == n {
			break
		}
		switch cd.kind {
		case 't':
			out = append(out, "kata: "+toks[cd.i])
		case 'b':
			out = append(out, "frasa: "+toks[prevFeature(toks, cd.i)]+" "+toks[cd.i])
		case 'k':
			out = append(out, "kata kunci "+c.ext.kw.opd[cd.i]+": "+c.ext.kw.text[cd.i])
		}
	}
	return out
}

// prevFeature is the index of the token that forms a bigram with toks[i]
// (the one right before it, when it is a feature token), or -1.
func prevFeature(toks []string, i int) int {
	if i > 0 && isFeatureToken(toks[i-1]) {
		return i - 1
	}
	return -1
}
