package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/tanggap/tanggap"
)

// Every Redis key Tanggap uses is built here. All keys of one city share the
// hash tag {city}, so every Lua script touches a single Redis Cluster slot and
// cities spread over nodes. Nothing from a post becomes a key verbatim: items
// are keyed by a hash of their id (habit 8), OPD codes and account handles
// come from the validated city config.
//
//	tanggap:{city}:item:<h>               hash   the item (h = itemHash(id))
//	tanggap:{city}:row:<h>                string the item's packed row: what queues and reports read
//	tanggap:{city}:history:<h>            list   the item's audit events (tanggap.Event JSON), only appended to
//	tanggap:{city}:edits:<h>              list   later texts of an edited post (JSON)
//	tanggap:{city}:pending:<h>            hash   an official reply seen before its parent <h>
//	tanggap:{city}:stage:<h>              hash   a post's item hash, written just before the ingest script, which renames it to item:<h> (a new item) or deletes it
//	tanggap:{city}:items                  zset   every item by platform time (ms)
//	tanggap:{city}:ended:<day>            zset   ended queued items of a UTC day of platform time, by end (ms)
//	tanggap:{city}:opd:<opd>              zset   every item of an OPD by platform time
//	tanggap:{city}:open:<opd>             zset   open items with a running clock, by deadline (ms)
//	tanggap:{city}:soon:<opd>             zset   the same items, by the instant they turn due_soon
//	tanggap:{city}:age:<opd>              zset   every open item (held too), by platform time: aging buckets
//	tanggap:{city}:unans:<opd>            zset   open items never answered, by platform time
//	tanggap:{city}:held:<opd>             zset   items on hold (clocks paused), by platform time
//	tanggap:{city}:resolved               zset   resolved items by the instant they auto-close
//	tanggap:{city}:reopened               zset   items that became open again after they had ended, by the last instant they did
//	tanggap:{city}:cursor:<platform>:<account> string collector cursor (account from the city config)
//	tanggap:{city}:lease:<name>           string the owner of a lease (collector workers), with TTL
//	tanggap:{city}:once:<name>            string a "done once" marker, e.g. once:digest:<opd>:<day>, with TTL
//	tanggap:{city}:corrections            list   routings by people, newest first (JSON): training examples
//	tanggap:{city}:routing                hash   <opd>:auto and <opd>:overruled counts of the classifier
//	tanggap:{city}:near:<opd>|<place>     zset   clustering candidates by platform time (place from the gazetteer; <opd> is _unrouted for posts not routed)
//	tanggap:{city}:reporters              hash   <root item id>: its near-duplicate cluster's reporters counted outside citizens:<h> (a report that joined before that set was kept, a root not stored); written when the cluster forms
//	tanggap:{city}:citizens:<h>           set    the citizens (citizenOf: platform and author id or name, hashed) who reported the near-duplicate cluster whose first report is item <h>; its size plus the root's reporters field is the cluster's reporter count
//	tanggap:{city}:cluster_members        zset   "<root item id> <item id>" at score 0 for each report that joined a cluster (read by lex range)
//	tanggap:{city}:duplicates             zset   "<original item id> <item id>" at score 0 for each item marked a duplicate (read by lex range)
//	tanggap:{city}:held_threads           hash   "<platform>[:id] <thread id> <author or author id>": the item on hold there (HeldThreadKey)
//	tanggap:{city}:coverage               hash   per account: the collector's last coverage report (JSON)
//	tanggap:{city}:user:<login>           hash   a web user (bcrypt hash, role, OPD); login validated
//	tanggap:{city}:users                  set    every login
//	tanggap:{city}:users:log              list   the newest 500 account changes (JSON UserChange), newest first
//	tanggap:{city}:session:<h>            string "<login> <password generation>" of a session (h = hash of the token), with TTL
//	tanggap:{city}:loginfail:<h>          string failed sign-ins per login or client address, with TTL
//	tanggap:{city}:outbox                 stream events waiting for the Kafka events topic: item, instant, index in its history
//	tanggap:{city}:pruned_before          string the latest cutoff (ms) store.Prune removed ended items before
//	tanggap:{city}:positions:<group>:<topic> hash <partition>: the offset of the next record Kafka consumer group <group> hands over on <topic> (bus.Positions; group and topic from the code), so that it resumes there when Kafka forgot its committed offsets
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

// rowOf is the row key beside an item key, without hashing the id again
// (the Lua pack() derives it so too).
func (k keys) rowOf(itemKey string) string { return k.p + "row:" + itemKey[len(k.p)+len("item:"):] }

// citizensOf is the citizens key of the cluster whose first report has
// the item key itemKey (the Lua citizens_of derives it so too).
func (k keys) citizensOf(itemKey string) string {
	return k.p + "citizens:" + itemKey[len(k.p)+len("item:"):]
}

// itemKeys are an item's item, history, pending, edits and stage keys, its
// id hashed once.
func (k keys) itemKeys(id string) [5]string {
	h := itemHash(id)
	return [5]string{k.p + "item:" + h, k.p + "history:" + h, k.p + "pending:" + h, k.p + "edits:" + h, k.p + "stage:" + h}
}

func (k keys) prefix() string               { return k.p }
func (k keys) item(id string) string        { return k.p + "item:" + itemHash(id) }
func (k keys) row(id string) string         { return k.p + "row:" + itemHash(id) }
func (k keys) history(id string) string     { return k.p + "history:" + itemHash(id) }
func (k keys) pending(id string) string     { return k.p + "pending:" + itemHash(id) }
func (k keys) items() string                { return k.p + "items" }
func (k keys) ended(day int64) string       { return k.p + "ended:" + strconv.FormatInt(day, 10) }
func (k keys) opd(opd string) string        { return k.p + "opd:" + slot(opd) }
func (k keys) set(name, opd string) string  { return k.p + name + slot(opd) }
func (k keys) resolved() string             { return k.p + "resolved" }
func (k keys) reopened() string             { return k.p + "reopened" }
func (k keys) user(login string) string     { return k.p + "user:" + login }
func (k keys) users() string                { return k.p + "users" }
func (k keys) usersLog() string             { return k.p + "users:log" }
func (k keys) session(token string) string  { return k.p + "session:" + tokenHash(token) }
func (k keys) loginFails(who string) string { return k.p + "loginfail:" + tokenHash(who) }
func (k keys) lease(name string) string     { return k.p + "lease:" + name }
func (k keys) marker(name string) string    { return k.p + "once:" + name }
func (k keys) corrections() string          { return k.p + "corrections" }
func (k keys) routing() string              { return k.p + "routing" }
func (k keys) near(slot string) string      { return k.p + "near:" + slot }
func (k keys) reporters() string            { return k.p + "reporters" }
func (k keys) clusterMembers() string       { return k.p + "cluster_members" }
func (k keys) duplicates() string           { return k.p + "duplicates" }
func (k keys) citizens(root string) string  { return k.p + "citizens:" + itemHash(root) }
func (k keys) heldThreads() string          { return k.p + "held_threads" }
func (k keys) coverage() string             { return k.p + "coverage" }
func (k keys) outbox() string               { return k.p + "outbox" }
func (k keys) prunedBefore() string         { return k.p + "pruned_before" }
func (k keys) edits(id string) string       { return k.p + "edits:" + itemHash(id) }
func (k keys) cursor(p tanggap.Platform, account string) string {
	return k.p + "cursor:" + string(p) + ":" + account
}
func (k keys) positions(group, topic string) string {
	return k.p + "positions:" + group + ":" + topic
}

func slot(opd string) string {
	if opd == "" {
		return Unrouted
	}
	return opd
}
