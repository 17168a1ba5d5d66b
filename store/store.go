// Package store keeps Tanggap's working state in Redis: items, per-OPD
// queues sorted by deadline, clocks, audit history, collector cursors.
// Every write that must be atomic is a Lua script (lua/) or, for the
// common new post, a MULTI/EXEC under WATCH (plain.go); every write is
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
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	// noPlain sends every post through the ingest script (tests compare
	// the two paths); plain counts the posts the plain path stored.
	noPlain bool
	plain   atomic.Int64
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

// nowArg is the scripts' ARGV[2]: the store's clock in milliseconds and the
// same instant as the audit events' "at" (tanggap.Event JSON).
func (s *Store) nowArg() string { return instantArg(s.instant()) }

// instantArg is ARGV[2] for the instant t (see nowArg).
func instantArg(t time.Time) string {
	ms, at := nowParts(t)
	return ms + " " + at
}

// instant is the store's clock to the millisecond, in UTC: the instant of
// a change as its event's "at" gives it.
func (s *Store) instant() time.Time { return time.UnixMilli(s.now().UnixMilli()).UTC() }

func nowParts(t time.Time) (msec, at string) { return ms(t), t.Format(time.RFC3339Nano) }

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// flag is an item field's boolean: "1" or left out (the readers take a
// missing field for false, and each field costs the ingest script).
func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// Ingest stores a post idempotently: the first delivery creates the item,
// a redelivery returns Duplicate and changes nothing, an edit or a deletion
// reported by the platform is recorded without losing the captured text.
func (s *Store) Ingest(ctx context.Context, in Ingest) (IngestResult, error) {
	res, errs := s.IngestBatch(ctx, []Ingest{in})
	return res[0], errs[0]
}

// ingestCall is one post's part of an ingest pipeline: the item hash it
// stages (at keys[9]), the keys and arguments of the ingest script that
// takes the stage for a new item (see lua/ingest.lua).
type ingestCall struct {
	hash []any // field/value pairs, empty fields left out
	keys []string
	args []any
	// What the plain path (plain.go) writes besides: the item id, the
	// instant (ms), the packed row's parts and the ingest event.
	id, now, head, tail, event string
	// For a report joining a cluster: its root's citizens set and its own
	// citizen in it (also the script's last argument).
	citizens, citizen string
}

// ingestFields are the fields of a new item's hash, in the order
// newIngestCall gives their values (the ingest event's "set" lists them so
// too).
var ingestFields = [...]string{"id", "platform", "post_id", "url", "account", "author", "author_id", "author_name",
	"text", "interaction", "thread_id", "parent_id", "kind", "opd", "confidence", "features", "urgent", "kecamatan",
	"kelurahan", "out_target", "cluster_id", "status", "topic", "classifier_opd", "assigned_ms", "created_ms",
	"captured_ms", "fr_due_ms", "fr_soon_ms", "route_due_ms", "route_soon_ms", "follow_due_ms", "follow_soon_ms",
	"res_due_ms", "res_soon_ms", "queued", "truncated", "deleted", "edited_ms", "reply_by"}

// ingestArgs are the item fields the ingest script reads, at ARGV[6]
// onwards in this order (the rest it never reads: they go into the staged
// hash only).
var ingestArgs = []string{"id", "created_ms", "status", "opd", "queued", "cluster_id", "classifier_opd", "url",
	"deleted", "edited_ms", "fr_due_ms", "fr_soon_ms", "route_due_ms", "route_soon_ms", "follow_due_ms",
	"follow_soon_ms", "res_due_ms", "res_soon_ms"}

// ingestPlaces are each of ingestFields' place in the packed row and among
// the script's arguments (-1: not there), looked up once, and its name as
// a pipeline argument (boxed once).
var ingestPlaces = func() (p [len(ingestFields)]struct {
	row, arg int
	name     any
}) {
	for i, f := range ingestFields {
		p[i].row, p[i].arg, p[i].name = -1, -1, f
		if j, ok := repIndex[f]; ok {
			p[i].row = j
		}
		if j := slices.Index(ingestArgs, f); j >= 0 {
			p[i].arg = j
		}
	}
	return p
}()

