package tanggap

import "time"

// DeadlineState is where an open item stands against its nearest deadline.
type DeadlineState string

const (
	OnTrack  DeadlineState = "on_track"
	DueSoon  DeadlineState = "due_soon"
	Overdue  DeadlineState = "overdue"
	Answered DeadlineState = "answered" // the first-response clock stopped in time or late; see FirstResponseAt
)

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

	Kind       Kind     `json:"kind"`
	OPD        string   `json:"opd"`
	Confidence float64  `json:"confidence"`
	Features   []string `json:"features,omitempty"` // what explained the classifier's decision
	Urgent     bool     `json:"urgent,omitempty"`
	Kecamatan  string   `json:"kecamatan,omitempty"`
	Kelurahan  string   `json:"kelurahan,omitempty"`
	OutTarget  string   `json:"out_of_scope_target,omitempty"`
	ClusterID  string   `json:"cluster_id,omitempty"`

	Status     Status    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`  // platform time, T0
	CapturedAt time.Time `json:"captured_at"` // collector time

	FirstResponseAt  *time.Time    `json:"first_response_at"`
	FirstResponseOPD string        `json:"first_response_opd,omitempty"`
	FirstResponseURL string        `json:"first_response_url,omitempty"`
	Deadline         time.Time     `json:"deadline"` // first-response deadline
	DeadlineState    DeadlineState `json:"deadline_state"`

	ReplyBy   string     `json:"reply_by,omitempty"` // for an official account's post: the owner it speaks for
	Queued    bool       `json:"queued"`             // in an OPD queue: a citizen post that needs an answer
	Truncated bool       `json:"truncated,omitempty"`
	Deleted   bool       `json:"deleted,omitempty"`
	EditedAt  *time.Time `json:"edited_at,omitempty"`
	Version   int64      `json:"version"` // bumped on every change: compare-and-set
	UpdatedAt time.Time  `json:"updated_at"`
}

// StateAt computes the first-response deadline state at now.
// dueSoon is the window before the deadline that counts as due soon.
func (it *Item) StateAt(now time.Time, dueSoon time.Duration) DeadlineState {
	if it.FirstResponseAt != nil {
		return Answered
	}
	switch {
	case it.Deadline.IsZero():
		return OnTrack
	case !now.Before(it.Deadline):
		return Overdue
	case it.Deadline.Sub(now) <= dueSoon:
		return DueSoon
	}
	return OnTrack
}
