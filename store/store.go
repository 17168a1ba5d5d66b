// Package store keeps Tanggap's working state in Redis: items, per-OPD
// queues sorted by deadline, clocks, audit history, collector cursors.
// Every write that must be atomic is a Lua script (lua/); every write is
// idempotent by the platform's own post id, so redelivered Kafka records
// change nothing.
package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

var (
	//go:embed lua/common.lua
	luaCommon string
	//go:embed lua/ingest.lua
	luaIngest string
	//go:embed lua/update.lua
	luaUpdate string
)

// Store is the Redis-backed state of one city.
type Store struct {
	rdb    redis.UniversalClient
	k      keys
	now    func() time.Time
	ingest *redis.Script
	update *redis.Script
}

// New returns a store for one city on a Redis client (a single node, a
// sentinel or a cluster client). now is the clock; nil means time.Now.
func New(rdb redis.UniversalClient, city string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		rdb:    rdb,
		k:      newKeys(city),
		now:    now,
		ingest: redis.NewScript(luaCommon + "\n" + luaIngest),
		update: redis.NewScript(luaCommon + "\n" + luaUpdate),
	}
}

// Ping checks that Redis answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "redis ping")
	}
	return nil
}

func unavailable(err error, op string) error {
	if err == nil {
		return nil
	}
	return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "redis %s", op)
}

// Ingest is one triaged post to store.
type Ingest struct {
	Post       tanggap.Post
	Kind       tanggap.Kind
	OPD        string // "" when unrouted
	Confidence float64
	Features   []string
	Urgent     bool
	Kecamatan  string
	Kelurahan  string
	OutTarget  string
	ClusterID  string
	// Fingerprint is the near-duplicate signature of the text (hex);
	// with an OPD and a place it makes the item a clustering candidate.
	Fingerprint string
	// ClassifierOPD is the classifier's suggestion, kept even when the
	// confidence was too low to route (for overrule statistics).
	ClassifierOPD string
	Topic         string
	Status        tanggap.Status
	Deadlines     tanggap.Deadlines // zero when the post needs no answer
	Queued        bool              // goes into an OPD queue (an actionable citizen post)
	// ReplyBy is set when the post was written by a registered official
	// account: the owner (OPD code, "city" or "mayor") it answers for.
	ReplyBy string
}

// IngestResult says what an ingest did.
type IngestResult string

const (
	Stored               IngestResult = "stored"
	StoredAnswered       IngestResult = "stored_answered" // an earlier official reply was waiting for it
	Duplicate            IngestResult = "duplicate"
	Edited               IngestResult = "edited"
	Deleted              IngestResult = "deleted"
	OfficialReply        IngestResult = "official_reply"         // stopped its parent's clock
	OfficialReplyPending IngestResult = "official_reply_pending" // kept until the parent shows
)

