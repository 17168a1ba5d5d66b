package notify

import (
	"context"
	"time"
)

// maxSleep bounds one wait of Run, so that a wall-clock jump (a suspended
// VM, a corrected clock) delays the digest by at most this much.
const maxSleep = time.Hour

// Run sends the digests every working day at the configured local time,
// until ctx is done; it then returns nil. A digest that could not go out
// (the mail server was down, or another process died while sending it) is
// tried again every RetryEvery until CatchUp after that time. A process
// that starts late in the window sends what is still missing. The ledger
// keeps every process and restart to one digest per OPD per day.
func (d *Digest) Run(ctx context.Context) error {
	var day string
	done := map[string]bool{} // OPDs this process finished for day
	for {
		now := d.now()
		start, in := d.window(now)
		wait := start.Sub(now)
		if in {
			if k := d.dayKey(now); k != day {
				day = k
				clear(done)
			}
			if len(done) < len(d.cfg.OPDs) {
				rep, err := d.send(ctx, now, done)
				if ctx.Err() != nil {
					return nil
				}
				for _, r := range rep.OPDs {
					switch r.Result {
					case ResultSent, ResultEmpty, ResultNoRecipients:
						done[r.OPD] = true
					}
				}
				if err != nil {
					d.log.Error("digest run failed", "day", day, "failed", rep.Count(ResultError), "err", err)
				}
			}
			wait = d.cfg.RetryEvery
			if len(done) == len(d.cfg.OPDs) {
				next, _ := d.window(start.Add(d.cfg.CatchUp))
				wait = next.Sub(now)
			}
		}
		t := time.NewTimer(min(max(wait, time.Millisecond), maxSleep))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// window returns the start of the digest window that now is in (in true),
// or else of the next one: At local time on a working day, lasting CatchUp.
func (d *Digest) window(now time.Time) (start time.Time, in bool) {
	lt := now.In(d.loc)
	y, m, dd := lt.Date()
	for i := range 400 {
		s := time.Date(y, m, dd+i, d.atMin/60, d.atMin%60, 0, 0, d.loc)
		if !d.cal.IsWorkingDay(s) {
			continue
		}
		if now.Before(s) {
			return s, false
		}
		if now.Before(s.Add(d.cfg.CatchUp)) {
			return s, true
		}
	}
	return now.Add(24 * time.Hour), false // a calendar without working days
}
