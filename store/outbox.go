package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// The outbox: every Lua script that changes an item appends its audit event
// to a Redis stream in the same atomic step. A relay publishes the stream to
// the Kafka events topic and acknowledges only after Kafka did, so no event
// is lost between Redis and Kafka, whoever crashes.

const outboxGroup = "relay"

// OutboxEntry is one event waiting for Kafka, already in its wire form:
// the relay forwards it without decoding its fields into maps (it moves
// every post's ingest event, the busiest path after ingest itself).
type OutboxEntry struct {
	StreamID string
	ItemID   string
	At       time.Time
	Event    json.RawMessage // a tanggap.Event as JSON
}

// Decode returns the entry's event.
func (e OutboxEntry) Decode() (tanggap.Event, error) {
	var ev tanggap.Event
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		return ev, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode outbox event %s", e.StreamID)
	}
	return ev, nil
}

// ReadOutbox returns events for a relay consumer: first those it read and
// never acknowledged (after a crash), then events idle for over a minute in
// a dead relay's hands, then new ones, waiting up to block.
func (s *Store) ReadOutbox(ctx context.Context, consumer string, count int64, block time.Duration) ([]OutboxEntry, error) {
	err := s.rdb.XGroupCreateMkStream(ctx, s.k.outbox(), outboxGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return nil, unavailable(err, "outbox group")
	}
	for _, start := range []string{"0", ">"} {
		if start == ">" {
			msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.k.outbox(), Group: outboxGroup,
				Consumer: consumer, MinIdle: time.Minute, Start: "0-0", Count: count}).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, unavailable(err, "outbox claim")
			}
			if len(msgs) > 0 {
				return s.outboxEvents(ctx, msgs)
			}
		}
		b := time.Duration(-1)
		if start == ">" {
			b = block
		}
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: outboxGroup, Consumer: consumer,
			Streams: []string{s.k.outbox(), start}, Count: count, Block: b}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, unavailable(err, "outbox read")
		}
		if len(res) > 0 && len(res[0].Messages) > 0 {
			return s.outboxEvents(ctx, res[0].Messages)
		}
	}
	return nil, nil
}

// outboxEvents turns stream entries into events: each entry names the
// item, the instant and the event's index in the item's history, read in
// one round trip for the batch. Entries written before hold the event
// itself ("event", in the scripts' older form).
func (s *Store) outboxEvents(ctx context.Context, msgs []redis.XMessage) ([]OutboxEntry, error) {
	out := make([]OutboxEntry, len(msgs))
	pipe := s.rdb.Pipeline()
	reads := make([]*redis.StringCmd, len(msgs))
	for i, m := range msgs {
		item, _ := m.Values["item"].(string)
		if item == "" {
			raw, _ := m.Values["event"].(string)
			e, err := legacyEventJSON(raw)
			if err != nil {
				return nil, err
			}
			e.StreamID, out[i] = m.ID, e
			continue
		}
		at, _ := m.Values["at"].(string)
		index, _ := m.Values["index"].(string)
		atMS, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "outbox entry %s: instant %q", m.ID, at)
		}
		idx, err := strconv.ParseInt(index, 10, 64)
		if err != nil {
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "outbox entry %s: history index %q", m.ID, index)
		}
		out[i] = OutboxEntry{StreamID: m.ID, ItemID: item, At: time.UnixMilli(atMS).UTC()}
		reads[i] = pipe.LIndex(ctx, s.k.history(item), idx)
	}
	if pipe.Len() == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err, "outbox events")
	}
	for i, r := range reads {
		if r == nil {
			continue
		}
		raw, err := r.Result()
		if err != nil {
			// Histories are never trimmed: the item's data is gone.
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "outbox entry %s: event %s of %s missing from its history",
				out[i].StreamID, msgs[i].Values["index"], out[i].ItemID)
		}
		out[i].Event = json.RawMessage(raw)
	}
	return out, nil
}

// wireEvent is tanggap.Event's JSON with data and set kept raw, for
// converting the older event form (legacyEventJSON).
type wireEvent struct {
	ID         string          `json:"id"`
	ItemID     string          `json:"item_id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	FromStatus string          `json:"from_status,omitempty"`
	ToStatus   string          `json:"to_status,omitempty"`
	FromOPD    string          `json:"from_opd,omitempty"`
	ToOPD      string          `json:"to_opd,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Set        json.RawMessage `json:"set,omitempty"`
	Version    int64           `json:"version"`
}

