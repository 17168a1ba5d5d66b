package classify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage/normalize"
)

// TrainReport says what a training run used and skipped.
type TrainReport struct {
	OPDRows   int            `json:"opd_rows"`
	KindRows  int            `json:"kind_rows"`
	Skipped   map[string]int `json:"skipped_labels,omitempty"` // unknown OPD or kind labels, with counts
	OPDTemp   float64        `json:"opd_temperature"`
	KindTemp  float64        `json:"kind_temperature"`
	ModelRows int            `json:"model_rows"` // feature rows kept in the model
	Seconds   float64        `json:"seconds"`
}

// TrainModel trains the OPD and kind models from labelled rows. Rows with
// an OPD label train the OPD model; rows with a kind label train the kind
// model. Temperatures are fitted on held-out rows (the most recent tenth of
// dated rows, else every tenth row), then the models are retrained on all
// rows.
func TrainModel(ctx context.Context, rows []Row, cfg *config.Config, spec FeatureSpec, o TrainOptions) (*Model, TrainReport, error) {
	start := time.Now()
	rep := TrainReport{Skipped: map[string]int{}}
	norm, err := normalize.New()
	if err != nil {
		return nil, rep, fmt.Errorf("train: %w", err)
	}
	ext := extractor{spec: spec, kw: newKeywords(cfg, norm)}
	valid := map[string]bool{tanggap.OutOfScope: true}
	for _, o := range cfg.OPDs {
		valid[o.Code] = true
	}
	validKind := map[tanggap.Kind]bool{}
	for _, k := range tanggap.Kinds {
		validKind[k] = true
	}
	// Featurise every usable row once.
	var (
		docs              []trainDoc
		opdDocs, kindDocs []int // indexes into docs
		seen              bucketSet
		buf               []feat
	)
	opdLabels := map[string]bool{}
	kindLabels := map[string]bool{}
	rul := newRules(norm)
	pju := map[string]int{}
	for i, r := range rows {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, rep, err
			}
		}
		useOPD := r.OPD != "" && valid[r.OPD]
		useKind := r.Kind != "" && validKind[r.Kind]
		if r.OPD != "" && !valid[r.OPD] {
			rep.Skipped["opd:"+r.OPD]++
		}
		if r.Kind != "" && !validKind[r.Kind] {
			rep.Skipped["kind:"+string(r.Kind)]++
		}
		if !useOPD && !useKind {
			continue
		}
		toks := norm.Normalize(r.Text).Tokens
		buf = ext.extract(toks, buf, &seen)
		docs = append(docs, trainDoc{feats: slices.Clone(buf), row: i})
		if useOPD {
			opdDocs = append(opdDocs, len(docs)-1)
			opdLabels[r.OPD] = true
			if rul.isPJU(rul.index(toks, nil)) {
				pju[r.OPD]++
			}
		}
		if useKind {
			kindDocs = append(kindDocs, len(docs)-1)
			kindLabels[string(r.Kind)] = true
		}
	}
	if len(opdDocs) == 0 {
		return nil, rep, errors.New("train: no rows with a known OPD label")
	}
	rep.OPDRows, rep.KindRows = len(opdDocs), len(kindDocs)

	// TF-IDF over all training documents. IDFs are rounded as stored, so
	// training sees the shipped values.
	df := make([]int32, 1<<spec.Bits)
	for _, d := range docs {
		for _, f := range d.feats {
			df[f.bucket]++
		}
	}
	idfs := make([]float32, len(df))
	for b, n := range df {
		if n >= 2 {
			idfs[b] = float32(math.Round(float64(idf(len(docs), int(n)))*16) / 16)
		}
	}
	def := idf(len(docs), 1)
	weigher := newTable(spec.Bits, idfs, def, 0)
	for _, d := range docs {
		weigher.prepare(d.feats)
	}

	// OPD head.
	opd, err := trainTask(ctx, rows, docs, opdDocs, sortedKeys(opdLabels), func(r Row) string { return r.OPD }, spec.Bits, o,
		func(r Row) float64 { return rowWeight(r) }, heldOut)
	if err != nil {
		return nil, rep, err
	}
	heads := []denseHead{opd}
	rep.OPDTemp = opd.temp

	// Kind head: balanced classes, calibrated on one row in five.
	if len(kindDocs) > 0 {
		ko := o
		ko.ClassPower = 1
		ko.C = o.KindC
		kind, err := trainTask(ctx, rows, docs, kindDocs, sortedKeys(kindLabels), func(r Row) string { return string(r.Kind) }, spec.Bits, ko,
			kindWeight, func(rows []Row, idx []int, _ float64) []bool { return hashHeldOut(rows, idx, 5) })
		if err != nil {
			return nil, rep, err
		}
		heads = append(heads, kind)
		rep.KindTemp = kind.temp
	}
	pjuLabel, pjuN := "", 0
	for l, n := range pju {
		if n > pjuN || n == pjuN && l < pjuLabel {
			pjuLabel, pjuN = l, n
		}
	}
	t := newTable(spec.Bits, idfs, def, float32(o.MinAbs), heads...)
	rep.ModelRows = t.rows()
	m := newModel(Meta{Version: modelVersion, Spec: spec, Created: time.Now().UTC().Format(time.RFC3339), OPDRows: len(opdDocs),
		KindRows: len(kindDocs), PJULabel: pjuLabel, Options: o}, t)
	rep.Seconds = time.Since(start).Seconds()
	return m, rep, nil
}

