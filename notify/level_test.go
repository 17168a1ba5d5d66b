package notify

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLadderLevelFor(t *testing.T) {
	l := DefaultLadder()
	for _, tc := range []struct {
		late float64
		want Level
	}{
		{0, LevelAdmin}, // overdue, no working time yet (e.g. over a weekend)
		{0.5, LevelAdmin},
		{1, LevelAdmin}, // "more than 1 HK"
		{1.01, LevelPelaksana},
		{3, LevelPelaksana},
		{3.5, LevelUtama},
		{40, LevelUtama},
	} {
		if got := l.LevelFor(tc.late); got != tc.want {
			t.Errorf("LevelFor(%g) = %s, want %s", tc.late, got, tc.want)
		}
	}
	custom := Ladder{Steps: []Step{{LevelPelaksana, 0.5}, {LevelUtama, 2}}}
	if err := custom.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := custom.LevelFor(0.2); got != LevelNone {
		t.Errorf("custom LevelFor(0.2) = %s, want none", got)
	}
	if got := custom.LevelFor(1); got != LevelPelaksana {
		t.Errorf("custom LevelFor(1) = %s, want ppid_pelaksana", got)
	}
	if diff := cmp.Diff([]Level{LevelPelaksana}, custom.levelsFor(LevelNone)); diff != "" {
		t.Errorf("reminder audience (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Level{LevelAdmin, LevelPelaksana, LevelUtama}, l.levelsFor(LevelUtama)); diff != "" {
		t.Errorf("utama audience (-want +got):\n%s", diff)
	}
}

func TestLadderValidate(t *testing.T) {
	for name, l := range map[string]Ladder{
		"empty":           {},
		"unknown level":   {Steps: []Step{{Level(7), 0}}},
		"none as a step":  {Steps: []Step{{LevelNone, 0}}},
		"levels fall":     {Steps: []Step{{LevelPelaksana, 0}, {LevelAdmin, 1}}},
		"repeated level":  {Steps: []Step{{LevelAdmin, 0}, {LevelAdmin, 1}}},
		"threshold falls": {Steps: []Step{{LevelAdmin, 2}, {LevelPelaksana, 1}}},
		"negative":        {Steps: []Step{{LevelAdmin, -1}}},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, l)
		}
	}
	if err := DefaultLadder().Validate(); err != nil {
		t.Errorf("default ladder: %v", err)
	}
}

func TestLevelText(t *testing.T) {
	var l Ladder
	if err := json.Unmarshal([]byte(`{"steps":[{"level":"opd_admin","after_hk":0},{"level":"ppid_utama","after_hk":2.5}]}`), &l); err != nil {
		t.Fatal(err)
	}
	want := Ladder{Steps: []Step{{LevelAdmin, 0}, {LevelUtama, 2.5}}}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("decoded ladder (-want +got):\n%s", diff)
	}
	var lv Level
	if err := lv.UnmarshalText([]byte("bupati")); err == nil {
		t.Error("unknown level name accepted")
	}
}