// newIngestCall builds one post's ingest call; the error is EINVALID when
// the post can never be stored.
func (s *Store) newIngestCall(in *Ingest) (ingestCall, error) {
	p := &in.Post
	if err := p.Validate(); err != nil {
		return ingestCall{}, err
	}
	id := p.ItemID()
	features, _ := json.Marshal(in.Features)
	conf := strconv.FormatFloat(in.Confidence, 'f', 4, 64)
	d := in.Deadlines
	var assigned string
	if in.Status == tanggap.StatusAssigned {
		assigned = ms(s.now())
	}
	var edited string
	if p.EditedAt != nil {
		edited = ms(*p.EditedAt)
	}
	vals := [len(ingestFields)]string{id, string(p.Platform), p.ID, p.URL, p.Account, p.Author, p.AuthorID, p.AuthorName,
		p.Text, string(p.Interaction), p.ThreadID, p.ParentID, string(in.Kind), in.OPD, conf, string(features),
		flag(in.Urgent), in.Kecamatan, in.Kelurahan, in.OutTarget, in.ClusterID, string(in.Status), in.Topic,
		in.ClassifierOPD, assigned, ms(p.CreatedAt), ms(p.CapturedAt),
		ms(d.FirstResponse), ms(d.FirstResponseSoon), ms(d.Routing), ms(d.RoutingSoon),
		ms(d.Followup), ms(d.FollowupSoon), ms(d.Resolution), ms(d.ResolutionSoon),
		flag(in.Queued), flag(p.Truncated), flag(p.Deleted), edited, in.ReplyBy}
	parent := ""
	if p.ParentID != "" {
		parent = tanggap.ItemID(p.Platform, p.ParentID)
	}
	// The parent's keys serve a reply only and the root's a report joining
	// a cluster; otherwise the post's own stand in (the script does not
	// read them) instead of hashing empty ids.
	own := s.k.itemKeys(id)
	par, root := own, own
	if parent != "" {
		par = s.k.itemKeys(parent)
	}
	if in.ClusterID != "" {
		root = s.k.itemKeys(in.ClusterID)
	}
	nowMS, nowAt := nowParts(s.instant())
	c := ingestCall{
		hash: make([]any, 0, 2*len(vals)+4),
		keys: []string{own[0], own[1], own[2], own[3], par[0], par[1], par[2], root[0], root[1], own[4]},
		args: make([]any, 5+len(ingestArgs), 11+len(ingestArgs)),
	}
	copy(c.args, []any{s.k.prefix(), nowMS + " " + nowAt, b01(in.ReplyBy != ""), b01(parent != ""), in.ReplyBy})
	// Empty fields are left out: a missing field reads as empty everywhere
	// (decodeItem, the packed row, the scripts), and each one costs the
	// hash, the AOF and the ingest event.
	var row [len(repFields)]string
	for i, v := range vals {
		at := ingestPlaces[i]
		if at.arg >= 0 {
			c.args[5+at.arg] = v
		}
		if v == "" {
			continue
		}
		c.hash = append(c.hash, at.name, v)
		if at.row >= 0 {
			row[at.row] = v
		}
	}
	c.hash = append(c.hash, "version", "1", "updated_ms", nowMS)
	nk := in.NearKey()
	row[repIndex["version"]], row[repIndex["updated_ms"]] = "1", nowMS
	c.id, c.now = id, nowMS
	c.head, c.tail = packRow(row[:repClock]), packRow(row[repClock+3:])
	c.event = ingestEvent(&vals, in, id, conf, nk, nowAt)
	c.args = append(c.args, in.Fingerprint, nk, c.head, c.tail, c.event)
	if in.ClusterID != "" && in.ClusterID != id {
		c.citizens, c.citizen = s.k.citizensOf(root[0]), citizenOf(string(p.Platform), p.AuthorID, p.Author, id)
		c.args = append(c.args, c.citizen)
	}
	return c, nil
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
	its := []tanggap.Item{*decodeItem(m)}
	if err := s.withReporters(ctx, its); err != nil {
		return nil, err
	}
	return &its[0], nil
}

// items loads items by id in one round trip, skipping ids that vanished.
func (s *Store) items(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hashes, err := s.hashes(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]tanggap.Item, 0, len(ids))
	for _, m := range hashes {
		if len(m) > 0 {
			out = append(out, *decodeItem(m))
		}
	}
	return out, s.withReporters(ctx, out)
}

// hashes reads whole item hashes in one round trip (empty for a missing
// item).
func (s *Store) hashes(ctx context.Context, ids []string) ([]map[string]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.k.item(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err, "items")
	}
	out := make([]map[string]string, len(ids))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

func msTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	n, ok := int64(0), len(s) <= 18
	for i := 0; ok && i < len(s); i++ { // the usual form: digits only
		c := s[i]
		ok = c >= '0' && c <= '9'
		n = n*10 + int64(c-'0')
	}
	if !ok {
		var err error
		if n, err = strconv.ParseInt(s, 10, 64); err != nil {
			return time.Time{}
		}
	}
	return time.UnixMilli(n).UTC()
}

// itemDecoder fills one item from its stored fields.
type itemDecoder struct {
	it *tanggap.Item
	// times holds the optional instants (*time.Time fields) of the items
	// a decoder fills, slab at a time instead of one allocation each (one
	// at a time when slab is 0).
	times []time.Time
	slab  int
}

func (d *itemDecoder) ptr(s string) *time.Time {
	t := msTime(s)
	if t.IsZero() {
		return nil
	}
	if len(d.times) == cap(d.times) {
		d.times = make([]time.Time, 0, max(d.slab, 1))
	}
	d.times = append(d.times, t)
	return &d.times[len(d.times)-1]
}

