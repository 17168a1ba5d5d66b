package triage

import (
	"sort"
	"strings"
	"unicode"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// Keywords is the first classifier: it routes by the OPD scope keywords of
// the city config and by @mentions of OPD accounts. It is the fallback when
// no trained model is available, and the baseline the model must beat.
type Keywords struct {
	terms    []term            // longest first
	mentions map[string]string // lower-case handle -> OPD code
	pju      string
}

type term struct {
	words []string
	opd   string
}

// NewKeywords builds the keyword classifier of a city.
func NewKeywords(cfg *config.Config) *Keywords {
	k := &Keywords{mentions: map[string]string{}, pju: cfg.Triage.PJUOwner}
	for _, o := range cfg.OPDs {
		for _, kw := range o.Keywords {
			if w := tokens(kw); len(w) > 0 {
				k.terms = append(k.terms, term{words: w, opd: o.Code})
			}
		}
	}
	sort.SliceStable(k.terms, func(i, j int) bool { return len(k.terms[i].words) > len(k.terms[j].words) })
	for _, a := range cfg.Accounts {
		if _, ok := cfg.OPD(a.Owner); ok {
			k.mentions[strings.ToLower(strings.TrimPrefix(a.Handle, "@"))] = a.Owner
		}
	}
	return k
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '@' && r != '_' && r != '.'
	})
}

var (
	noiseWords   = []string{"slot", "gacor", "maxwin", "judol", "togel", "depo", "wd", "zeus", "pragmatic"}
	praiseWords  = []string{"terima kasih", "terimakasih", "makasih", "mantap", "keren", "salut", "apresiasi", "sukses terus", "luar biasa"}
	questionWord = []string{"bagaimana", "gimana", "cara", "syarat", "dimana", "di mana", "apakah", "info", "kapan jadwal", "boleh tanya", "mau tanya"}
	complainWord = []string{"rusak", "mati", "tolong", "parah", "belum", "gak", "ga", "tidak", "nggak", "kapan", "banjir", "macet", "numpuk", "bau", "lapor", "keluhan", "mohon", "kecewa"}
	urgentWords  = []string{"kebakaran", "terbakar", "banjir", "kecelakaan", "tabrakan", "pohon tumbang", "tumbang", "roboh", "ambruk", "korban", "meninggal", "tenggelam", "longsor", "darurat", "tersengat"}
)

func containsAny(text string, words []string) (string, bool) {
	padded := " " + text + " "
	for _, w := range words {
		if strings.Contains(padded, " "+w+" ") {
			return w, true
		}
	}
	return "", false
}

// Classify implements Classifier.
func (k *Keywords) Classify(text string) Decision {
	toks := tokens(text)
	norm := strings.Join(toks, " ")
	var d Decision
	if w, ok := containsAny(norm, urgentWords); ok {
		d.Urgent = true
		d.Features = append(d.Features, "darurat: "+w)
	}
	score := map[string]float64{}
	var why = map[string][]string{}
	for _, t := range toks {
		if opd, ok := k.mentions[strings.TrimPrefix(t, "@")]; ok && strings.HasPrefix(t, "@") {
			score[opd] += 3
			why[opd] = append(why[opd], "akun: "+t)
		}
	}
	padded := " " + norm + " "
	for _, t := range k.terms {
		phrase := strings.Join(t.words, " ")
		if strings.Contains(padded, " "+phrase+" ") {
			opd := t.opd
			if k.pju != "" && (phrase == "pju" || strings.HasPrefix(phrase, "lampu jalan") || phrase == "penerangan jalan") {
				opd = k.pju
			}
			score[opd] += float64(len(t.words))
			why[opd] = append(why[opd], "kata: "+phrase)
		}
	}
	best, total := "", 0.0
	for opd, s := range score {
		total += s
		if best == "" || s > score[best] || (s == score[best] && opd < best) {
			best = opd
		}
	}
	if best != "" {
		d.OPD = best
		d.Confidence = score[best] / (total + 1)
		d.Features = append(d.Features, why[best]...)
		for _, f := range why[best] {
			if topic, ok := strings.CutPrefix(f, "kata: "); ok {
				d.Topic = topic
				break
			}
		}
	}
	_, noise := containsAny(norm, noiseWords)
	_, praise := containsAny(norm, praiseWords)
	_, complain := containsAny(norm, complainWord)
	_, question := containsAny(norm, questionWord)
	switch {
	case noise && best == "":
		d.Kind = tanggap.KindNoise
	case praise && !complain:
		d.Kind = tanggap.KindPraise
	case question && !complain:
		d.Kind = tanggap.KindInfo
	case best != "" || complain || d.Urgent:
		d.Kind = tanggap.KindComplaint
	default:
		d.Kind = tanggap.KindNoise
	}
	return d
}