func ms(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Ingest stores a post idempotently: the first delivery creates the item,
// a redelivery returns Duplicate and changes nothing, an edit or a deletion
// reported by the platform is recorded without losing the captured text.
func (s *Store) Ingest(ctx context.Context, in Ingest) (IngestResult, error) {
	keys, args, err := s.ingestCall(&in)
	if err != nil {
		return "", err
	}
	res, err := s.ingest.Run(ctx, s.rdb, keys, args...).Text()
	if err != nil {
		return "", unavailable(err, "ingest")
	}
	return IngestResult(res), nil
}

// ingestCall builds the keys and arguments of the ingest script for one
// post; the error is EINVALID when the post can never be stored.
func (s *Store) ingestCall(in *Ingest) ([]string, []any, error) {
	p := &in.Post
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	id := p.ItemID()
	features, _ := json.Marshal(in.Features)
	d := in.Deadlines
	var assigned string
	if in.Status == tanggap.StatusAssigned {
		assigned = ms(s.now())
	}
	var edited string
	if p.EditedAt != nil {
		edited = ms(*p.EditedAt)
	}
	fields := []string{
		"id", id, "platform", string(p.Platform), "post_id", p.ID, "url", p.URL,
		"account", p.Account, "author", p.Author, "author_id", p.AuthorID, "author_name", p.AuthorName,
		"text", p.Text, "interaction", string(p.Interaction), "thread_id", p.ThreadID, "parent_id", p.ParentID,
		"kind", string(in.Kind), "opd", in.OPD, "confidence", strconv.FormatFloat(in.Confidence, 'f', 4, 64),
		"features", string(features), "urgent", b01(in.Urgent), "kecamatan", in.Kecamatan, "kelurahan", in.Kelurahan,
		"out_target", in.OutTarget, "cluster_id", in.ClusterID, "status", string(in.Status), "topic", in.Topic,
		"classifier_opd", in.ClassifierOPD, "assigned_ms", assigned,
		"created_ms", ms(p.CreatedAt), "captured_ms", ms(p.CapturedAt),
		"fr_due_ms", ms(d.FirstResponse), "fr_soon_ms", ms(d.FirstResponseSoon),
		"route_due_ms", ms(d.Routing), "route_soon_ms", ms(d.RoutingSoon),
		"follow_due_ms", ms(d.Followup), "follow_soon_ms", ms(d.FollowupSoon),
		"res_due_ms", ms(d.Resolution), "res_soon_ms", ms(d.ResolutionSoon),
		"queued", b01(in.Queued), "truncated", b01(p.Truncated), "deleted", b01(p.Deleted), "edited_ms", edited,
		"reply_by", in.ReplyBy, "fp", in.Fingerprint, "near_key", in.nearKey(),
	}
	parent := ""
	if p.ParentID != "" {
		parent = tanggap.ItemID(p.Platform, p.ParentID)
	}
	keys := []string{s.k.item(id), s.k.history(id), s.k.pending(id), s.k.edits(id),
		s.k.item(parent), s.k.history(parent), s.k.pending(parent), s.k.item(in.ClusterID), s.k.history(in.ClusterID)}
	args := make([]any, 0, 6+len(fields))
	args = append(args, s.k.prefix(), ms(s.now()), b01(in.ReplyBy != ""), b01(parent != ""), in.ReplyBy, len(fields)/2)
	for _, f := range fields {
		args = append(args, f)
	}
	return keys, args, nil
}

// Item returns one item by id (platform:post id).
func (s *Store) Item(ctx context.Context, id string) (*tanggap.Item, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.item(id)).Result()
	if err != nil {
		return nil, unavailable(err, "item")
	}
	if len(m) == 0 {
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "item %s not found", id)
	}
	return decodeItem(m), nil
}

// items loads items by id in one round trip, skipping ids that vanished.
func (s *Store) items(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.k.item(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err, "items")
	}
	out := make([]tanggap.Item, 0, len(ids))
	for _, c := range cmds {
		if m := c.Val(); len(m) > 0 {
			out = append(out, *decodeItem(m))
		}
	}
	return out, nil
}

func msTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func msPtr(s string) *time.Time {
	t := msTime(s)
	if t.IsZero() {
		return nil
	}
	return &t
}

