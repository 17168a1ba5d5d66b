package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap/store"
)

// retentionHour is when, in the city's time, the nightly retention may
// start: off-peak, since a prune takes most of Redis' core while it runs.
const retentionHour = 2

// retention removes, once a night, the items that ended before the start
// of the day cfg.Retention.EndedDays ago (config.Retention), as `tanggap
// prune` does: the cutoff goes to the events topic first, so a rebuild
// leaves the same items out. Every triage process runs it; a lease per
// day lets one of them do the night's prune, and one that fails frees the
// day for the next try a round later.
type retention struct {
	st    *store.Store
	mark  func(ctx context.Context, before, at time.Time) error // bus.Producer.PublishPrune
	days  int
	loc   *time.Location
	owner string
	now   func() time.Time
	m     *retentionMetrics
	log   *slog.Logger
}

type retentionMetrics struct {
	pruned prometheus.Counter
	runs   *prometheus.CounterVec
}

func newRetentionMetrics(reg prometheus.Registerer) *retentionMetrics {
	m := &retentionMetrics{
		pruned: prometheus.NewCounter(prometheus.CounterOpts{Name: "tanggap_store_retention_pruned_total",
			Help: "Items the nightly retention removed from Redis (config retention.ended_days)."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_store_retention_runs_total",
			Help: "Nightly retention prunes this process ran, by result (ok, error); a failed one is tried again a round later."}, []string{"result"}),
	}
	m.runs.WithLabelValues("ok")
	m.runs.WithLabelValues("error")
	reg.MustRegister(m.pruned, m.runs)
	return m
}

// run tries a round every interval until ctx ends.
func (r *retention) run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.round(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("retention_failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// round prunes once per city day, from retentionHour on, in the process
// that takes the day's lease.
func (r *retention) round(ctx context.Context) error {
	now := r.now().In(r.loc)
	if now.Hour() < retentionHour {
		return nil
	}
	day := now.Format(time.DateOnly)
	lease := "retention:" + day
	ok, err := r.st.AcquireLease(ctx, lease, r.owner, 36*time.Hour)
	if err != nil || !ok {
		return err // another process has (or had) tonight's prune
	}
	y, mo, d := now.Date()
	cutoff := time.Date(y, mo, d-r.days, 0, 0, 0, 0, r.loc)
	res, err := markAndPrune(ctx, r.st, r.mark, cutoff, now)
	if err != nil {
		r.m.runs.WithLabelValues("error").Inc()
		if rerr := r.st.ReleaseLease(context.WithoutCancel(ctx), lease, r.owner); rerr != nil {
			err = fmt.Errorf("%w (and freeing the day: %v)", err, rerr)
		}
		return err
	}
	r.m.runs.WithLabelValues("ok").Inc()
	r.m.pruned.Add(float64(res.Pruned))
	r.log.Info("retention_pruned", "ended_before", cutoff, "pruned", res.Pruned, "open", res.Open, "recent", res.Recent,
		"unrelayed", res.Unrelayed, "joined", res.Joined, "originals", res.Originals)
	return nil
}

// processName names this process in leases: host and pid.
func processName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