// legacyEventJSON turns an event in the form the Lua scripts wrote before
// (at_ms instead of at, no id) into tanggap.Event JSON.
func legacyEventJSON(raw string) (OutboxEntry, error) {
	var r rawEvent
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return OutboxEntry{}, tanggap.WrapCode(tanggap.EINTERNAL, err, "decode outbox event")
	}
	w := wireEvent{ID: eventID(r.ItemID, r.Version), ItemID: r.ItemID, At: time.UnixMilli(r.AtMS).UTC(),
		Actor: r.Actor, Action: r.Action, FromStatus: r.FromStatus, ToStatus: r.ToStatus, FromOPD: r.FromOPD,
		ToOPD: r.ToOPD, Reason: r.Reason, Data: object(r.Data), Set: object(r.Set), Version: r.Version}
	b, err := json.Marshal(w)
	if err != nil {
		return OutboxEntry{}, tanggap.WrapCode(tanggap.EINTERNAL, err, "encode outbox event")
	}
	return OutboxEntry{ItemID: r.ItemID, At: w.At, Event: b}, nil
}

// object keeps a non-empty JSON object (cjson writes an empty table as {}
// or []).
func object(raw json.RawMessage) json.RawMessage {
	if len(raw) < 3 || raw[0] != '{' {
		return nil
	}
	return raw
}

// ackScript acknowledges relayed entries and trims the stream below the
// oldest entry still needed: the oldest pending one (read by a relay and
// not acknowledged), or, with none pending, the first the group has not
// read (the group reads in order, so everything before it was read and
// acknowledged). One trim costs Redis less than deleting each entry
// (XDEL was 5 µs per event); while a relay holds entries, those
// acknowledged after them wait for the next trim.
var ackScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local p = redis.call('XPENDING', KEYS[1], ARGV[1])
local floor = nil
if p[1] > 0 then
  floor = p[2]
else
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local name, last
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
    end
    if name == ARGV[1] and last then
      local ms, seq = string.match(last, '^(%d+)-(%d+)$')
      if ms then floor = ms .. '-' .. string.format('%d', tonumber(seq) + 1) end
    end
  end
end
if floor then redis.call('XTRIM', KEYS[1], 'MINID', floor) end
return 0
`)

// AckOutbox removes events Kafka acknowledged.
func (s *Store) AckOutbox(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 1+len(ids))
	args = append(args, outboxGroup)
	for _, id := range ids {
		args = append(args, id)
	}
	return unavailable(ackScript.Run(ctx, s.rdb, []string{s.k.outbox()}, args...).Err(), "outbox ack")
}

// backlogScript reads the outbox's length, its first entry's id and the
// server's clock, which also stamped that id: the age needs no other clock.
var backlogScript = redis.NewScript(`
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local t = redis.call('TIME')
local id = ''
if #first > 0 then id = first[1][1] end
return {redis.call('XLEN', KEYS[1]), id, t[1], t[2]}
`)

// OutboxBacklog is how many events wait for Kafka (and, while a relay
// holds some unacknowledged, the acknowledged ones after them: see
// ackScript) and how long the oldest has waited (0 when none). The relay
// runs in tanggap triage; while no relay can publish, the audit log, the
// webhooks and a rebuild from Kafka lack these changes.
func (s *Store) OutboxBacklog(ctx context.Context) (n int64, oldest time.Duration, err error) {
	v, err := backlogScript.Run(ctx, s.rdb, []string{s.k.outbox()}).Slice()
	if err != nil {
		return 0, 0, unavailable(err, "outbox backlog")
	}
	bad := func() (int64, time.Duration, error) {
		return 0, 0, tanggap.Errorf(tanggap.EUNAVAILABLE, "outbox backlog: the script gave %v", v)
	}
	if len(v) != 4 {
		return bad()
	}
	n, ok := v[0].(int64)
	id, _ := v[1].(string)
	secS, _ := v[2].(string)
	usecS, _ := v[3].(string)
	sec, err1 := strconv.ParseInt(secS, 10, 64)
	usec, err2 := strconv.ParseInt(usecS, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return bad()
	}
	if id == "" {
		return n, 0, nil
	}
	ms, _, _ := strings.Cut(id, "-")
	at, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return bad()
	}
	return n, max(0, time.Duration(sec*1000+usec/1000-at)*time.Millisecond), nil
}