// itemFields sets each stored field of an item hash on the item being
// decoded; fields not listed are not part of tanggap.Item. Whole hashes
// (decodeItem) and packed report rows (decodeRow) both decode through it,
// so the two always agree.
var itemFields = map[string]func(d *itemDecoder, v string){
	"id":          func(d *itemDecoder, v string) { d.it.ID = v },
	"platform":    func(d *itemDecoder, v string) { d.it.Platform = tanggap.Platform(v) },
	"post_id":     func(d *itemDecoder, v string) { d.it.PostID = v },
	"url":         func(d *itemDecoder, v string) { d.it.URL = v },
	"account":     func(d *itemDecoder, v string) { d.it.Account = v },
	"author":      func(d *itemDecoder, v string) { d.it.Author = v },
	"author_name": func(d *itemDecoder, v string) { d.it.AuthorName = v },
	"text":        func(d *itemDecoder, v string) { d.it.Text = v },
	"interaction": func(d *itemDecoder, v string) { d.it.Interaction = tanggap.Interaction(v) },
	"thread_id":   func(d *itemDecoder, v string) { d.it.ThreadID = v },
	"parent_id":   func(d *itemDecoder, v string) { d.it.ParentID = v },
	"kind":        func(d *itemDecoder, v string) { d.it.Kind = tanggap.Kind(v) },
	"opd":         func(d *itemDecoder, v string) { d.it.OPD = v },
	"confidence":  func(d *itemDecoder, v string) { d.it.Confidence, _ = strconv.ParseFloat(v, 64) },
	"features": func(d *itemDecoder, v string) {
		if v != "" && v != "null" {
			_ = json.Unmarshal([]byte(v), &d.it.Features)
		}
	},
	"urgent":         func(d *itemDecoder, v string) { d.it.Urgent = v == "1" },
	"kecamatan":      func(d *itemDecoder, v string) { d.it.Kecamatan = v },
	"kelurahan":      func(d *itemDecoder, v string) { d.it.Kelurahan = v },
	"out_target":     func(d *itemDecoder, v string) { d.it.OutTarget = v },
	"cluster_id":     func(d *itemDecoder, v string) { d.it.ClusterID = v },
	"status":         func(d *itemDecoder, v string) { d.it.Status = tanggap.Status(v) },
	"topic":          func(d *itemDecoder, v string) { d.it.Topic = v },
	"classifier_opd": func(d *itemDecoder, v string) { d.it.ClassifierOPD = v },
	"assigned_ms":    func(d *itemDecoder, v string) { d.it.AssignedAt = d.ptr(v) },
	"created_ms":     func(d *itemDecoder, v string) { d.it.CreatedAt = msTime(v) },
	"captured_ms":    func(d *itemDecoder, v string) { d.it.CapturedAt = msTime(v) },
	"queued":         func(d *itemDecoder, v string) { d.it.Queued = v == "1" },
	"deleted":        func(d *itemDecoder, v string) { d.it.Deleted = v == "1" },
	"truncated":      func(d *itemDecoder, v string) { d.it.Truncated = v == "1" },
	"edited_ms":      func(d *itemDecoder, v string) { d.it.EditedAt = d.ptr(v) },
	"reply_by":       func(d *itemDecoder, v string) { d.it.ReplyBy = v },
	"fr_ms":          func(d *itemDecoder, v string) { d.it.FirstResponseAt = d.ptr(v) },
	"fr_opd":         func(d *itemDecoder, v string) { d.it.FirstResponseOPD = v },
	"fr_url":         func(d *itemDecoder, v string) { d.it.FirstResponseURL = v },
	"resolved_ms":    func(d *itemDecoder, v string) { d.it.ResolvedAt = d.ptr(v) },
	"closed_ms":      func(d *itemDecoder, v string) { d.it.ClosedAt = d.ptr(v) },
	"held_ms":        func(d *itemDecoder, v string) { d.it.HeldSince = d.ptr(v) },
	"evidence":       func(d *itemDecoder, v string) { d.it.Evidence = v },
	"archive_reason": func(d *itemDecoder, v string) { d.it.ArchiveReason = v },
	"external_ref":   func(d *itemDecoder, v string) { d.it.ExternalRef = v },
	"duplicate_of":   func(d *itemDecoder, v string) { d.it.DuplicateOf = v },
	"officer":        func(d *itemDecoder, v string) { d.it.Officer = v },
	"claimed_by":     func(d *itemDecoder, v string) { d.it.ClaimedBy = v },
	"claim_until_ms": func(d *itemDecoder, v string) { d.it.ClaimUntil = msTime(v) },
	"hops":           func(d *itemDecoder, v string) { d.it.Hops, _ = strconv.Atoi(v) },
	"extended":       func(d *itemDecoder, v string) { d.it.Extended = v == "1" },
	"reporters":      func(d *itemDecoder, v string) { d.it.Reporters, _ = strconv.Atoi(v) },
	"version":        func(d *itemDecoder, v string) { d.it.Version, _ = strconv.ParseInt(v, 10, 64) },
	"updated_ms":     func(d *itemDecoder, v string) { d.it.UpdatedAt = msTime(v) },
	"due_ms":         func(d *itemDecoder, v string) { d.it.Deadline = msTime(v) },
	"soon_ms":        func(d *itemDecoder, v string) { d.it.DueSoonAt = msTime(v) },
	"clock":          func(d *itemDecoder, v string) { d.it.Clock = tanggap.Clock(v) },
	"fr_due_ms":      func(d *itemDecoder, v string) { d.it.Deadlines.FirstResponse = msTime(v) },
	"fr_soon_ms":     func(d *itemDecoder, v string) { d.it.Deadlines.FirstResponseSoon = msTime(v) },
	"route_due_ms":   func(d *itemDecoder, v string) { d.it.Deadlines.Routing = msTime(v) },
	"route_soon_ms":  func(d *itemDecoder, v string) { d.it.Deadlines.RoutingSoon = msTime(v) },
	"follow_due_ms":  func(d *itemDecoder, v string) { d.it.Deadlines.Followup = msTime(v) },
	"follow_soon_ms": func(d *itemDecoder, v string) { d.it.Deadlines.FollowupSoon = msTime(v) },
	"res_due_ms":     func(d *itemDecoder, v string) { d.it.Deadlines.Resolution = msTime(v) },
	"res_soon_ms":    func(d *itemDecoder, v string) { d.it.Deadlines.ResolutionSoon = msTime(v) },
	"reopens_ms":     func(d *itemDecoder, v string) { d.it.Reopens = parseReopens(v) },
}

