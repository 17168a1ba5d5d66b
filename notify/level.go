package notify

import (
	"errors"
	"fmt"
	"math"
)

// Level is a step of the escalation ladder, and the role whose people that
// step adds to a digest's recipients. Levels are cumulative: a digest at
// LevelUtama also goes to the OPD's PPID Pelaksana and admins.
type Level int

const (
	// LevelNone: nothing is overdue; a due-soon reminder goes to the people
	// of the ladder's first step.
	LevelNone Level = iota
	// LevelAdmin: the OPD's social-media admins (role opd_admin).
	LevelAdmin
	// LevelPelaksana: the OPD's PPID Pelaksana (role ppid_pelaksana).
	LevelPelaksana
	// LevelUtama: the city's PPID Utama / Humas (role ppid_utama), city-wide.
	LevelUtama
)

var levelNames = [...]string{"none", "opd_admin", "ppid_pelaksana", "ppid_utama"}

// String returns the level's stable name, which is also the user role it
// adds: "none", "opd_admin", "ppid_pelaksana" or "ppid_utama".
func (l Level) String() string {
	if l < LevelNone || l > LevelUtama {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// Label is the level's name in Bahasa Indonesia, for digests.
func (l Level) Label() string {
	switch l {
	case LevelAdmin:
		return "Admin OPD"
	case LevelPelaksana:
		return "PPID Pelaksana"
	case LevelUtama:
		return "PPID Utama"
	}
	return "Pengingat"
}

// Valid reports whether l is a level a ladder step may use.
func (l Level) Valid() bool { return l >= LevelAdmin && l <= LevelUtama }

// MarshalText implements encoding.TextMarshaler (config files, JSON).
func (l Level) MarshalText() ([]byte, error) {
	if l < LevelNone || l > LevelUtama {
		return nil, fmt.Errorf("unknown escalation level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if string(b) == n {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("unknown escalation level %q (want opd_admin, ppid_pelaksana or ppid_utama)", b)
}

// Step is one rung of the ladder: an overdue item reaches Level once it is
// overdue by more than AfterHK working days (AfterHK 0: as soon as it is
// overdue at all).
type Step struct {
	Level   Level   `yaml:"level" json:"level"`
	AfterHK float64 `yaml:"after_hk" json:"after_hk"`
}

// Ladder is the escalation policy of a city.
type Ladder struct {
	// Steps in ascending order of Level and AfterHK.
	Steps []Step `yaml:"steps" json:"steps"`
	// NoReminders skips the digest of an OPD that has items due soon but
	// none overdue. By default such a digest goes to the first step.
	NoReminders bool `yaml:"no_reminders" json:"no_reminders"`
}

// Default thresholds of the ladder, in working days overdue.
const (
	DefaultPelaksanaAfterHK = 1
	DefaultUtamaAfterHK     = 3
)

// DefaultLadder is the policy of the design notes: overdue goes to the OPD
// admins, more than 1 HK overdue adds the PPID Pelaksana, more than 3 HK adds
// the PPID Utama.
func DefaultLadder() Ladder {
	return Ladder{Steps: []Step{
		{Level: LevelAdmin, AfterHK: 0},
		{Level: LevelPelaksana, AfterHK: DefaultPelaksanaAfterHK},
		{Level: LevelUtama, AfterHK: DefaultUtamaAfterHK},
	}}
}

// Validate checks that the ladder has at least one step, that levels rise
// from step to step and that thresholds never fall.
func (l Ladder) Validate() error {
	if len(l.Steps) == 0 {
		return errors.New("escalation ladder has no steps")
	}
	for i, s := range l.Steps {
		if !s.Level.Valid() {
			return fmt.Errorf("escalation step %d: unknown level %d", i+1, int(s.Level))
		}
		if s.AfterHK < 0 || math.IsNaN(s.AfterHK) || math.IsInf(s.AfterHK, 0) {
			return fmt.Errorf("escalation step %d (%s): after_hk must be a number >= 0", i+1, s.Level)
		}
		if i > 0 {
			p := l.Steps[i-1]
			if s.Level <= p.Level {
				return fmt.Errorf("escalation step %d (%s): levels must rise (after %s)", i+1, s.Level, p.Level)
			}
			if s.AfterHK < p.AfterHK {
				return fmt.Errorf("escalation step %d (%s): after_hk %g is less than the step before (%g)", i+1, s.Level, s.AfterHK, p.AfterHK)
			}
		}
	}
	return nil
}

// LevelFor returns the level an overdue item reaches when it is lateHK
// working days past its deadline: the highest step whose threshold it
// passed, or LevelNone when it passed none.
func (l Ladder) LevelFor(lateHK float64) Level {
	lv := LevelNone
	for _, s := range l.Steps {
		if s.AfterHK <= 0 || lateHK > s.AfterHK {
			lv = s.Level
		}
	}
	return lv
}

// levelsFor returns the levels whose people receive a digest at level lv:
// every step up to lv, or the first step for a reminder.
func (l Ladder) levelsFor(lv Level) []Level {
	if len(l.Steps) == 0 {
		return nil
	}
	if lv == LevelNone {
		return []Level{l.Steps[0].Level}
	}
	var out []Level
	for _, s := range l.Steps {
		if s.Level <= lv {
			out = append(out, s.Level)
		}
	}
	return out
}
