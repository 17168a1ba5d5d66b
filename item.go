package tanggap

import "time"

// DeadlineState is where an open item stands against its nearest deadline.
type DeadlineState string

const (
	OnTrack DeadlineState = "on_track"
	DueSoon DeadlineState = "due_soon"
	Overdue DeadlineState = "overdue"
)

// Clock names the deadline an open item is currently measured against.
type Clock string

const (
	ClockFirstResponse Clock = "first_response" // clock hours from T0 (24 h by default)
	ClockRouting       Clock = "routing"        // HK from T0 until an OPD is assigned
	ClockFollowup      Clock = "followup"       // HK from T0 until the OPD answers
	ClockResolution    Clock = "resolution"     // HK from T0 until resolved (information requests: UU 14/2008)
	ClockAutoclose     Clock = "autoclose"      // HK after resolution until closed
)

// Deadlines are an item's clocks, all fixed from T0 at triage (shifted only
// by time spent ON_HOLD). Soon is the instant the state turns due_soon.
type Deadlines struct {
	FirstResponse, FirstResponseSoon time.Time
	Routing, RoutingSoon             time.Time
	Followup, FollowupSoon           time.Time
	Resolution, ResolutionSoon       time.Time
}

// Item is a post under follow-up, as the store keeps it.
type Item struct {
	ID          string      `json:"id"` // platform:post id
	Platform    Platform    `json:"platform"`
	PostID      string      `json:"post_id"`
	URL         string      `json:"url"`
	Account     string      `json:"account"`
	Author      string      `json:"author"`
	AuthorName  string      `json:"author_name,omitempty"`
	Text        string      `json:"text"`
	Interaction Interaction `json:"interaction,omitempty"`
	ThreadID    string      `json:"thread_id"`
	ParentID    string      `json:"parent_id,omitempty"`

	Kind          Kind     `json:"kind"`
	OPD           string   `json:"opd"`
	ClassifierOPD string   `json:"classifier_opd,omitempty"` // what triage suggested (for overrule statistics)
	Confidence    float64  `json:"confidence"`
	Features      []string `json:"features,omitempty"` // what explained the classifier's decision
	Topic         string   `json:"topic,omitempty"`
	Urgent        bool     `json:"urgent,omitempty"`
	Kecamatan     string   `json:"kecamatan,omitempty"`
	Kelurahan     string   `json:"kelurahan,omitempty"`
	OutTarget     string   `json:"out_of_scope_target,omitempty"`
	ExternalRef   string   `json:"external_ref,omitempty"` // tracking id at the target (e.g. SP4N-LAPOR!)
	ClusterID     string   `json:"cluster_id,omitempty"`
	Reporters     int      `json:"reporters,omitempty"` // citizens in the cluster
	DuplicateOf   string   `json:"duplicate_of,omitempty"`

	Status     Status    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`  // platform time, T0
	CapturedAt time.Time `json:"captured_at"` // collector time

	AssignedAt       *time.Time `json:"assigned_at,omitempty"` // first disposition to an OPD
	FirstResponseAt  *time.Time `json:"first_response_at"`
	FirstResponseOPD string     `json:"first_response_opd,omitempty"`
	FirstResponseURL string     `json:"first_response_url,omitempty"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	Evidence         string     `json:"evidence,omitempty"`
	ArchiveReason    string     `json:"archive_reason,omitempty"`
	Officer          string     `json:"officer,omitempty"` // who last acted for the OPD
	Hops             int        `json:"hops,omitempty"`    // reassignments between OPDs
	ClaimedBy        string     `json:"claimed_by,omitempty"`
	ClaimUntil       time.Time  `json:"claim_until,omitempty"`
	HeldSince        *time.Time `json:"held_since,omitempty"`
	Extended         bool       `json:"extended,omitempty"` // its resolution deadline was extended (once allowed)
	// Reopens are the times the item spent ended before it became open
	// again (reopened, or routed out of an archived, out-of-scope or
	// duplicate status), oldest first. Items that became open again before
	// the store recorded this have none.
	Reopens []Reopen `json:"reopens,omitempty"`

	Deadline      time.Time     `json:"deadline"` // the current clock's deadline
	DueSoonAt     time.Time     `json:"-"`
	Clock         Clock         `json:"clock,omitempty"`
	DeadlineState DeadlineState `json:"deadline_state"`
	Deadlines     Deadlines     `json:"-"`

	ReplyBy   string     `json:"reply_by,omitempty"` // for an official account's post: the owner it speaks for
	Queued    bool       `json:"queued"`             // in an OPD queue: a citizen post that needs an answer
	Truncated bool       `json:"truncated,omitempty"`
	Deleted   bool       `json:"deleted,omitempty"`
	EditedAt  *time.Time `json:"edited_at,omitempty"`
	Version   int64      `json:"version"` // bumped on every change: compare-and-set
	UpdatedAt time.Time  `json:"updated_at"`
}

// Reopen is a time an item spent ended: from the instant it ended
// (resolved, closed, or its last change for a status without its own
// instant; T0 for an item never queued before) to the instant it became
// open again.
type Reopen struct {
	Ended time.Time `json:"ended"`
	At    time.Time `json:"at"`
}

// StateAt computes the deadline state of the item's current clock at now.
// Items that are not open, or on hold, are on track.
func (it *Item) StateAt(now time.Time) DeadlineState {
	switch {
	case !it.Status.Open() || it.Status == StatusOnHold || it.Deadline.IsZero():
		return OnTrack
	case !now.Before(it.Deadline):
		return Overdue
	case !it.DueSoonAt.IsZero() && !now.Before(it.DueSoonAt):
		return DueSoon
	}
	return OnTrack
}

// Answered reports whether an official reply or a person recorded the
// first public response.
func (it *Item) Answered() bool { return it.FirstResponseAt != nil }