// parseReopens reads reopens_ms ("<ended>-<reopened>" in ms, separated by
// spaces), skipping a malformed pair.
func parseReopens(v string) []tanggap.Reopen {
	var out []tanggap.Reopen
	for _, f := range strings.Fields(v) {
		a, b, ok := strings.Cut(f, "-")
		e, r := msTime(a), msTime(b)
		if ok && !e.IsZero() && !r.IsZero() {
			out = append(out, tanggap.Reopen{Ended: e, At: r})
		}
	}
	return out
}

// decodeItem decodes a whole item hash.
func decodeItem(m map[string]string) *tanggap.Item {
	it := &tanggap.Item{}
	d := itemDecoder{it: it}
	for k, v := range m {
		if v == "" {
			continue // a missing or empty field leaves the zero value
		}
		if set := itemFields[k]; set != nil {
			set(&d, v)
		}
	}
	return it
}

// Queue is one OPD's working view.
type Queue struct {
	Items   []tanggap.Item // a page of the open items with a running clock, nearest deadline first
	Held    []tanggap.Item // on hold (clocks paused), the first page only
	Open    int64          // open items with a running clock, on every page
	Overdue int64          // of those, past their deadline at the query's now
	NHeld   int64
}

// QueuePage selects a page of a queue: the open items from Offset (in
// deadline order), at most Limit (default 200) of them, and those overdue
// at Now (zero: the store's clock). Held items come with the first page.
type QueuePage struct {
	Offset, Limit int64
	Now           time.Time
}

// Queue returns a page of an OPD's open items; opd "" is the unrouted
// queue. The counts cover the whole queue, so a page can say what it
// leaves out.
func (s *Store) Queue(ctx context.Context, opd string, pg QueuePage) (*Queue, error) {
	if pg.Limit <= 0 {
		pg.Limit = 200
	}
	if pg.Now.IsZero() {
		pg.Now = s.now()
	}
	pg.Offset = max(pg.Offset, 0)
	pipe := s.rdb.Pipeline()
	openKey := s.k.set("open:", opd)
	open := pipe.ZRange(ctx, openKey, pg.Offset, pg.Offset+pg.Limit-1)
	var held *redis.StringSliceCmd
	if pg.Offset == 0 {
		held = pipe.ZRange(ctx, s.k.set("held:", opd), 0, pg.Limit-1)
	}
	nOpen := pipe.ZCard(ctx, openKey)
	nOver := pipe.ZCount(ctx, openKey, "-inf", strconv.FormatInt(pg.Now.UnixMilli(), 10))
	nHeld := pipe.ZCard(ctx, s.k.set("held:", opd))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "queue")
	}
	q := &Queue{Open: nOpen.Val(), Overdue: nOver.Val(), NHeld: nHeld.Val(), Held: []tanggap.Item{}}
	var err error
	// The packed rows carry what a queue shows (not the classifier's
	// features): half the bytes of whole hashes.
	if q.Items, err = s.packed(ctx, open.Val()); err != nil {
		return nil, err
	}
	if held != nil {
		if q.Held, err = s.packed(ctx, held.Val()); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// HeldItems lists an OPD slot's items on hold, oldest received first, at
// most limit of them (from their packed rows, which carry when the hold
// began).
func (s *Store) HeldItems(ctx context.Context, opd string, limit int64) ([]tanggap.Item, error) {
	ids, err := s.rdb.ZRange(ctx, s.k.set("held:", opd), 0, limit-1).Result()
	if err != nil {
		return nil, unavailable(err, "held items")
	}
	return s.packed(ctx, ids)
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

// rawEvent is the JSON the Lua scripts wrote before they wrote
// tanggap.Event JSON (still found in histories and outboxes written
// then).
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

// decodeEvent reads a history event: tanggap.Event JSON, as the scripts
// write it to the history and the outbox alike, or the older form (no
// "at"), through legacyEventJSON.
func decodeEvent(s string) (tanggap.Event, error) {
	var ev tanggap.Event
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return ev, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode event")
	}
	if !ev.At.IsZero() {
		return ev, nil
	}
	e, err := legacyEventJSON(s)
	if err != nil {
		return ev, err
	}
	ev = tanggap.Event{}
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		return ev, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode event")
	}
	return ev, nil
}

// eventID names an event: unique and ordered per item.
func eventID(item string, version int64) string {
	return item + "#" + strconv.FormatInt(version, 10)
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

// Positions returns where Kafka consumer group group recorded it stands in
// each partition of topic: the offset of the next record it hands over
// (bus.Positions; empty when it recorded none).
func (s *Store) Positions(ctx context.Context, group, topic string) (map[int]int64, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.positions(group, topic)).Result()
	if err != nil {
		return nil, unavailable(err, "positions")
	}
	out := make(map[int]int64, len(m))
	for f, v := range m {
		p, perr := strconv.Atoi(f)
		o, oerr := strconv.ParseInt(v, 10, 64)
		if perr != nil || oerr != nil || p < 0 || o < 0 {
			return nil, tanggap.Errorf(tanggap.EINTERNAL, "positions of group %s on %s: bad entry %q: %q", group, topic, f, v)
		}
		out[p] = o
	}
	return out, nil
}

// SavePositions records where consumer group group stands in the
// partitions of topic in next (bus.Positions); the others keep theirs.
func (s *Store) SavePositions(ctx context.Context, group, topic string, next map[int]int64) error {
	if len(next) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(next))
	for p, o := range next {
		vals = append(vals, strconv.Itoa(p), strconv.FormatInt(o, 10))
	}
	return unavailable(s.rdb.HSet(ctx, s.k.positions(group, topic), vals...).Err(), "save positions")
}

