package classify

import (
	"context"
	"math"
	"math/rand/v2"
)

// example is one training document.
type example struct {
	feats  []feat
	label  int
	weight float64
}

// TrainOptions are the learner's knobs. The defaults are the values chosen
// on the validation slice (see the package doc).
type TrainOptions struct {
	Epochs      int     `json:"epochs"`      // at most this many passes per class
	C           float64 `json:"c"`           // SVM cost of the OPD head
	KindC       float64 `json:"kind_c"`      // SVM cost of the kind head
	ClassPower  float64 `json:"class_power"` // class weight = (n / (K n_c)) ^ ClassPower: 0 none, 1 balanced
	MinAbs      float64 `json:"min_abs"`     // feature rows whose largest weight is below this are pruned
	Calibration float64 `json:"calibration"` // share of the most recent rows held out to fit the temperature
	Seed        uint64  `json:"seed"`
}

func defaultTrainOptions() TrainOptions {
	return TrainOptions{Epochs: 30, C: 0.5, KindC: 0.1, ClassPower: 0.5, MinAbs: 0.05, Calibration: 0.1, Seed: 1}
}

// classWeights are (n / (K n_c)) ^ power over the classes present.
func classWeights(data []example, k int, power float64) []float64 {
	counts := make([]float64, k)
	var tot float64
	for _, e := range data {
		counts[e.label] += e.weight
		tot += e.weight
	}
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	cw := make([]float64, k)
	for c := range cw {
		if counts[c] > 0 {
			cw[c] = math.Pow(tot/(float64(present)*counts[c]), power)
		}
	}
	return cw
}

// fitTemperature finds T minimising the negative log-likelihood of
// softmax(z/T) on held-out logits (golden-section search on log T).
func fitTemperature(logits [][]float64, labels []int) float64 {
	if len(logits) == 0 {
		return 1
	}
	nll := func(t float64) float64 {
		var s float64
		p := make([]float64, len(logits[0]))
		for i, z := range logits {
			copy(p, z)
			softmax(p, t)
			s -= math.Log(max(p[labels[i]], 1e-12))
		}
		return s
	}
	lo, hi := math.Log(0.02), math.Log(20.0)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(math.Exp(a)), nll(math.Exp(b))
	for i := 0; i < 60; i++ {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(math.Exp(b))
		}
	}
	return math.Exp((lo + hi) / 2)
}

// trainSVM fits one-vs-rest L2-regularised L2-loss linear SVMs by dual
// coordinate descent (Hsieh et al., ICML 2008), one per class, with a bias
// feature of value 1. Each row's cost is o.C times its weight times the
// class weight of its own class. The weights are laid out [bucket][K].
func trainSVM(ctx context.Context, data []example, k int, bits uint8, o TrainOptions) ([]float32, []float32, error) {
	n := 1 << bits
	out := make([]float32, n*k)
	bias := make([]float32, k)
	cw := classWeights(data, k, o.ClassPower)
	qii := make([]float64, len(data))
	for i, e := range data {
		q := 1.0 // bias
		for _, f := range e.feats {
			q += float64(f.val) * float64(f.val)
		}
		qii[i] = q
	}
	w := make([]float64, n)
	alpha := make([]float64, len(data))
	order := make([]int, len(data))
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e4d))
	for c := 0; c < k; c++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		clear(w)
		clear(alpha)
		var b float64
		for i := range order {
			order[i] = i
		}
		for ep := 0; ep < o.Epochs; ep++ {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			maxPG := 0.0
			for _, i := range order {
				e := data[i]
				y := -1.0
				if e.label == c {
					y = 1
				}
				ci := o.C * e.weight * cw[e.label]
				if ci <= 0 {
					continue
				}
				dii := 1 / (2 * ci)
				s := b
				for _, f := range e.feats {
					s += w[f.bucket] * float64(f.val)
				}
				g := y*s - 1 + dii*alpha[i]
				pg := g
				if alpha[i] == 0 && g > 0 {
					pg = 0
				}
				if pg == 0 {
					continue
				}
				maxPG = max(maxPG, math.Abs(pg))
				old := alpha[i]
				alpha[i] = max(old-g/(qii[i]+dii), 0)
				d := (alpha[i] - old) * y
				if d == 0 {
					continue
				}
				b += d
				for _, f := range e.feats {
					w[f.bucket] += d * float64(f.val)
				}
			}
			if maxPG < 0.01 {
				break
			}
		}
		for j, v := range w {
			if v != 0 {
				out[j*k+c] = float32(v)
			}
		}
		bias[c] = float32(b)
	}
	return out, bias, nil
}
