package store

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tanggap/tanggap"
)

// Every Redis key Tanggap uses is built here. All keys of one city share the
// hash tag {city}, so every Lua script touches a single Redis Cluster slot and
// cities spread over nodes. Nothing from a post becomes a key verbatim: items
// are keyed by a hash of their id (habit 8), OPD codes and account handles
// come from the validated city config.
//
//	tanggap:{city}:item:<h>               hash   the item (h = itemHash(id))
//	tanggap:{city}:history:<h>            list   the item's audit events (JSON)
//	tanggap:{city}:edits:<h>              list   later texts of an edited post (JSON)
//	tanggap:{city}:pending:<h>            hash   an official reply seen before its parent <h>
//	tanggap:{city}:items                  zset   every item by platform time (ms)
//	tanggap:{city}:opd:<opd>              zset   every item of an OPD by platform time
//	tanggap:{city}:open:<opd>             zset   open, unanswered items by first-response deadline (ms)
//	tanggap:{city}:answered:<opd>         zset   open, answered items by answer time (ms)
//	tanggap:{city}:cursor:<platform>:<account> string collector cursor
//	tanggap:{city}:outbox                 stream events waiting for the Kafka events topic
//
// "_unrouted" is the OPD slot of items no OPD was confidently chosen for.
type keys struct{ p string }

// Unrouted is the queue of items that wait for a person to route them.
const Unrouted = "_unrouted"

func newKeys(city string) keys { return keys{p: "tanggap:{" + city + "}:"} }

func itemHash(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:12])
}

func (k keys) prefix() string             { return k.p }
func (k keys) item(id string) string      { return k.p + "item:" + itemHash(id) }
func (k keys) history(id string) string   { return k.p + "history:" + itemHash(id) }
func (k keys) pending(id string) string   { return k.p + "pending:" + itemHash(id) }
func (k keys) items() string              { return k.p + "items" }
func (k keys) opd(opd string) string      { return k.p + "opd:" + slot(opd) }
func (k keys) open(opd string) string     { return k.p + "open:" + slot(opd) }
func (k keys) answered(opd string) string { return k.p + "answered:" + slot(opd) }
func (k keys) outbox() string             { return k.p + "outbox" }
func (k keys) edits(id string) string     { return k.p + "edits:" + itemHash(id) }
func (k keys) cursor(p tanggap.Platform, account string) string {
	return k.p + "cursor:" + string(p) + ":" + account
}

func slot(opd string) string {
	if opd == "" {
		return Unrouted
	}
	return opd
}