// ScanCreated calls fn with batches of the items whose platform time is in
// [from, to), oldest first (ties by id), about batch items each. It reads
// each item's packed report row (one field, kept by the Lua scripts), so
// the items it gives carry the fields reports use, not the classifier's
// features nor every deadline of Deadlines (only FirstResponse and
// Resolution). fn may keep a batch.
func (s *Store) ScanCreated(ctx context.Context, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error {
	return s.ScanCreatedIn(ctx, "", from, to, batch, fn)
}

// ScanCreatedIn is ScanCreated over the items that have been in an OPD
// (see AppendCreated); opd "" means every item.
func (s *Store) ScanCreatedIn(ctx context.Context, opd string, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error {
	key := s.k.items()
	if opd != "" {
		key = s.k.opd(opd)
	}
	dec := itemDecoder{slab: 256}
	return s.scanWindows(ctx, key, from, to, batch, func(w *rowWindow) error {
		its, err := s.decodeRows(ctx, &dec, w.ids, w.rows)
		if err != nil || len(its) == 0 {
			return err
		}
		return fn(its)
	})
}

// AppendCreated appends to dst the items whose platform time is in [from,
// to) and for which keep (when not nil) is true, oldest first (ties by id),
// reading them as ScanCreated does, about batch per window. With opd set,
// it reads only the items that have been in that OPD (the opd:<code> set:
// an item routed elsewhere since is still read, keep sees its current
// OPD). Each row is decoded straight into its place in dst, which grows
// once to the size of the range: no batch is allocated nor copied.
func (s *Store) AppendCreated(ctx context.Context, opd string, from, to time.Time, batch int64, dst []tanggap.Item,
	keep func(*tanggap.Item) bool) ([]tanggap.Item, error) {
	key := s.k.items()
	if opd != "" {
		key = s.k.opd(opd)
	}
	dec := itemDecoder{slab: 1024}
	grown := false
	err := s.scanWindows(ctx, key, from, to, batch, func(w *rowWindow) error {
		if !grown {
			dst, grown = slices.Grow(dst, int(w.total)), true
		}
		var err error
		dst, err = s.appendRows(ctx, &dec, dst, w.ids, w.rows, keep)
		return err
	})
	return dst, err
}

// scanAhead is how many windows a scan reads ahead of the one it decodes,
// each on its own connection, so that Redis, the network and the decoding
// work at the same time.
const scanAhead = 3

// rowWindow is one time window of a scan: its ids and the replies of the
// reads of their packed rows.
type rowWindow struct {
	total int64 // items in the whole range when the scan started
	ids   []string
	rows  []any // packed rows or nil, as rows returns them
	err   error
	done  chan struct{}
}

// scanWindows reads the items of the sorted set key (ids by platform time)
// in [from, to) in time windows sized from its count to hold about batch
// items each and calls each with every window in order (see readAhead). A
// window's ids come without their scores (formatting scores is most of the
// cost of a range in Redis).
func (s *Store) scanWindows(ctx context.Context, key string, from, to time.Time, batch int64, each func(w *rowWindow) error) error {
	if batch <= 0 {
		batch = 1000
	}
	lo, hi := from.UnixMilli(), to.UnixMilli()
	if hi <= lo {
		return nil
	}
	n, err := s.rdb.ZCount(ctx, key, strconv.FormatInt(lo, 10), "("+strconv.FormatInt(hi, 10)).Result()
	if err != nil {
		return unavailable(err, "scan items")
	}
	if n == 0 {
		return nil
	}
	windows := (n + batch - 1) / batch
	step := max((hi-lo+windows-1)/windows, 1)
	return s.readAhead(ctx, n, int((hi-lo+step-1)/step), func(ctx context.Context, i int) ([]string, error) {
		a := lo + int64(i)*step
		ids, err := s.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: strconv.FormatInt(a, 10), Max: "(" + strconv.FormatInt(min(a+step, hi), 10)}).Result()
		return ids, unavailable(err, "scan items")
	}, each)
}

// readAhead calls each with windows 0 to windows-1 in order, each holding
// the ids fetch gives for it and their packed rows, reading up to
// scanAhead windows ahead of the one each works on, every read on its own
// connection, so that Redis, the network and the decoding work at the same
// time. total is what the windows hold in all, for each to size its output.
func (s *Store) readAhead(ctx context.Context, total int64, windows int,
	fetch func(ctx context.Context, i int) ([]string, error), each func(w *rowWindow) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan *rowWindow, scanAhead)
	go func() {
		defer close(queue)
		for i := 0; i < windows; i++ {
			w := &rowWindow{total: total, done: make(chan struct{})}
			select {
			case queue <- w:
			case <-ctx.Done():
				return
			}
			go func() {
				defer close(w.done)
				ids, err := fetch(ctx, i)
				if err != nil || len(ids) == 0 {
					w.err = err
					return
				}
				w.rows, w.err = s.rows(ctx, ids)
				w.ids = ids
			}()
		}
	}()
	for w := range queue {
		<-w.done
		err := w.err
		if err == nil && len(w.ids) > 0 {
			err = each(w)
		}
		if err != nil {
			cancel()
			for w := range queue { // let the reads in flight end
				<-w.done
			}
			return err
		}
	}
	return ctx.Err()
}

