package main

import (
	"context"
	"log/slog"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/triage/classify"
)

// trained adapts the trained classifier to triage's Classifier seam.
type trained struct{ c *classify.Classifier }

func (t trained) Classify(text string) triage.Decision {
	r := t.c.Classify(text)
	d := triage.Decision{Kind: r.Kind, OPD: r.OPD, Confidence: r.Confidence, Features: r.Features, Urgent: r.Urgent,
		Kecamatan: r.Kecamatan, Kelurahan: r.Kelurahan, OutTarget: r.OutTarget}
	if !r.Fingerprint.IsZero() {
		d.Fingerprint = r.Fingerprint.String()
	}
	if r.UrgentReason != "" {
		d.Features = append(d.Features, "darurat: "+r.UrgentReason)
	}
	for _, f := range r.Features {
		if len(f) > 6 && f[:6] == "kata: " {
			d.Topic = f[6:]
			break
		}
	}
	return d
}

// newClassifier returns the routing classifier: the trained model embedded
// in the binary, with near-duplicate clustering on.
func newClassifier(cfg *config.Config, log *slog.Logger) (triage.Classifier, error) {
	c, err := classify.Default(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("classifier", "kind", "trained")
	return trained{c}, nil
}

// clustering turns near-duplicate clustering on when the classifier gives
// fingerprints.
func clustering(t *triage.Triage, cls triage.Classifier) {
	if _, ok := cls.(trained); ok {
		t.Cluster(classify.SimilarityHex, classify.DuplicateThreshold)
	}
}

func runTrain(ctx context.Context, args []string, e env) error {
	return classify.TrainCommand(ctx, args, e.stdin, e.stdout, e.stderr)
}

func runEval(ctx context.Context, args []string, e env) error {
	return classify.EvalCommand(ctx, args, e.stdin, e.stdout, e.stderr)
}

func runClassify(ctx context.Context, args []string, e env) error {
	return classify.ClassifyCommand(ctx, args, e.stdin, e.stdout, e.stderr)
}