// weakKindWeight is the weight of a kind label not written by a person.
const weakKindWeight = 0.05

func kindWeight(r Row) float64 {
	if r.WeakKind {
		return weakKindWeight
	}
	return 1
}

// trainTask trains one labelling task (OPD or kind) on docs[idx].
func trainTask(ctx context.Context, rows []Row, docs []trainDoc, idx []int, labels []string, label func(Row) string, bits uint8,
	o TrainOptions, weight func(Row) float64, held func([]Row, []int, float64) []bool) (denseHead, error) {
	li := map[string]int{}
	for i, l := range labels {
		li[l] = i
	}
	ex := make([]example, len(idx))
	rowIdx := make([]int, len(idx))
	for i, di := range idx {
		r := rows[docs[di].row]
		ex[i] = example{feats: docs[di].feats, label: li[label(r)], weight: weight(r)}
		rowIdx[i] = docs[di].row
	}
	return trainCalibrated(ctx, ex, held(rows, rowIdx, o.Calibration), labels, bits, o)
}

// trainDoc is a featurised training row.
type trainDoc struct {
	feats []feat
	row   int
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// heldOut marks the calibration rows: the most recent frac of the dated
// rows, or every 1/frac-th row when rows carry no date.
func heldOut(rows []Row, idx []int, frac float64) []bool {
	held := make([]bool, len(idx))
	if frac <= 0 || len(idx) < 20 {
		return held
	}
	dated := make([]int, 0, len(idx))
	for i, r := range idx {
		if len(rows[r].Date) >= 10 {
			dated = append(dated, i)
		}
	}
	if len(dated) >= len(idx)/2 {
		sort.SliceStable(dated, func(a, b int) bool { return rows[idx[dated[a]]].Date < rows[idx[dated[b]]].Date })
		n := int(float64(len(dated)) * frac)
		for _, i := range dated[len(dated)-n:] {
			held[i] = true
		}
		return held
	}
	return hashHeldOut(rows, idx, int(1/frac))
}

// hashHeldOut marks about one row in every n, chosen by a hash of its text.
func hashHeldOut(rows []Row, idx []int, n int) []bool {
	held := make([]bool, len(idx))
	for i, r := range idx {
		h := fnv.New32a()
		h.Write([]byte(rows[r].Text))
		held[i] = h.Sum32()%uint32(n) == 0
	}
	return held
}

// trainCalibrated trains on the rows not held out, fits the temperature
// on the held-out rows (scored with the quantised weights, as shipped),
// then retrains on every row.
func trainCalibrated(ctx context.Context, ex []example, held []bool, labels []string, bits uint8, o TrainOptions) (denseHead, error) {
	k := len(labels)
	temp := 1.0
	var fit, cal []example
	for i, e := range ex {
		if held[i] {
			cal = append(cal, e)
		} else {
			fit = append(fit, e)
		}
	}
	if len(cal) >= 10 && len(fit) > 0 {
		w, b, err := trainSVM(ctx, fit, k, bits, o)
		if err != nil {
			return denseHead{}, err
		}
		t := newTable(bits, nil, 1, float32(o.MinAbs), denseHead{labels: labels, w: w, bias: b})
		acc := make([]float32, k)
		logits := make([][]float64, len(cal))
		ys := make([]int, len(cal))
		for i, e := range cal {
			fs := slices.Clone(e.feats)
			t.resolve(fs)
			logits[i] = make([]float64, k)
			t.scores(t.heads[0], fs, logits[i], acc)
			ys[i] = e.label
		}
		temp = fitTemperature(logits, ys)
	}
	w, b, err := trainSVM(ctx, ex, k, bits, o)
	if err != nil {
		return denseHead{}, err
	}
	return denseHead{labels: labels, w: w, bias: b, temp: temp}, nil
}