// AppendRows appends to dst the items of ids for which keep (when not nil)
// is true, in the order of ids, skipping missing ones, reading their packed
// rows about batch per round trip, a few round trips ahead, like
// AppendCreated.
func (s *Store) AppendRows(ctx context.Context, ids []string, batch int, dst []tanggap.Item,
	keep func(*tanggap.Item) bool) ([]tanggap.Item, error) {
	if batch <= 0 {
		batch = 1000
	}
	dst = slices.Grow(dst, len(ids))
	dec := itemDecoder{slab: 1024}
	err := s.readAhead(ctx, int64(len(ids)), (len(ids)+batch-1)/batch, func(_ context.Context, i int) ([]string, error) {
		return ids[i*batch : min((i+1)*batch, len(ids))], nil
	}, func(w *rowWindow) error {
		var err error
		dst, err = s.appendRows(ctx, &dec, dst, w.ids, w.rows, keep)
		return err
	})
	return dst, err
}

// repFields must list the fields in the order of REP_FIELDS in
// lua/common.lua (a test checks).
var repFields = [...]string{"id", "platform", "post_id", "url", "account", "author", "author_name", "text", "interaction",
	"thread_id", "parent_id", "kind", "opd", "confidence", "urgent", "kecamatan", "kelurahan", "out_target", "cluster_id",
	"status", "topic", "classifier_opd", "assigned_ms", "created_ms", "captured_ms", "queued", "deleted", "edited_ms",
	"reply_by", "fr_ms", "fr_opd", "fr_url", "resolved_ms", "closed_ms", "evidence", "archive_reason", "external_ref",
	"officer", "hops", "reporters", "due_ms", "soon_ms", "clock", "fr_due_ms", "res_due_ms", "duplicate_of",
	"held_ms", "version", "updated_ms", "truncated", "claimed_by", "claim_until_ms", "reopens_ms"}

// repBefore is how many fields the rows packed before reopens_ms joined
// repFields hold: such a row still decodes, without it (an item that was
// never reopened since has none).
const repBefore = len(repFields) - 1

// repIndex is each packed field's place in repFields; repClock is that of
// due_ms, which soon_ms and clock follow: the ingest script writes those
// three into a new item's row between the parts triage packed.
var repIndex, repClock = func() (map[string]int, int) {
	m := make(map[string]int, len(repFields))
	for i, f := range repFields {
		m[f] = i
	}
	c := m["due_ms"]
	if m["soon_ms"] != c+1 || m["clock"] != c+2 {
		panic("store: due_ms, soon_ms and clock must follow each other in repFields")
	}
	return m, c
}()

// packRow packs values as the Lua pack() does: <length>:<bytes> each.
func packRow(vals []string) string {
	n := 0
	for _, v := range vals {
		n += len(v) + 4
	}
	b := make([]byte, 0, n)
	for _, v := range vals {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b)
}

// ingestEvent is a new item's ingest event as the Lua record() would
// write it (tanggap.Event JSON): the scripts store and relay it as given
// (cjson cost Redis a tenth of the ingest script). vals are the values of
// ingestFields (empty ones are left out of "set", as from the hash), conf
// the confidence among them.
func ingestEvent(vals *[len(ingestFields)]string, in *Ingest, id, conf, nearKey, at string) string {
	n := 512 + len(in.Fingerprint) + len(nearKey)
	for i, v := range vals {
		n += len(ingestFields[i]) + len(v) + 8
	}
	b := make([]byte, 0, n)
	str := func(k, v string) {
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
		b = append(b, ',')
	}
	b = append(b, '{')
	str("id", eventID(id, 1))
	str("item_id", id)
	str("at", at)
	str("actor", "triage")
	str("action", "ingest")
	if in.Status != "" {
		str("to_status", string(in.Status))
	}
	if in.OPD != "" {
		str("to_opd", in.OPD)
	}
	kind := string(in.Kind)
	if kind != "" || conf != "" {
		b = append(b, `"data":{`...)
		if kind != "" {
			str("kind", kind)
		}
		if conf != "" {
			str("confidence", conf)
		}
		b[len(b)-1] = '}'
		b = append(b, ',')
	}
	b = append(b, `"set":{`...)
	for i, v := range vals {
		if v != "" {
			str(ingestFields[i], v)
		}
	}
	if in.Fingerprint != "" {
		str("fp", in.Fingerprint)
	}
	if nearKey != "" {
		str("near_key", nearKey)
	}
	b[len(b)-1] = '}'
	b = append(b, `,"version":1}`...)
	return string(b)
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// repSetters are itemFields in repFields order.
var repSetters = func() []func(*itemDecoder, string) {
	out := make([]func(*itemDecoder, string), len(repFields))
	for i, f := range repFields {
		if out[i] = itemFields[f]; out[i] == nil {
			panic("store: packed field " + f + " has no decoder")
		}
	}
	return out
}()

// splitField reads one <length>:<bytes> field of a packed row and returns
// the value and the rest.
func splitField(raw string) (v, rest string, ok bool) {
	n, i := 0, 0
	for ; i < len(raw) && raw[i] != ':'; i++ {
		c := raw[i]
		if c < '0' || c > '9' || i >= 9 {
			return "", "", false
		}
		n = n*10 + int(c-'0')
	}
	if i == 0 || i == len(raw) || i+1+n > len(raw) {
		return "", "", false
	}
	return raw[i+1 : i+1+n], raw[i+1+n:], true
}

// unpackRow reads a packed row (<length>:<bytes> per field) into m.
func unpackRow(raw string, m map[string]string) bool {
	for i, f := range repFields {
		if raw == "" && i == repBefore {
			return true // packed before reopens_ms
		}
		v, rest, ok := splitField(raw)
		if !ok {
			return false
		}
		if v != "" {
			m[f] = v
		}
		raw = rest
	}
	return raw == ""
}

// decodeRow decodes a packed row straight into *it, which must be zero
// (clearing 100,000 items that are zero already was a tenth of a month's
// scan); the strings of the item share the row's memory. It reports false,
// leaving *it undefined, when the row is malformed.
func decodeRow(raw string, d *itemDecoder, it *tanggap.Item) bool {
	d.it = it
	for i, set := range repSetters {
		if raw == "" && i == repBefore {
			return true // packed before reopens_ms
		}
		v, rest, ok := splitField(raw)
		if !ok {
			return false
		}
		if v != "" {
			set(d, v)
		}
		raw = rest
	}
	return raw == ""
}

// rows reads the packed rows of ids in one MGET: each reply is a row, or
// nil for an item without one.
func (s *Store) rows(ctx context.Context, ids []string) ([]any, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.k.row(id)
	}
	v, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable(err, "scan rows")
	}
	if len(v) != len(ids) {
		return nil, fmt.Errorf("store: scan rows: %d replies for %d ids", len(v), len(ids))
	}
	return v, nil
}

