package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/notify"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// userRecipients finds digest recipients among the web users: enabled users
// with an e-mail whose role is the level's and whose OPD is the digest's
// (any OPD for the PPID Utama). The unrouted queue belongs to the PPID Utama.
type userRecipients struct{ st *store.Store }

func (u userRecipients) Recipients(ctx context.Context, opd string, level notify.Level) ([]notify.Address, error) {
	users, err := u.st.Users(ctx)
	if err != nil {
		return nil, err
	}
	role := level.String()
	if opd == store.Unrouted && level == notify.LevelAdmin {
		role = notify.LevelUtama.String()
	}
	var out []notify.Address
	for _, us := range users {
		if us.Disabled || us.Email == "" || us.Role != role {
			continue
		}
		if role != notify.LevelUtama.String() && us.OPD != opd {
			continue
		}
		out = append(out, notify.Address{Name: us.Name, Email: us.Email})
	}
	return out, nil
}

// newDigest builds the daily escalation digest, or nil when no SMTP server
// is configured (TANGGAP_SMTP_ADDR).
func newDigest(e env, cfg *config.Config, st *store.Store, clocks *workflow.Clocks, reg prometheus.Registerer, log *slog.Logger) (*notify.Digest, error) {
	if e.getenv("TANGGAP_SMTP_ADDR") == "" {
		log.Info("digest_disabled", "why", "TANGGAP_SMTP_ADDR not set")
		return nil, nil
	}
	// The digest's links must open where people reach Tanggap: a default
	// (localhost) would mail every OPD links that open nothing.
	base := strings.TrimRight(e.getenv("TANGGAP_BASE_URL"), "/")
	if !tanggap.SafeURL(base) {
		return nil, fmt.Errorf("digest: TANGGAP_BASE_URL must be the address people open Tanggap at (https://…), got %q", base)
	}
	sc, err := notify.SMTPFromEnv(e.getenv)
	if err != nil {
		return nil, err
	}
	ch, err := notify.NewSMTP(sc)
	if err != nil {
		return nil, err
	}
	opds := []notify.OPD{{Code: store.Unrouted, Name: "Belum terdisposisi"}}
	for _, o := range cfg.OPDs {
		opds = append(opds, notify.OPD{Code: o.Code, Name: o.Name, Short: o.Abbrev})
	}
	return notify.NewDigest(notify.DigestConfig{City: cfg.City.Name, BaseURL: base, OPDs: opds},
		notify.Deps{Source: st, Recipients: userRecipients{st}, Channel: ch, Ledger: st, Calendar: clocks.Calendar(),
			Registerer: reg, Logger: log, Now: time.Now})
}

// runDigest sends today's escalation digests now (they are otherwise sent
// by `tanggap triage` every working day at 07:00).
func runDigest(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := c.logger(e.stderr)
	ct, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer ct.rdb.Close()
	cfg, st := ct.cfg, ct.st
	clocks, err := workflow.NewClocks(cfg, e.getenv("TANGGAP_HOLIDAYS"))
	if err != nil {
		return err
	}
	dg, err := newDigest(e, cfg, st, clocks, prometheus.NewRegistry(), log)
	if err != nil {
		return err
	}
	if dg == nil {
		return fmt.Errorf("digest: set TANGGAP_SMTP_ADDR (and TANGGAP_SMTP_FROM) to send e-mail")
	}
	rep, err := dg.SendNow(ctx, time.Now())
	if err != nil {
		return err
	}
	for _, o := range rep.OPDs {
		fmt.Fprintf(e.stdout, "%-26s %-14s level=%s overdue=%d due_soon=%d recipients=%d\n", o.OPD, o.Result, o.Level, o.Overdue, o.DueSoon, o.Recipients)
	}
	return nil
}
