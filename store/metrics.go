package store

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap"
)

// OpenItemsCollector exports tanggap_store_open_items{opd,state}, read from
// the queues at scrape time (one pipelined round trip), what the city
// holds: its items and the memory of the redis-server that keeps them,
// which only `tanggap prune` frees, and the audit events still waiting for
// Kafka in the outbox.
type OpenItemsCollector struct {
	s                 *Store
	opds              []string
	desc, up, items   *prometheus.Desc
	memUsed, memLimit *prometheus.Desc
	outbox, outboxAge *prometheus.Desc
}

// NewOpenItemsCollector returns the collector; register it on a registry.
func NewOpenItemsCollector(s *Store, opds []string) *OpenItemsCollector {
	return &OpenItemsCollector{s: s, opds: opds,
		desc:  prometheus.NewDesc("tanggap_store_open_items", "Open items not yet answered, by OPD (\"_unrouted\" for none) and deadline state.", []string{"opd", "state"}, nil),
		up:    prometheus.NewDesc("tanggap_store_up", "1 when the last scrape could read Redis.", nil, nil),
		items: prometheus.NewDesc("tanggap_store_items", "Items the city's Redis holds (every post stored, of every status, until tanggap prune removes it).", nil, nil),
		memUsed: prometheus.NewDesc("tanggap_store_redis_used_memory_bytes",
			"used_memory of the redis-server holding the city's keys (absent when it does not report it).", nil, nil),
		memLimit: prometheus.NewDesc("tanggap_store_redis_maxmemory_bytes",
			"maxmemory of the redis-server holding the city's keys; 0 when it has no limit.", nil, nil),
		outbox: prometheus.NewDesc("tanggap_store_outbox_events",
			"Audit events stored in Redis that the relay (in tanggap triage) has not yet seen Kafka acknowledge.", nil, nil),
		outboxAge: prometheus.NewDesc("tanggap_store_outbox_oldest_age_seconds",
			"How long the oldest of those events has waited for Kafka, by the Redis server's clock; 0 when none waits.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *OpenItemsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.desc, c.up, c.items, c.memUsed, c.memLimit, c.outbox, c.outboxAge} {
		ch <- d
	}
}

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
	if n, err := c.s.ItemCount(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(n))
	}
	if n, age, err := c.s.OutboxBacklog(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.outboxAge, prometheus.GaugeValue, age.Seconds())
	}
	// miniredis (tanggap dev) reports no memory: the gauges are left out.
	if used, limit, err := c.s.Memory(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.memUsed, prometheus.GaugeValue, float64(used))
		ch <- prometheus.MustNewConstMetric(c.memLimit, prometheus.GaugeValue, float64(limit))
	}
}
