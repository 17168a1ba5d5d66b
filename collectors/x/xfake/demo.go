package xfake

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// DemoStatuses turns the X posts of the demo set into statuses, in feed
// order, created minutes_ago before now. Ids are snowflakes of the creation
// time, made to grow in feed order (as X ids grow in the order tweets are
// indexed), so a reply listed ahead of its parent gets the smaller id and a
// since_id reader sees the reply first.
func DemoStatuses(posts []demo.Post, now time.Time) ([]Status, error) {
	xs := demo.ForPlatform(posts, tanggap.PlatformX)
	ids := make(map[string]string, len(xs))
	authors := make(map[string]User, len(xs))
	var last int64
	for i, p := range xs {
		created := now.Add(-time.Duration(p.MinutesAgo) * time.Minute)
		id := max(Snowflake(created, int64(i)), last+1)
		last = id
		ids[p.Key] = strconv.FormatInt(id, 10)
		authors[p.Key] = User{ScreenName: p.Author, Name: p.AuthorName}
	}
	out := make([]Status, 0, len(xs))
	for _, p := range xs {
		st := Status{
			ID:        ids[p.Key],
			CreatedAt: now.Add(-time.Duration(p.MinutesAgo) * time.Minute),
			Text:      p.Text,
			User:      authors[p.Key],
		}
		if p.ReplyTo != "" {
			pid, ok := ids[p.ReplyTo]
			if !ok {
				return nil, fmt.Errorf("xfake: demo post %s replies to %s, which is not on X", p.Key, p.ReplyTo)
			}
			st.InReplyTo, st.InReplyToUser = pid, authors[p.ReplyTo]
			// X starts a reply with the parent author's handle.
			if prefix := "@" + st.InReplyToUser.ScreenName; !strings.HasPrefix(strings.ToLower(st.Text), strings.ToLower(prefix)) {
				st.Text = prefix + " " + st.Text
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// LoadDemo appends the X posts of the demo set (see DemoStatuses) and
// returns them as stored.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) ([]Status, error) {
	sts, err := DemoStatuses(posts, now)
	if err != nil {
		return nil, err
	}
	return s.Append(sts...), nil
}

// Drip appends statuses one at a time, one every interval, until all are in
// or ctx ends. It lets `tanggap dev` show posts arriving over time.
func (s *Server) Drip(ctx context.Context, sts []Status, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for _, st := range sts {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		s.Append(st)
	}
	return nil
}
