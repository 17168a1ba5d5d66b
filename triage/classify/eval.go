package classify

import (
	"sort"
	"time"

	"github.com/tanggap/tanggap"
)

// Scores are precision, recall and F1 of one label.
type Scores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Confusion is one (gold, predicted) pair and how often it happened.
type Confusion struct {
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// LabelReport scores one labelling task (OPD or kind).
type LabelReport struct {
	N             int               `json:"n"`
	Accuracy      float64           `json:"accuracy"`
	MacroF1       float64           `json:"macro_f1"`
	PerLabel      map[string]Scores `json:"per_label"`
	ConfusedPairs []Confusion       `json:"confused_pairs"`
	Abstained     int               `json:"abstained"`                // predictions of "" (no OPD)
	Unknown       map[string]int    `json:"unknown_labels,omitempty"` // gold labels the model does not know (scored as errors)
}

// EvalReport is what tanggap eval prints.
type EvalReport struct {
	N             int               `json:"n"`
	Accuracy      float64           `json:"accuracy"`
	MacroF1       float64           `json:"macro_f1"`
	PerOPD        map[string]Scores `json:"per_opd"`
	ConfusedPairs []Confusion       `json:"confused_pairs"`
	Abstained     int               `json:"abstained"`
	Unknown       map[string]int    `json:"unknown_labels,omitempty"`
	// ModelOnly scores the OPD model's top label alone, without the
	// rules (out of scope, PJU owner, spam) and mention priors.
	ModelOnly   *Summary     `json:"model_only,omitempty"`
	Kind        *LabelReport `json:"kind,omitempty"`
	DocsPerSec  float64      `json:"docs_per_sec"`
	MeanConf    float64      `json:"mean_confidence"`
	Calibration []Bin        `json:"calibration,omitempty"` // accuracy per confidence decile
}

// Summary is accuracy and macro-F1 alone.
type Summary struct {
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
}

// Bin is the observed accuracy of predictions within a confidence range.
type Bin struct {
	From     float64 `json:"from"`
	To       float64 `json:"to"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	MeanConf float64 `json:"mean_confidence"`
}

// Evaluate classifies every row and scores the OPD (rows with an opd) and,
// when hasKind, the kind (rows with a kind).
func Evaluate(c *Classifier, rows []Row, hasKind bool) EvalReport {
	known := map[string]bool{tanggap.OutOfScope: true}
	for _, l := range c.model.opd.labels {
		known[l] = true
	}
	var gold, pred, raw, kGold, kPred []string
	var confs []float64
	start := time.Now()
	results := make([]Result, len(rows))
	for i, r := range rows {
		results[i] = c.Classify(r.Text)
	}
	elapsed := time.Since(start)
	rep := EvalReport{}
	for i, r := range rows {
		res := results[i]
		if r.OPD != "" {
			gold = append(gold, r.OPD)
			pred = append(pred, res.OPD)
			raw = append(raw, c.modelOPD(r.Text))
			confs = append(confs, res.Confidence)
		}
		if hasKind && r.Kind != "" {
			kGold = append(kGold, string(r.Kind))
			kPred = append(kPred, string(res.Kind))
		}
	}
	if elapsed > 0 {
		rep.DocsPerSec = float64(len(rows)) / elapsed.Seconds()
	}
	o := scoreLabels(gold, pred)
	rep.N, rep.Accuracy, rep.MacroF1, rep.PerOPD, rep.ConfusedPairs, rep.Abstained = o.N, o.Accuracy, o.MacroF1, o.PerLabel, o.ConfusedPairs, o.Abstained
	for _, g := range gold {
		if !known[g] {
			if rep.Unknown == nil {
				rep.Unknown = map[string]int{}
			}
			rep.Unknown[g]++
		}
	}
	if len(gold) > 0 {
		m := scoreLabels(gold, raw)
		rep.ModelOnly = &Summary{Accuracy: m.Accuracy, MacroF1: m.MacroF1}
		rep.Calibration, rep.MeanConf = calibration(gold, pred, confs)
	}
	if hasKind && len(kGold) > 0 {
		k := scoreLabels(kGold, kPred)
		rep.Kind = &k
	}
	return rep
}

// scoreLabels computes accuracy and macro-F1. Macro-F1 averages over the
// union of gold and predicted labels (as scikit-learn does), leaving out
// the empty prediction (an abstention counts against recall only).
func scoreLabels(gold, pred []string) LabelReport {
	rep := LabelReport{N: len(gold), PerLabel: map[string]Scores{}}
	if len(gold) == 0 {
		return rep
	}
	tp, fp, fn, sup := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	pairs := map[[2]string]int{}
	labels := map[string]bool{}
	correct := 0
	for i, g := range gold {
		p := pred[i]
		sup[g]++
		labels[g] = true
		if p != "" {
			labels[p] = true
		} else {
			rep.Abstained++
		}
		if p == g {
			tp[g]++
			correct++
			continue
		}
		fn[g]++
		if p != "" {
			fp[p]++
		}
		pairs[[2]string{g, p}]++
	}
	rep.Accuracy = float64(correct) / float64(len(gold))
	var sum float64
	for l := range labels {
		s := Scores{Support: sup[l]}
		if tp[l]+fp[l] > 0 {
			s.Precision = float64(tp[l]) / float64(tp[l]+fp[l])
		}
		if tp[l]+fn[l] > 0 {
			s.Recall = float64(tp[l]) / float64(tp[l]+fn[l])
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		rep.PerLabel[l] = s
		sum += s.F1
	}
	rep.MacroF1 = sum / float64(len(labels))
	for p, n := range pairs {
		rep.ConfusedPairs = append(rep.ConfusedPairs, Confusion{Gold: p[0], Predicted: p[1], Count: n})
	}
	sort.Slice(rep.ConfusedPairs, func(i, j int) bool {
		a, b := rep.ConfusedPairs[i], rep.ConfusedPairs[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Gold != b.Gold {
			return a.Gold < b.Gold
		}
		return a.Predicted < b.Predicted
	})
	if len(rep.ConfusedPairs) > 10 {
		rep.ConfusedPairs = rep.ConfusedPairs[:10]
	}
	return rep
}

// calibration bins predictions by confidence.
func calibration(gold, pred []string, conf []float64) ([]Bin, float64) {
	bins := make([]Bin, 10)
	var mean float64
	for i := range bins {
		bins[i].From, bins[i].To = float64(i)/10, float64(i+1)/10
	}
	for i, g := range gold {
		b := min(int(conf[i]*10), 9)
		bins[b].N++
		bins[b].MeanConf += conf[i]
		if pred[i] == g {
			bins[b].Accuracy++
		}
		mean += conf[i]
	}
	out := bins[:0]
	for _, b := range bins {
		if b.N == 0 {
			continue
		}
		b.Accuracy /= float64(b.N)
		b.MeanConf /= float64(b.N)
		out = append(out, b)
	}
	return out, mean / float64(len(gold))
}

// modelOPD is the OPD model's top label alone.
func (c *Classifier) modelOPD(text string) string {
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	s.feats = c.ext.extract(c.norm.Normalize(text).Tokens, s.feats, &s.seen)
	c.model.tab.prepare(s.feats)
	om := c.model.opd
	s.z = grow(s.z, om.k())
	s.acc = grow32(s.acc, om.k())
	c.model.tab.scores(om, s.feats, s.z, s.acc)
	return om.labels[softmax(s.z, om.temp)]
}
