package main

import (
	"context"
	"flag"
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
	return runClassifyCommand(ctx, "train", classify.TrainCommand, args, e)
}

func runEval(ctx context.Context, args []string, e env) error {
	return runClassifyCommand(ctx, "eval", classify.EvalCommand, args, e)
}

func runClassify(ctx context.Context, args []string, e env) error {
	return runClassifyCommand(ctx, "classify", classify.ClassifyCommand, args, e)
}

// runClassifyCommand parses a classify command's flags with parseFlags, so
// -h prints the flags and ends like every other subcommand's.
func runClassifyCommand(ctx context.Context, name string, mk func(*flag.FlagSet) classify.Command, args []string, e env) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	run := mk(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return run(ctx, e.stdin, e.stdout)
}
