package xv2_test

import (
	"time"

	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/xv2"
)

func collectorsBudget(limit, remaining int, reset time.Time) collectors.Budget {
	return collectors.Budget{Limit: limit, Remaining: remaining, Reset: reset.UTC(), Known: true, Scope: xv2.ScopeMentions}
}