func decodeItem(m map[string]string) *tanggap.Item {
	it := &tanggap.Item{
		ID: m["id"], Platform: tanggap.Platform(m["platform"]), PostID: m["post_id"], URL: m["url"],
		Account: m["account"], Author: m["author"], AuthorName: m["author_name"], Text: m["text"],
		Interaction: tanggap.Interaction(m["interaction"]), ThreadID: m["thread_id"], ParentID: m["parent_id"],
		Kind: tanggap.Kind(m["kind"]), OPD: m["opd"], Urgent: m["urgent"] == "1",
		Kecamatan: m["kecamatan"], Kelurahan: m["kelurahan"], OutTarget: m["out_target"], ClusterID: m["cluster_id"],
		Status: tanggap.Status(m["status"]), CreatedAt: msTime(m["created_ms"]), CapturedAt: msTime(m["captured_ms"]),
		Deadline: msTime(m["due_ms"]), DueSoonAt: msTime(m["soon_ms"]), Clock: tanggap.Clock(m["clock"]),
		FirstResponseOPD: m["fr_opd"], FirstResponseURL: m["fr_url"],
		ClassifierOPD: m["classifier_opd"], Topic: m["topic"], ExternalRef: m["external_ref"], DuplicateOf: m["duplicate_of"],
		Evidence: m["evidence"], ArchiveReason: m["archive_reason"], Officer: m["officer"], ClaimedBy: m["claimed_by"],
		ClaimUntil: msTime(m["claim_until_ms"]),
		AssignedAt: msPtr(m["assigned_ms"]), ResolvedAt: msPtr(m["resolved_ms"]), ClosedAt: msPtr(m["closed_ms"]), HeldSince: msPtr(m["held_ms"]),
		Deadlines: tanggap.Deadlines{
			FirstResponse: msTime(m["fr_due_ms"]), FirstResponseSoon: msTime(m["fr_soon_ms"]),
			Routing: msTime(m["route_due_ms"]), RoutingSoon: msTime(m["route_soon_ms"]),
			Followup: msTime(m["follow_due_ms"]), FollowupSoon: msTime(m["follow_soon_ms"]),
			Resolution: msTime(m["res_due_ms"]), ResolutionSoon: msTime(m["res_soon_ms"]),
		},
		Truncated: m["truncated"] == "1", Deleted: m["deleted"] == "1", UpdatedAt: msTime(m["updated_ms"]),
		ReplyBy: m["reply_by"], Queued: m["queued"] == "1",
	}
	it.Confidence, _ = strconv.ParseFloat(m["confidence"], 64)
	it.Version, _ = strconv.ParseInt(m["version"], 10, 64)
	it.Hops, _ = strconv.Atoi(m["hops"])
	it.Reporters, _ = strconv.Atoi(m["reporters"])
	if t := msTime(m["fr_ms"]); !t.IsZero() {
		it.FirstResponseAt = &t
	}
	if t := msTime(m["edited_ms"]); !t.IsZero() {
		it.EditedAt = &t
	}
	if f := m["features"]; f != "" && f != "null" {
		_ = json.Unmarshal([]byte(f), &it.Features)
	}
	return it
}

// Queue is one OPD's working view.
type Queue struct {
	Items []tanggap.Item // open items with a running clock, nearest deadline first
	Held  []tanggap.Item // on hold (clocks paused)
	Open  int64          // open items with a running clock (Items may be cut at the limit)
	NHeld int64
}

// Queue returns an OPD's open items; opd "" is the unrouted queue.
func (s *Store) Queue(ctx context.Context, opd string, limit int64) (*Queue, error) {
	if limit <= 0 {
		limit = 200
	}
	pipe := s.rdb.Pipeline()
	open := pipe.ZRange(ctx, s.k.set("open:", opd), 0, limit-1)
	held := pipe.ZRange(ctx, s.k.set("held:", opd), 0, limit-1)
	nOpen := pipe.ZCard(ctx, s.k.set("open:", opd))
	nHeld := pipe.ZCard(ctx, s.k.set("held:", opd))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "queue")
	}
	q := &Queue{Open: nOpen.Val(), NHeld: nHeld.Val()}
	var err error
	// The packed rows carry what a queue shows (not the classifier's
	// features): half the bytes of whole hashes.
	if q.Items, err = s.packed(ctx, open.Val()); err != nil {
		return nil, err
	}
	if q.Held, err = s.packed(ctx, held.Val()); err != nil {
		return nil, err
	}
	return q, nil
}

// ItemQuery selects items for the API.
type ItemQuery struct {
	OPD    string // "" means every OPD
	Status tanggap.Status
	Before time.Time // platform time; zero means now
	Limit  int64
}

