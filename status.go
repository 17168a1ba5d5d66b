package tanggap

// Status is the follow-up state of an item. Codes are stored; the UI shows
// the Bahasa labels.
type Status string

const (
	StatusNew          Status = "NEW"
	StatusAssigned     Status = "ASSIGNED"
	StatusInProgress   Status = "IN_PROGRESS"
	StatusResolved     Status = "RESOLVED"
	StatusClosed       Status = "CLOSED"
	StatusOnHold       Status = "ON_HOLD"
	StatusNotComplaint Status = "NOT_A_COMPLAINT"
	StatusOutOfScope   Status = "OUT_OF_SCOPE"
	StatusDuplicate    Status = "DUPLICATE"
	StatusReopened     Status = "REOPENED"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusNew, StatusAssigned, StatusInProgress, StatusOnHold, StatusReopened,
	StatusResolved, StatusClosed, StatusNotComplaint, StatusOutOfScope, StatusDuplicate}

var statusLabels = map[Status][2]string{
	StatusNew:          {"Baru", "New"},
	StatusAssigned:     {"Terdisposisi", "Assigned"},
	StatusInProgress:   {"Diproses", "In progress"},
	StatusResolved:     {"Selesai", "Resolved"},
	StatusClosed:       {"Ditutup", "Closed"},
	StatusOnHold:       {"Tunda", "On hold"},
	StatusNotComplaint: {"Diarsipkan", "Archived"},
	StatusOutOfScope:   {"Bukan Wewenang", "Out of scope"},
	StatusDuplicate:    {"Duplikat", "Duplicate"},
	StatusReopened:     {"Dibuka Kembali", "Reopened"},
}

// Label returns the UI label in Bahasa Indonesia ("id") or English ("en").
func (s Status) Label(lang string) string {
	l, ok := statusLabels[s]
	if !ok {
		return string(s)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Open reports whether an item in this status still waits for the city:
// it belongs in an OPD queue and its clocks run (ON_HOLD pauses them).
func (s Status) Open() bool {
	switch s {
	case StatusNew, StatusAssigned, StatusInProgress, StatusOnHold, StatusReopened:
		return true
	}
	return false
}

var transitions = map[Status][]Status{
	StatusNew:          {StatusAssigned, StatusInProgress, StatusOnHold, StatusNotComplaint, StatusOutOfScope, StatusDuplicate, StatusResolved},
	StatusAssigned:     {StatusAssigned, StatusInProgress, StatusOnHold, StatusNotComplaint, StatusOutOfScope, StatusDuplicate, StatusResolved},
	StatusInProgress:   {StatusAssigned, StatusInProgress, StatusOnHold, StatusResolved, StatusOutOfScope, StatusDuplicate},
	StatusOnHold:       {StatusAssigned, StatusInProgress, StatusResolved, StatusNotComplaint, StatusOutOfScope, StatusClosed},
	StatusReopened:     {StatusAssigned, StatusInProgress, StatusOnHold, StatusResolved, StatusOutOfScope},
	StatusResolved:     {StatusClosed, StatusReopened},
	StatusClosed:       {StatusReopened},
	StatusNotComplaint: {StatusNew, StatusAssigned},
	StatusOutOfScope:   {StatusAssigned, StatusReopened},
	StatusDuplicate:    {StatusAssigned, StatusReopened},
}

// CanTransition reports whether moving from one status to another is allowed.
// ASSIGNED -> ASSIGNED is a reassignment (a hop); other self-transitions are not.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Kind is what triage decided a post is.
type Kind string

const (
	KindComplaint  Kind = "PENGADUAN"
	KindInfo       Kind = "PERMINTAAN_INFORMASI"
	KindAspiration Kind = "ASPIRASI"
	KindPraise     Kind = "APRESIASI"
	KindNoise      Kind = "BUKAN_ADUAN"
	KindOfficial   Kind = "BALASAN_RESMI" // a post written by a registered official account
)

// Kinds lists the kinds triage assigns to citizen posts.
var Kinds = []Kind{KindComplaint, KindInfo, KindAspiration, KindPraise, KindNoise}

// Actionable reports whether a post of this kind needs an answer from an OPD.
func (k Kind) Actionable() bool {
	return k == KindComplaint || k == KindInfo || k == KindAspiration
}

var kindLabels = map[Kind][2]string{
	KindComplaint:  {"Pengaduan", "Complaint"},
	KindInfo:       {"Permintaan informasi", "Information request"},
	KindAspiration: {"Aspirasi", "Suggestion"},
	KindPraise:     {"Apresiasi", "Praise"},
	KindNoise:      {"Bukan aduan", "Not a complaint"},
	KindOfficial:   {"Balasan resmi", "Official reply"},
}

// Label returns the UI label of a kind.
func (k Kind) Label(lang string) string {
	l, ok := kindLabels[k]
	if !ok {
		return string(k)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// OutOfScope is the OPD code triage uses for services the city does not run.
const OutOfScope = "out_of_scope"
