-- Shared by every script (prepended at load time). All keys of a city share
-- one hash tag; PREFIX is "tanggap:{city}:".
local PREFIX = ARGV[1]
-- ARGV[2] is "<now ms> <now as RFC 3339>": the instant of the change, and
-- the same instant as the events' "at" (Lua cannot format dates). The
-- rebuild passes the milliseconds only: it writes no events.
local NOW, NOW_AT = string.match(ARGV[2], '^(%S+) ?(.*)$')

local function slot(opd)
  if opd == nil or opd == false or opd == '' then return '_unrouted' end
  return opd
end

local OPEN = {NEW=true, ASSIGNED=true, IN_PROGRESS=true, ON_HOLD=true, REOPENED=true}

local function num(v)
  if v == nil or v == false or v == '' then return nil end
  return tonumber(v)
end

-- due picks the clock an open item is measured against: the earliest
-- deadline among those still pending for its status. Returns due, soon
-- (the fields' own strings: printing a number costs Lua a float format)
-- and the clock's name.
local function due(n)
  local best, due_s, soon_s, name = nil, nil, nil, ''
  local function consider(d, s, nm)
    local x = num(d)
    if x and (best == nil or x < best) then
      best, due_s, name = x, d, nm
      soon_s = num(s) and s or d
    end
  end
  local unanswered = not num(n.fr_ms)
  if unanswered and n.status ~= 'IN_PROGRESS' then consider(n.fr_due_ms, n.fr_soon_ms, 'first_response') end
  if n.status == 'NEW' then consider(n.route_due_ms, n.route_soon_ms, 'routing') end
  -- ASSIGNED: the OPD has not answered (its answer makes it IN_PROGRESS),
  -- whoever else did.
  if n.status == 'ASSIGNED' or (n.status == 'REOPENED' and unanswered) then consider(n.follow_due_ms, n.follow_soon_ms, 'followup') end
  if n.status == 'IN_PROGRESS' or n.status == 'REOPENED' or (n.status ~= 'NEW' and not unanswered) then
    consider(n.res_due_ms, n.res_soon_ms, 'resolution')
  end
  return due_s, soon_s, name
end

local SETS = {'open:', 'soon:', 'age:', 'unans:', 'held:'}

-- The fields reports read, packed into one string key ('row:<hash>' beside
-- 'item:<hash>') after every change, so a month of items is read with one
-- MGET per window instead of a whole hash each (see store.scanWindows). A
-- string of its own costs Redis a third of a field read out of the item's
-- large hash.
local REP_FIELDS = {'id', 'platform', 'post_id', 'url', 'account', 'author', 'author_name', 'text', 'interaction',
  'thread_id', 'parent_id', 'kind', 'opd', 'confidence', 'urgent', 'kecamatan', 'kelurahan', 'out_target', 'cluster_id',
  'status', 'topic', 'classifier_opd', 'assigned_ms', 'created_ms', 'captured_ms', 'queued', 'deleted', 'edited_ms',
  'reply_by', 'fr_ms', 'fr_opd', 'fr_url', 'resolved_ms', 'closed_ms', 'evidence', 'archive_reason', 'external_ref',
  'officer', 'hops', 'reporters', 'due_ms', 'soon_ms', 'clock', 'fr_due_ms', 'res_due_ms', 'duplicate_of',
  'held_ms', 'version', 'updated_ms', 'truncated', 'claimed_by', 'claim_until_ms', 'reopens_ms'}

-- ENDED indexes the queued items that have ended (resolved, closed or
-- otherwise out of the queue) by the instant they ended, in one set per
-- UTC day of their platform time: ended:<day>, day = floor(created_ms /
-- DAY_MS). A report finds the items of the days before its period that
-- were still open when it began (the carry-over) with one range per day
-- instead of reading every item of those days. The instant is the one
-- report.OpenAt uses: resolved_ms, else closed_ms, else updated_ms.
local DAY_MS = 24 * 3600 * 1000

local function ended(v, fresh)
  local created = num(v.created_ms)
  if not created then return end
  local key = PREFIX .. 'ended:' .. math.floor(created / DAY_MS)
  if v.queued == '1' and not OPEN[v.status] then
    local at = '+inf'
    for _, f in ipairs({'resolved_ms', 'closed_ms', 'updated_ms'}) do
      if num(v[f]) then at = v[f]; break end
    end
    redis.call('ZADD', key, at, v.id)
  elseif not fresh then
    redis.call('ZREM', key, v.id)
  end
end

-- REOPENED indexes the items that became open again after they had ended
-- (reopened, or routed out of an archived, out-of-scope or duplicate
-- status) by the last instant they did. The item's reopens_ms lists the
-- times it spent ended before each such change, "<ended>-<reopened>" (ms)
-- separated by spaces, oldest first: a report counts the item open at the
-- start of its period only outside them (report.OpenAt), and reads in full
-- the open items this set says became open again after that start, since
-- the open sets alone would count them open since T0.
local REOPENED = PREFIX .. 'reopened'

-- reopens returns an item's reopens_ms after a change from state o to
-- state n at NOW, or nil when the change does not make it open again. The
-- time it spent ended starts where ENDED and report.OpenAt put its end
-- (resolved_ms, else closed_ms, else updated_ms, as the hash at ikey holds
-- them before the change), or at T0 for an item that was never queued
-- (archived or out of scope at triage: never open).
local function reopens(ikey, o, n)
  if not (n.queued == '1' and OPEN[n.status]) or (o.queued == '1' and OPEN[o.status]) then return nil end
  local v = redis.call('HMGET', ikey, 'resolved_ms', 'closed_ms', 'updated_ms', 'reopens_ms')
  local at = nil
  if o.queued == '1' then at = (num(v[1]) and v[1]) or (num(v[2]) and v[2]) or (num(v[3]) and v[3]) end
  if not at then at = o.created_ms end
  if not num(at) or tonumber(at) > tonumber(NOW) then at = NOW end
  local span = at .. '-' .. NOW
  if v[4] and v[4] ~= '' then return v[4] .. ' ' .. span end
  return span
end

-- reopened puts an item in REOPENED at the last reopening of its
-- reopens_ms.
local function reopened(id, value)
  local last = value and string.match(value, '(%d+)$')
  if last then redis.call('ZADD', REOPENED, last, id) end
end

-- LENGTH gives a length's digits and colon: concatenating a number makes
-- Lua print it as a float ("%.14g"), which cost a tenth of the ingest
-- script's instructions when it packed every new row (52 fields).
local LENGTH = {}
local function length(x)
  local n = #x
  local s = LENGTH[n]
  if s == nil then
    s = string.format('%d:', n)
    LENGTH[n] = s
  end
  return s
end

-- The row is the values in REP_FIELDS order, each as <length>:<bytes>
-- (a missing field is empty), so it decodes without parsing JSON. Writing
-- the row also keeps the item's place in ENDED, since every change writes
-- it. (A new item's row is packed by triage: see reindex.)
local function pack(key)
  local parts = {}
  local v = {}
  local vals = redis.call('HMGET', key, unpack(REP_FIELDS))
  for i, name in ipairs(REP_FIELDS) do
    local x = vals[i] or ''
    v[name] = vals[i]
    parts[2 * i - 1], parts[2 * i] = length(x), x
  end
  redis.call('SET', PREFIX .. 'row:' .. string.sub(key, #PREFIX + 6), table.concat(parts))
  ended(v, false)
end

-- HELD_THREADS names the item on hold in each thread by its citizen
-- (store.HeldThreadKey), so that triage sees the citizen write again in
-- that thread and resumes the item. An item enters it when it goes on hold
-- and leaves it when it leaves that status (unless another item of the
-- thread took the field since).
local HELD_THREADS = PREFIX .. 'held_threads'

-- held_fields returns an item's field in HELD_THREADS and, when that names
-- its citizen by platform id, the field by display name every entry had
-- before (store.HeldThreadKey and nameHeldThreadKey): the citizen is named
-- by handle on X and Instagram and by a YouTube "@handle", else by the
-- author's platform id, else by the display name.
local function held_fields(ikey)
  local t = redis.call('HMGET', ikey, 'platform', 'thread_id', 'author', 'author_id')
  local platform, thread, author, aid = t[1], t[2], t[3] or '', t[4] or ''
  if not platform or not thread or thread == '' then return nil end
  local name = nil
  if author ~= '' then name = platform .. ' ' .. thread .. ' ' .. author end
  local handle = platform == 'x' or platform == 'instagram' or (platform == 'youtube' and string.sub(author, 1, 1) == '@')
  if handle or aid == '' then return name end
  return platform .. ':id ' .. thread .. ' ' .. aid, name
end

local function held_thread(ikey, o, n)
  local was = o ~= nil and o.status == 'ON_HOLD'
  local is = n.status == 'ON_HOLD'
  if was == is then return end
  local field, name = held_fields(ikey)
  if not field then return end
  if is then
    redis.call('HSET', HELD_THREADS, field, n.id)
    return
  end
  for _, f in ipairs({field, name}) do
    if redis.call('HGET', HELD_THREADS, f) == n.id then redis.call('HDEL', HELD_THREADS, f) end
  end
end

-- reindex moves an item between the per-OPD sets after a change and stores
-- its current clock (due_ms, soon_ms, clock). o and n are state tables.
-- row is given for a new item only: its packed row without the clock, in
-- two parts (triage packs them: store.newIngestCall). Then n holds the
-- fields the clock is computed from, and the clock goes into n, for the
-- caller to write into the hash, and into the row between the parts.
local function reindex(ikey, o, n, row)
  held_thread(ikey, o, n)
  if o then
    local s = slot(o.opd)
    for _, set in ipairs(SETS) do redis.call('ZREM', PREFIX .. set .. s, o.id) end
    redis.call('ZREM', PREFIX .. 'resolved', o.id)
  end
  if n.opd ~= nil and n.opd ~= false and n.opd ~= '' then
    redis.call('ZADD', PREFIX .. 'opd:' .. n.opd, n.created_ms, n.id)
  end
  local s = slot(n.opd)
  local d, soon, clock = nil, nil, ''
  if n.queued == '1' and OPEN[n.status] then
    redis.call('ZADD', PREFIX .. 'age:' .. s, n.created_ms, n.id)
    if not num(n.fr_ms) then redis.call('ZADD', PREFIX .. 'unans:' .. s, n.created_ms, n.id) end
    if n.status == 'ON_HOLD' then
      redis.call('ZADD', PREFIX .. 'held:' .. s, n.created_ms, n.id)
    else
      d, soon, clock = due(n)
      if d then
        redis.call('ZADD', PREFIX .. 'open:' .. s, d, n.id)
        redis.call('ZADD', PREFIX .. 'soon:' .. s, soon, n.id)
      end
    end
  end
  if n.status == 'RESOLVED' and num(n.autoclose_ms) then
    redis.call('ZADD', PREFIX .. 'resolved', n.autoclose_ms, n.id)
  end
  local dv, sv = d or '', soon or ''
  if row then
    n.due_ms, n.soon_ms, n.clock = dv, sv, clock
    redis.call('SET', PREFIX .. 'row:' .. string.sub(ikey, #PREFIX + 6), row[1] .. length(dv) .. dv ..
      length(sv) .. sv .. length(clock) .. clock .. row[2])
    ended(n, true)
  else
    -- No clock: the fields go (an empty field is never stored).
    if clock == '' then
      redis.call('HDEL', ikey, 'due_ms', 'soon_ms', 'clock')
    else
      redis.call('HSET', ikey, 'due_ms', dv, 'soon_ms', sv, 'clock', clock)
    end
    pack(ikey)
  end
end

local STATE_FIELDS = {'id', 'status', 'opd', 'fr_ms', 'queued', 'created_ms', 'version',
  'fr_due_ms', 'fr_soon_ms', 'route_due_ms', 'route_soon_ms', 'follow_due_ms', 'follow_soon_ms',
  'res_due_ms', 'res_soon_ms', 'autoclose_ms'}

local function state(key)
  local v = redis.call('HMGET', key, unpack(STATE_FIELDS))
  local t = {}
  for i, f in ipairs(STATE_FIELDS) do t[f] = v[i] end
  return t
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Near-duplicate candidates: each item with a fingerprint, an OPD and a
-- place is a member of near:<opd>|<place>, scored by platform time. The
-- member carries what triage compares, "<id> <cluster or -> <fingerprint>
-- <platform time>", so candidates are read with one ZRANGE, without
-- scores (Redis prints each as a float) and no hash reads. A root's member
-- says "-": its cluster is its own id once a report joins it. The
-- fingerprint lives only here (and in the ingest event), not in the hash.
local NEAR_KEEP_MS = 14 * 24 * 3600 * 1000 -- far beyond the 72 h window

local function near(f)
  if f.near_key == nil or f.near_key == '' or f.fp == nil or f.fp == '' then return end
  local k = PREFIX .. 'near:' .. f.near_key
  local cl = f.cluster_id
  if cl == nil or cl == '' then cl = '-' end
  redis.call('ZADD', k, f.created_ms, f.id .. ' ' .. cl .. ' ' .. f.fp .. ' ' .. f.created_ms)
  -- Trimming is left to about one post in five (those whose id ends in 0
  -- or 8, or another byte divisible by 8): a call per post saved, and
  -- entries past the window are never candidates anyway.
  if string.byte(f.id, -1) % 8 == 0 then
    redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. (tonumber(f.created_ms) - NEAR_KEEP_MS))
  end
end

-- A near-duplicate cluster counts its reporters, the citizens who
-- reported it (its root's included), not its reports: one citizen
-- repeating a complaint under several of the city's posts is one
-- reporter. CITIZENS (citizens:<root's hash>, beside its item key) holds
-- the citizen of each report (citizen below); REPORTERS (field = the
-- root's id, written when the cluster forms) the reporters counted
-- outside that set: those counted before the store kept it (each report
-- then counted one), and one for a root not stored when the cluster
-- formed. The count is the two added (store.withReporters reads it); the
-- root's own 'reporters' field follows it only up to URGENT_REPORTERS
-- (see ingest.lua). A join is one SADD, commutative and idempotent, so
-- the plain path (store/plain.go) writes it without watching the set.
local REPORTERS = PREFIX .. 'reporters'
local URGENT_REPORTERS = 3

local function citizens_of(ikey)
  return PREFIX .. 'citizens:' .. string.sub(ikey, #PREFIX + 6)
end

-- citizen is how a cluster tells its citizens apart: the platform and the
-- author's platform id, else their handle or name, else (nothing tells
-- the author apart) the report itself; hashed, so the set keeps no name
-- once the reports are pruned. store.citizenOf computes the same.
local function citizen(platform, author_id, author, id)
  local s
  if author_id and author_id ~= '' then
    s = (platform or '') .. ' i ' .. author_id
  elseif author and author ~= '' then
    s = (platform or '') .. ' a ' .. author
  else
    s = 'p ' .. (id or '')
  end
  return string.sub(redis.sha1hex(s), 1, 16)
end

-- form_cluster writes REPORTERS for a cluster that forms, the set at
-- cset holding its first joiner already, and returns it: its root (item
-- at rkey) goes into the set too; a root not stored counts as one
-- reporter. With live, a root counted before REPORTERS existed goes on
-- from its own 'reporters' field (a rebuild counts every report from its
-- event instead, and a rebuilt root's field is what its events wrote).
local function form_cluster(root, rkey, cset, live)
  local r = redis.call('HMGET', rkey, 'id', 'platform', 'author_id', 'author', 'reporters')
  local outside = 0
  if live then outside = math.max(tonumber(r[5] or '') or 1, 1) - 1 end
  if r[1] then
    redis.call('SADD', cset, citizen(r[2], r[3], r[4], r[1]))
  else
    outside = outside + 1
  end
  redis.call('HSET', REPORTERS, root, outside)
  return outside
end

-- joined lists a report among its cluster's: "<root> <report>" in one
-- sorted set at score 0, which a lex range reads by root
-- (store.ClusterMembers). Nothing from the post becomes a key.
local function joined(f)
  redis.call('ZADD', PREFIX .. 'cluster_members', 0, f.cluster_id .. ' ' .. f.id)
end

-- DUPLICATES lists the items marked duplicates of each item, "<original>
-- <duplicate>" at score 0 like cluster_members, so that a prune keeps an
-- original while a duplicate whose page links to it is stored.
-- duplicated moves item id's entry from the original it named (was, or
-- nil) to the one it names now (of).
local DUPLICATES = PREFIX .. 'duplicates'

local function duplicated(id, was, of)
  if was and was ~= '' and was ~= of then redis.call('ZREM', DUPLICATES, was .. ' ' .. id) end
  if of ~= '' then redis.call('ZADD', DUPLICATES, 0, of .. ' ' .. id) end
end

-- NOT_HASHED are ingest fields kept out of the item hash (see near).
local NOT_HASHED = {fp = true, near_key = true}

-- record appends an audit event to the item's history, as tanggap.Event
-- JSON (its "id", "at", empty fields left out), and to the outbox a
-- reference to it: the item, the instant (ms) and the event's index in
-- the history. The relay reads the event from there (histories are only
-- ever appended to) and keys and stamps the Kafka record without parsing
-- it; the event is written once (an ingest event holds the whole item).
local EVENT_OPTIONAL = {'from_status', 'to_status', 'from_opd', 'to_opd', 'reason'}

-- append_event appends an event's JSON to the history at hkey and its
-- reference to the outbox.
local function append_event(hkey, item_id, json)
  local len = redis.call('RPUSH', hkey, json)
  redis.call('XADD', PREFIX .. 'outbox', '*', 'item', item_id, 'at', NOW, 'index', string.format('%d', len - 1))
end

local function record(hkey, ev)
  if NOW_AT == '' then error('record: no event time in ARGV[2]') end
  ev.id = string.format('%s#%d', ev.item_id, ev.version)
  ev.at = NOW_AT
  for _, k in ipairs(EVENT_OPTIONAL) do
    if ev[k] == '' then ev[k] = nil end
  end
  if ev.data ~= nil and next(ev.data) == nil then ev.data = nil end
  if ev.set ~= nil and next(ev.set) == nil then ev.set = nil end
  append_event(hkey, ev.item_id, cjson.encode(ev))
end

-- answer applies an official reply, written at `at` by the account of
-- owner opd (an OPD code, 'city' or 'mayor'), to the item at ikey. Any
-- official account's first reply (or one earlier than the one known) is
-- the first public response: it stops that clock. Only the item's own OPD
-- answering puts it IN_PROGRESS (its follow-up done): Humas' "sudah kami
-- teruskan" or another OPD's reply leaves the follow-up clock to the OPD.
-- An unrouted item answered by an OPD is that OPD's from then on. Returns 1
-- when it changed.
local function answer(ikey, hkey, at, opd, url, reply_id, actor)
  local o = state(ikey)
  local first = not (o.fr_ms and o.fr_ms ~= '' and tonumber(o.fr_ms) <= tonumber(at))
  local unrouted = o.opd == nil or o.opd == false or o.opd == ''
  local own = opd ~= 'city' and opd ~= 'mayor' and opd ~= '' and (unrouted or o.opd == opd)
  -- A REOPENED item was answered before: a reply moves it only when it is
  -- its first (a redelivered old reply must not undo the reopening).
  local moves = own and (o.status == 'NEW' or o.status == 'ASSIGNED' or (o.status == 'REOPENED' and first))
  if not first and not moves then return 0 end
  local n = copy(o)
  local set = {}
  if first then
    n.fr_ms = at
    set.fr_ms, set.fr_opd, set.fr_url, set.fr_reply = at, opd, url, reply_id
  end
  if moves then
    n.status = 'IN_PROGRESS'
    set.status = n.status
  end
  if own and unrouted then -- routed by its answer: an item's OPD is never taken back to none
    n.opd = opd
    set.opd, set.assigned_ms = opd, NOW
  end
  local ver = redis.call('HINCRBY', ikey, 'version', 1)
  local args = {'updated_ms', NOW}
  for _, k in ipairs({'fr_ms', 'fr_opd', 'fr_url', 'fr_reply', 'status', 'opd', 'assigned_ms'}) do
    if set[k] then
      args[#args + 1] = k
      args[#args + 1] = set[k]
    end
  end
  redis.call('HSET', ikey, unpack(args))
  reindex(ikey, o, n)
  record(hkey, {item_id = o.id, actor = actor, action = 'answer',
    from_status = o.status, to_status = n.status, from_opd = o.opd or '', to_opd = n.opd or '',
    data = {reply_id = reply_id, reply_url = url, answered_by = opd, answered_at_ms = at}, version = ver, set = set})
  return 1
end
