package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Recipients returns the people of one escalation level for an OPD: the
// OPD's admins (LevelAdmin) or its PPID Pelaksana (LevelPelaksana), or the
// city-wide PPID Utama (LevelUtama, whatever the OPD). The digest asks for
// every level up to the one it reached and removes duplicates.
//
// Backed by the users registry, a level is the users whose role is
// Level.String() and whose OPD is opd (any OPD for LevelUtama), who are
// not disabled and have an e-mail address.
type Recipients interface {
	Recipients(ctx context.Context, opd string, level Level) ([]Address, error)
}

// RecipientsConfig lists the people of each level, by OPD code.
type RecipientsConfig struct {
	Admins    map[string][]Address `yaml:"opd_admin" json:"opd_admin"`
	Pelaksana map[string][]Address `yaml:"ppid_pelaksana" json:"ppid_pelaksana"`
	Utama     []Address            `yaml:"ppid_utama" json:"ppid_utama"`
}

// StaticRecipients is a Recipients held in memory, built from a config.
// It is immutable and safe for concurrent use.
type StaticRecipients struct {
	admins, pelaksana map[string][]Address
	utama             []Address
}

// NewStaticRecipients validates every address (see CheckAddress) and
// returns the lists.
func NewStaticRecipients(cfg RecipientsConfig) (*StaticRecipients, error) {
	r := &StaticRecipients{admins: map[string][]Address{}, pelaksana: map[string][]Address{}}
	check := func(what string, in []Address) ([]Address, error) {
		out := make([]Address, 0, len(in))
		for i, a := range in {
			c, err := CheckAddress(a)
			if err != nil {
				return nil, fmt.Errorf("recipients %s #%d: %w", what, i+1, err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	for _, m := range []struct {
		level Level
		in    map[string][]Address
		out   map[string][]Address
	}{{LevelAdmin, cfg.Admins, r.admins}, {LevelPelaksana, cfg.Pelaksana, r.pelaksana}} {
		for _, opd := range slices.Sorted(maps.Keys(m.in)) {
			if strings.TrimSpace(opd) == "" {
				return nil, fmt.Errorf("recipients %s: empty OPD code", m.level)
			}
			as, err := check(m.level.String()+" "+opd, m.in[opd])
			if err != nil {
				return nil, err
			}
			m.out[opd] = as
		}
	}
	var err error
	if r.utama, err = check(LevelUtama.String(), cfg.Utama); err != nil {
		return nil, err
	}
	return r, nil
}

// Recipients implements Recipients. It returns a copy.
func (r *StaticRecipients) Recipients(_ context.Context, opd string, level Level) ([]Address, error) {
	switch level {
	case LevelAdmin:
		return slices.Clone(r.admins[opd]), nil
	case LevelPelaksana:
		return slices.Clone(r.pelaksana[opd]), nil
	case LevelUtama:
		return slices.Clone(r.utama), nil
	}
	return nil, fmt.Errorf("recipients: no people for level %s", level)
}
