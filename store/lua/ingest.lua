-- KEYS: 1 item, 2 history, 3 pending (replies seen before this item),
--       4 edits, 5 parent item, 6 parent history, 7 parent pending
-- ARGV: 1 prefix, 2 now (see common.lua), 3 official (0/1), 4 has_parent (0/1),
--       5 reply_opd, 6 h, then h field/value pairs of the item hash (empty
--       fields left out), then the fingerprint and the near key (kept out of
--       the hash, see near), then for a new item its packed row before and
--       after the clock fields and its ingest event (store.ingestCall: Lua
--       would build the same, at a fifth of the script's cost)
local official = ARGV[3] == '1'
local has_parent = ARGV[4] == '1'
local reply_opd = ARGV[5]
local last = 6 + 2 * tonumber(ARGV[6])
local fp, nk = ARGV[last + 1], ARGV[last + 2]
local f = {fp = fp ~= '' and fp or nil, near_key = nk ~= '' and nk or nil}
for i = 7, last, 2 do
  f[ARGV[i]] = ARGV[i + 1]
end

-- 'items' holds every item (nothing removes one; the rebuild adds each it
-- writes), so adding the post to it tells a new item from one already
-- stored in one call.
if redis.call('ZADD', PREFIX .. 'items', 'NX', f.created_ms, f.id) == 0 then
  local cur = redis.call('HMGET', KEYS[1], 'text', 'deleted', 'edited_ms')
  if f.deleted == '1' and cur[2] ~= '1' then
    local o = state(KEYS[1])
    local ver = redis.call('HINCRBY', KEYS[1], 'version', 1)
    redis.call('HSET', KEYS[1], 'deleted', '1', 'updated_ms', NOW)
    pack(KEYS[1])
    record(KEYS[2], {item_id = f.id, actor = 'triage', action = 'delete',
      from_status = o.status, to_status = o.status, version = ver, set = {deleted = '1'}})
    return 'deleted'
  end
  if f.deleted ~= '1' and f.edited_ms ~= nil and f.edited_ms ~= '' and (f.text or '') ~= (cur[1] or '')
     and (cur[3] == false or cur[3] == '' or tonumber(f.edited_ms) > tonumber(cur[3])) then
    local o = state(KEYS[1])
    local ver = redis.call('HINCRBY', KEYS[1], 'version', 1)
    redis.call('RPUSH', KEYS[4], cjson.encode({at_ms = tonumber(f.edited_ms), text = f.text or ''}))
    redis.call('HSET', KEYS[1], 'edited_ms', f.edited_ms, 'updated_ms', NOW)
    pack(KEYS[1])
    record(KEYS[2], {item_id = f.id, actor = 'triage', action = 'edit',
      from_status = o.status, to_status = o.status, version = ver, set = {edited_ms = f.edited_ms},
      data = {text = f.text or ''}})
    return 'edited'
  end
  return 'duplicate'
end

-- A new item: its state is f, its hash is written once, clock included,
-- from the arguments as they came, and its packed row and ingest event
-- come from triage (each redis.call costs the script several µs, and so
-- does every table it builds or copies). updated_ms is the instant an
-- item created ended would be indexed by (ENDED).
f.updated_ms = NOW
reindex(KEYS[1], nil, f, {ARGV[last + 3], ARGV[last + 4]})
redis.call('HSET', KEYS[1], 'version', '1', 'updated_ms', NOW, 'due_ms', f.due_ms, 'soon_ms', f.soon_ms,
  'clock', f.clock, unpack(ARGV, 7, last))
near(f)
-- Joining a cluster: REPORTERS counts the cluster's reporters, root
-- included (a root counted before that hash existed starts from its own
-- field); from URGENT_REPORTERS the cluster is urgent. The root item
-- changes (count, urgency, packed row, an audit event) only while the
-- cluster forms, at its second and third reporter. Later reports are only
-- counted, with one call (each names the cluster in its own ingest event,
-- and the rebuild counts from those), so a burst of reports about one
-- flood does not re-pack and log the root once per report. KEYS[8] is the
-- root item, KEYS[9] its history.
if f.cluster_id ~= nil and f.cluster_id ~= '' and f.cluster_id ~= f.id then
  local n = redis.call('HINCRBY', REPORTERS, f.cluster_id, 1)
  if n == 1 then
    local had = tonumber(redis.call('HGET', KEYS[8], 'reporters') or '') or 1
    n = math.max(had, 1) + 1
    redis.call('HSET', REPORTERS, f.cluster_id, n)
  end
  if n <= URGENT_REPORTERS and redis.call('EXISTS', KEYS[8]) == 1 then
    local r = state(KEYS[8])
    local set = {cluster_id = f.cluster_id, reporters = tostring(n)}
    if n >= URGENT_REPORTERS then set.urgent = '1' end
    local ver = redis.call('HINCRBY', KEYS[8], 'version', 1)
    redis.call('HSET', KEYS[8], 'cluster_id', set.cluster_id, 'reporters', set.reporters, 'updated_ms', NOW)
    if set.urgent then redis.call('HSET', KEYS[8], 'urgent', '1') end
    pack(KEYS[8])
    record(KEYS[9], {item_id = r.id, actor = 'triage', action = 'cluster',
      from_status = r.status, to_status = r.status, version = ver, set = set, data = {joined = f.id}})
  end
end
if f.status == 'ASSIGNED' and f.opd ~= nil and f.opd ~= '' and f.classifier_opd == f.opd then
  redis.call('HINCRBY', PREFIX .. 'routing', f.opd .. ':auto', 1)
end
append_event(KEYS[2], f.id, ARGV[last + 5])

local result = 'stored'
local p = redis.call('HMGET', KEYS[3], 'at', 'opd', 'url', 'reply')
if p[1] then
  answer(KEYS[1], KEYS[2], p[1], p[2], p[3], p[4], 'triage')
  redis.call('DEL', KEYS[3])
  result = 'stored_answered'
end

if official and has_parent then
  if redis.call('EXISTS', KEYS[5]) == 1 then
    answer(KEYS[5], KEYS[6], f.created_ms, reply_opd, f.url or '', f.id, 'triage')
    result = 'official_reply'
  else
    local at = redis.call('HGET', KEYS[7], 'at')
    if not at or tonumber(at) > tonumber(f.created_ms) then
      redis.call('HSET', KEYS[7], 'at', f.created_ms, 'opd', reply_opd, 'url', f.url or '', 'reply', f.id)
      redis.call('PEXPIRE', KEYS[7], 7776000000) -- 90 days: the parent may never be collected
    end
    result = 'official_reply_pending'
  end
end
return result