// Items lists items newest first.
func (s *Store) Items(ctx context.Context, q ItemQuery) ([]tanggap.Item, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	key := s.k.items()
	if q.OPD != "" {
		key = s.k.opd(q.OPD)
	}
	max := "+inf"
	if !q.Before.IsZero() {
		max = "(" + strconv.FormatInt(q.Before.UnixMilli(), 10)
	}
	var out []tanggap.Item
	for offset := int64(0); int64(len(out)) < q.Limit; {
		ids, err := s.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: max, Min: "-inf", Offset: offset, Count: q.Limit}).Result()
		if err != nil {
			return nil, unavailable(err, "items")
		}
		if len(ids) == 0 {
			break
		}
		offset += int64(len(ids))
		its, err := s.items(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			if q.Status == "" || it.Status == q.Status {
				out = append(out, it)
				if int64(len(out)) == q.Limit {
					break
				}
			}
		}
	}
	return out, nil
}

// History returns an item's audit events, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]tanggap.Event, error) {
	raw, err := s.rdb.LRange(ctx, s.k.history(id), 0, -1).Result()
	if err != nil {
		return nil, unavailable(err, "history")
	}
	out := make([]tanggap.Event, 0, len(raw))
	for _, r := range raw {
		ev, err := decodeEvent(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// rawEvent is the JSON the Lua scripts write.
type rawEvent struct {
	ItemID     string          `json:"item_id"`
	AtMS       int64           `json:"at_ms"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	FromStatus string          `json:"from_status"`
	ToStatus   string          `json:"to_status"`
	FromOPD    string          `json:"from_opd"`
	ToOPD      string          `json:"to_opd"`
	Reason     string          `json:"reason"`
	Data       json.RawMessage `json:"data"`
	Set        json.RawMessage `json:"set"`
	Version    int64           `json:"version"`
}

func decodeEvent(s string) (tanggap.Event, error) {
	var r rawEvent
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return tanggap.Event{}, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode event")
	}
	ev := tanggap.Event{
		ID: fmt.Sprintf("%s#%d", r.ItemID, r.Version), ItemID: r.ItemID, At: time.UnixMilli(r.AtMS).UTC(),
		Actor: r.Actor, Action: r.Action, FromStatus: tanggap.Status(r.FromStatus), ToStatus: tanggap.Status(r.ToStatus),
		FromOPD: r.FromOPD, ToOPD: r.ToOPD, Reason: r.Reason, Version: r.Version,
	}
	ev.Data = stringMap(r.Data)
	ev.Set = stringMap(r.Set)
	return ev, nil
}

// stringMap reads a JSON object written by cjson, which encodes an empty
// table as {} (or []) and numbers as numbers: values become strings.
func stringMap(raw json.RawMessage) map[string]string {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

// Cursor returns a collector's saved cursor ("" when none).
func (s *Store) Cursor(ctx context.Context, p tanggap.Platform, account string) (string, error) {
	v, err := s.rdb.Get(ctx, s.k.cursor(p, account)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err, "cursor")
	}
	return v, nil
}

// SetCursor saves a collector's cursor; collectors call it only after Kafka
// acknowledged the posts it covers.
func (s *Store) SetCursor(ctx context.Context, p tanggap.Platform, account, cursor string) error {
	return unavailable(s.rdb.Set(ctx, s.k.cursor(p, account), cursor, 0).Err(), "set cursor")
}

// ScanCreated calls fn with batches of the items whose platform time is in
// [from, to), oldest first, reading batch items per round trip. It reads
// each item's packed report row (one field, kept by the Lua scripts), so
// the items it gives carry the fields reports use, not the classifier's
// features or the fingerprint.
func (s *Store) ScanCreated(ctx context.Context, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error {
	if batch <= 0 {
		batch = 1000
	}
	// Page by score, not by offset (an offset costs Redis a walk from the
	// start each time): the next page starts at the last score seen,
	// skipping the ids already given at that score.
	cur := from.UnixMilli()
	max := "(" + strconv.FormatInt(to.UnixMilli(), 10)
	var atCur []string
	for {
		want := batch + int64(len(atCur))
		zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.k.items(), &redis.ZRangeBy{Min: strconv.FormatInt(cur, 10), Max: max,
			Count: want}).Result()
		if err != nil {
			return unavailable(err, "scan items")
		}
		ids := make([]string, 0, len(zs))
		for _, z := range zs {
			id, _ := z.Member.(string)
			if int64(z.Score) == cur && slices.Contains(atCur, id) {
				continue
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return nil
		}
		last := int64(zs[len(zs)-1].Score)
		if last != cur {
			atCur = atCur[:0]
			cur = last
		}
		for _, z := range zs {
			if int64(z.Score) == cur {
				if id, _ := z.Member.(string); !slices.Contains(atCur, id) {
					atCur = append(atCur, id)
				}
			}
		}
		its, err := s.packed(ctx, ids)
		if err != nil {
			return err
		}
		if err := fn(its); err != nil {
			return err
		}
		if int64(len(zs)) < want {
			return nil
		}
	}
}

// repFields must list the fields in the order of REP_FIELDS in
// lua/common.lua (a test checks).
var repFields = []string{"id", "platform", "post_id", "url", "account", "author", "author_name", "text", "interaction",
	"thread_id", "parent_id", "kind", "opd", "confidence", "urgent", "kecamatan", "kelurahan", "out_target", "cluster_id",
	"status", "topic", "classifier_opd", "assigned_ms", "created_ms", "captured_ms", "queued", "deleted", "edited_ms",
	"reply_by", "fr_ms", "fr_opd", "fr_url", "resolved_ms", "closed_ms", "evidence", "archive_reason", "external_ref",
	"officer", "hops", "reporters", "due_ms", "soon_ms", "clock", "fr_due_ms", "res_due_ms", "duplicate_of",
	"held_ms", "version", "updated_ms", "truncated", "claimed_by", "claim_until_ms"}

// unpackRow reads a packed row (<length>:<bytes> per field) into m.
func unpackRow(raw string, m map[string]string) bool {
	for _, f := range repFields {
		i := strings.IndexByte(raw, ':')
		if i <= 0 {
			return false
		}
		n, err := strconv.Atoi(raw[:i])
		if err != nil || n < 0 || i+1+n > len(raw) {
			return false
		}
		if n > 0 {
			m[f] = raw[i+1 : i+1+n]
		}
		raw = raw[i+1+n:]
	}
	return raw == ""
}

// packed loads items by their report rows, falling back to the whole hash
// for an item written before rows were kept.
func (s *Store) packed(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGet(ctx, s.k.item(id), "rep")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err, "scan rows")
	}
	out := make([]tanggap.Item, 0, len(ids))
	var old []string
	m := map[string]string{}
	for i, c := range cmds {
		raw, err := c.Result()
		if err != nil {
			if errors.Is(err, redis.Nil) {
				old = append(old, ids[i])
				continue
			}
			return nil, unavailable(err, "scan rows")
		}
		clear(m)
		if !unpackRow(raw, m) {
			old = append(old, ids[i])
			continue
		}
		out = append(out, *decodeItem(m))
	}
	if len(old) > 0 {
		rest, err := s.items(ctx, old)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// OpenIDs lists every open item of an OPD slot (held ones too), by
// platform time: the carry-over of reports and the escalation digest.
func (s *Store) OpenIDs(ctx context.Context, opd string) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, s.k.set("age:", opd), 0, -1).Result()
	return ids, unavailable(err, "open ids")
}

// ItemsByID loads items by id in one round trip (missing ones are skipped).
func (s *Store) ItemsByID(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	return s.items(ctx, ids)
}