// decodeRows decodes the replies of rows in the order of ids, reading
// the whole hash of an item written before rows were kept (or whose row
// does not decode) and skipping items that vanished.
func (s *Store) decodeRows(ctx context.Context, d *itemDecoder, ids []string, rows []any) ([]tanggap.Item, error) {
	out := make([]tanggap.Item, len(ids))
	var old []int
	for i, r := range rows {
		raw, ok := r.(string)
		if !ok || !decodeRow(raw, d, &out[i]) {
			old = append(old, i)
		}
	}
	if len(old) == 0 {
		return out, nil
	}
	oldIDs := make([]string, len(old))
	for j, i := range old {
		oldIDs[j] = ids[i]
	}
	hashes, err := s.hashes(ctx, oldIDs)
	if err != nil {
		return nil, err
	}
	gone := map[int]bool{}
	for j, i := range old {
		if len(hashes[j]) == 0 {
			gone[i] = true
			continue
		}
		out[i] = *decodeItem(hashes[j])
	}
	if len(gone) > 0 {
		k := 0
		for i := range out {
			if !gone[i] {
				out[k] = out[i]
				k++
			}
		}
		out = out[:k]
	}
	return out, nil
}

// appendRows decodes the replies of rows in the order of ids straight
// into new elements of dst, dropping those keep refuses, reading the whole
// hash of an item written before rows were kept and skipping items that
// vanished.
func (s *Store) appendRows(ctx context.Context, d *itemDecoder, dst []tanggap.Item, ids []string, rows []any,
	keep func(*tanggap.Item) bool) ([]tanggap.Item, error) {
	for i, r := range rows {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, len(ids)-i)
		}
		// Elements past len(dst) are zero: slices.Grow makes them so and
		// an element given back is cleared.
		dst = dst[:len(dst)+1]
		it := &dst[len(dst)-1]
		drop := func() { *it = tanggap.Item{}; dst = dst[:len(dst)-1] }
		if raw, ok := r.(string); !ok || !decodeRow(raw, d, it) {
			hashes, err := s.hashes(ctx, ids[i:i+1])
			if err != nil {
				drop()
				return dst, err
			}
			if len(hashes[0]) == 0 { // vanished
				drop()
				continue
			}
			*it = *decodeItem(hashes[0])
		}
		if keep != nil && !keep(it) {
			drop()
		}
	}
	return dst, nil
}

// packed loads items by their report rows, in the order of ids, falling
// back to the whole hash for an item written before rows were kept.
func (s *Store) packed(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	if len(ids) == 0 {
		return []tanggap.Item{}, nil
	}
	rows, err := s.rows(ctx, ids)
	if err != nil {
		return nil, err
	}
	d := itemDecoder{slab: 64}
	its, err := s.decodeRows(ctx, &d, ids, rows)
	if err != nil {
		return nil, err
	}
	return its, s.withReporters(ctx, its)
}

// OpenIDs lists every open item of an OPD slot (held ones too), by
// platform time: the carry-over of reports and the escalation digest.
func (s *Store) OpenIDs(ctx context.Context, opd string) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, s.k.set("age:", opd), 0, -1).Result()
	return ids, unavailable(err, "open ids")
}

