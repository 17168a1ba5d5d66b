package store

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap"
)

// OpenItemsCollector exports tanggap_store_open_items{opd,state}, read from
// the queues at scrape time (one pipelined round trip).
type OpenItemsCollector struct {
	s    *Store
	opds []string
	desc *prometheus.Desc
	up   *prometheus.Desc
}

// NewOpenItemsCollector returns the collector; register it on a registry.
func NewOpenItemsCollector(s *Store, opds []string) *OpenItemsCollector {
	return &OpenItemsCollector{s: s, opds: opds,
		desc: prometheus.NewDesc("tanggap_store_open_items", "Open items not yet answered, by OPD (\"_unrouted\" for none) and deadline state.", []string{"opd", "state"}, nil),
		up:   prometheus.NewDesc("tanggap_store_up", "1 when the last scrape could read Redis.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *OpenItemsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.up }

// Collect implements prometheus.Collector.
func (c *OpenItemsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := c.s.OpenCounts(ctx, c.opds, c.s.now())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for opd, m := range counts {
		for _, st := range []tanggap.DeadlineState{tanggap.OnTrack, tanggap.DueSoon, tanggap.Overdue} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(m[st]), opd, string(st))
		}
	}
}
