package main

import (
	"log/slog"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage"
)

// newClassifier returns the routing classifier.
func newClassifier(cfg *config.Config, log *slog.Logger) (triage.Classifier, error) {
	log.Info("classifier", "kind", "keywords")
	return triage.NewKeywords(cfg), nil
}