// OpenOutside calls fn with each open item (held ones too) of OPD slots
// ("" is the unrouted one) whose platform time is before from or at or
// after to, slot by slot, by platform time, as the open sets know it: its
// platform time, and the deadline and due-soon instants its queue is
// ordered by (zero for a held item or one without a running clock). A
// report counts the open backlog around its period this way, without
// reading the items. The open sets hold queued items only, so every item
// given is one a report counts.
func (s *Store) OpenOutside(ctx context.Context, slots []string, from, to time.Time,
	fn func(id, opd string, created, due, soon time.Time)) error {
	if len(slots) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	ranges := make([]*redis.ZSliceCmd, 0, 2*len(slots))
	f, t := strconv.FormatInt(from.UnixMilli(), 10), strconv.FormatInt(to.UnixMilli(), 10)
	for _, opd := range slots {
		key := s.k.set("age:", opd)
		ranges = append(ranges, pipe.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: "(" + f}),
			pipe.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: t, Max: "+inf"}))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable(err, "open items")
	}
	// The deadlines: ZMSCORE gives 0 for an id a set lacks (no instant is 0).
	pipe = s.rdb.Pipeline()
	type slotRead struct {
		opd       string
		ids       []string
		created   []float64
		due, soon *redis.FloatSliceCmd
	}
	reads := make([]slotRead, 0, len(slots))
	for i, opd := range slots {
		r := slotRead{opd: opd}
		for _, z := range append(ranges[2*i].Val(), ranges[2*i+1].Val()...) {
			id, _ := z.Member.(string)
			r.ids = append(r.ids, id)
			r.created = append(r.created, z.Score)
		}
		if len(r.ids) == 0 {
			continue
		}
		r.due = pipe.ZMScore(ctx, s.k.set("open:", opd), r.ids...)
		r.soon = pipe.ZMScore(ctx, s.k.set("soon:", opd), r.ids...)
		reads = append(reads, r)
	}
	if len(reads) == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable(err, "open items")
	}
	instant := func(ms float64) time.Time {
		if ms == 0 {
			return time.Time{}
		}
		return time.UnixMilli(int64(ms))
	}
	for _, r := range reads {
		due, soon := r.due.Val(), r.soon.Val()
		if len(due) != len(r.ids) || len(soon) != len(r.ids) {
			return fmt.Errorf("store: open items of %q: %d and %d deadlines for %d ids", r.opd, len(due), len(soon), len(r.ids))
		}
		for i, id := range r.ids {
			fn(id, r.opd, time.UnixMilli(int64(r.created[i])), instant(due[i]), instant(soon[i]))
		}
	}
	return nil
}

// ReopenedIDs lists the items that became open again (reopened, or routed
// out of an ended status) after since, last time they did: those whose
// openness at since their reopenings (tanggap.Item.Reopens) decide, which
// the open sets do not know. Items reopened before the store recorded it
// are not listed.
func (s *Store) ReopenedIDs(ctx context.Context, since time.Time) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.k.reopened(), &redis.ZRangeBy{Min: "(" + strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf"}).Result()
	return ids, unavailable(err, "reopened ids")
}

// dayMS is the width of the ended:<day> sets (DAY_MS in lua/common.lua).
const dayMS = 24 * 3600 * 1000

// EndedIDs lists the queued items whose platform time is in [from, to)
// and which ended (resolved, closed or otherwise left the queue) at or
// after endedFrom: the items a report's carry-over needs beyond the open
// ones. It reads one range per UTC day of [from, to), so an id of the
// days at the edges may have a platform time outside [from, to).
func (s *Store) EndedIDs(ctx context.Context, from, to, endedFrom time.Time) ([]string, error) {
	lo, hi := from.UnixMilli(), to.UnixMilli()
	if hi <= lo {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	var cmds []*redis.StringSliceCmd
	since := strconv.FormatInt(endedFrom.UnixMilli(), 10)
	for day := floorDiv(lo, dayMS); day <= floorDiv(hi-1, dayMS); day++ {
		cmds = append(cmds, pipe.ZRangeByScore(ctx, s.k.ended(day), &redis.ZRangeBy{Min: since, Max: "+inf"}))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "ended ids")
	}
	var out []string
	for _, c := range cmds {
		out = append(out, c.Val()...)
	}
	return out, nil
}

// floorDiv is a / b rounded down (Lua's math.floor of the quotient).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ItemsByID loads items by id in one round trip (missing ones are skipped).
func (s *Store) ItemsByID(ctx context.Context, ids []string) ([]tanggap.Item, error) {
	return s.items(ctx, ids)
}

// epochScript reads the run id of the redis-server holding the city's
// keys (KEYS[1] routes the call to it in a cluster).
var epochScript = redis.NewScript(`return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or ''`)

// memoryScript reads used_memory and maxmemory of the redis-server holding
// the city's keys (KEYS[1] routes the call to it in a cluster).
var memoryScript = redis.NewScript(`local i = redis.call('INFO', 'memory')
return {string.match(i, 'used_memory:(%d+)') or '-1', string.match(i, 'maxmemory:(%d+)') or '-1'}`)

// Memory reports the memory the redis-server holding the city uses and
// its limit (maxmemory; 0 when it has none), in bytes. A city's Redis
// grows with its posts until an operator prunes (Prune).
func (s *Store) Memory(ctx context.Context) (used, limit int64, err error) {
	v, err := memoryScript.Run(ctx, s.rdb, []string{s.k.items()}).StringSlice()
	if err != nil {
		return 0, 0, unavailable(err, "memory")
	}
	if len(v) == 2 {
		used, err = strconv.ParseInt(v[0], 10, 64)
		if err == nil {
			limit, err = strconv.ParseInt(v[1], 10, 64)
		}
	}
	if len(v) != 2 || err != nil || used < 0 || limit < 0 {
		return 0, 0, tanggap.Errorf(tanggap.EUNAVAILABLE, "redis memory: INFO memory gave %q", v)
	}
	return used, limit, nil
}

// Epoch names the running redis-server process that holds the city (its
// run id). It changes when Redis restarts or fails over: a server killed
// with AOF everysec may have lost the last writes it acknowledged (see
// bus.ConsumerConfig.Epoch).
func (s *Store) Epoch(ctx context.Context) (string, error) {
	id, err := epochScript.Run(ctx, s.rdb, []string{s.k.items()}).Text()
	if err != nil {
		return "", unavailable(err, "epoch")
	}
	return id, nil
}
