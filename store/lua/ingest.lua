-- KEYS: 1 item, 2 history, 3 pending (replies seen before this item),
--       4 edits, 5 parent item, 6 parent history, 7 parent pending,
--       8 cluster root item, 9 its history, 10 stage: the post's item hash,
--       just written by the same pipeline (store.IngestBatch)
-- ARGV: 1 prefix, 2 now (see common.lua), 3 official (0/1), 4 has_parent (0/1),
--       5 reply_opd, 6-23 the item fields this script reads (store.ingestArgs),
--       24 the fingerprint and 25 the near key (kept out of the hash, see
--       near), then for a new item its packed row before (26) and after (27)
--       the clock fields and its ingest event (28), built by triage
--       (store.newIngestCall): in Lua they cost a fifth of the script;
--       for a report joining a cluster, its citizen (29: see citizen).
local official = ARGV[3] == '1'
local has_parent = ARGV[4] == '1'
local reply_opd = ARGV[5]
local function arg(i)
  local v = ARGV[i]
  if v == '' then return nil end
  return v
end
local f = {id = arg(6), created_ms = arg(7), status = arg(8), opd = arg(9), queued = arg(10),
  cluster_id = arg(11), classifier_opd = arg(12), url = arg(13), deleted = arg(14), edited_ms = arg(15),
  fr_due_ms = arg(16), fr_soon_ms = arg(17), route_due_ms = arg(18), route_soon_ms = arg(19),
  follow_due_ms = arg(20), follow_soon_ms = arg(21), res_due_ms = arg(22), res_soon_ms = arg(23),
  fp = arg(24), near_key = arg(25)}

-- The staged hash becomes the item unless an item of that id exists: then
-- this is a redelivery, an edit or a deletion, and the stage is dropped.
-- (A missing stage fails the script before it writes anything.)
if redis.call('RENAMENX', KEYS[10], KEYS[1]) == 0 then
  local cur = redis.call('HMGET', KEYS[1], 'text', 'deleted', 'edited_ms')
  local text = nil
  if f.deleted ~= '1' and f.edited_ms ~= nil then text = redis.call('HGET', KEYS[10], 'text') or '' end
  redis.call('DEL', KEYS[10])
  if f.deleted == '1' and cur[2] ~= '1' then
    local o = state(KEYS[1])
    local ver = redis.call('HINCRBY', KEYS[1], 'version', 1)
    redis.call('HSET', KEYS[1], 'deleted', '1', 'updated_ms', NOW)
    pack(KEYS[1])
    record(KEYS[2], {item_id = f.id, actor = 'triage', action = 'delete',
      from_status = o.status, to_status = o.status, version = ver, set = {deleted = '1'}})
    return 'deleted'
  end
  if text ~= nil and text ~= (cur[1] or '')
     and (cur[3] == false or cur[3] == '' or tonumber(f.edited_ms) > tonumber(cur[3])) then
    local o = state(KEYS[1])
    local ver = redis.call('HINCRBY', KEYS[1], 'version', 1)
    redis.call('RPUSH', KEYS[4], cjson.encode({at_ms = tonumber(f.edited_ms), text = text}))
    redis.call('HSET', KEYS[1], 'edited_ms', f.edited_ms, 'updated_ms', NOW)
    pack(KEYS[1])
    record(KEYS[2], {item_id = f.id, actor = 'triage', action = 'edit',
      from_status = o.status, to_status = o.status, version = ver, set = {edited_ms = f.edited_ms},
      data = {text = text}})
    return 'edited'
  end
  return 'duplicate'
end

-- A new item: its hash is the stage, its state f, and its packed row and
-- ingest event come from triage (each redis.call costs the script several
-- µs, and so does every string and table it builds). 'items' holds every
-- item (nothing removes one; the rebuild adds each it writes). updated_ms
-- is the instant an item created ended would be indexed by (ENDED).
redis.call('ZADD', PREFIX .. 'items', f.created_ms, f.id)
f.updated_ms = NOW
reindex(KEYS[1], nil, f, {ARGV[26], ARGV[27]})
if f.clock ~= '' then
  redis.call('HSET', KEYS[1], 'due_ms', f.due_ms, 'soon_ms', f.soon_ms, 'clock', f.clock)
end
near(f)
-- Joining a cluster: the report's citizen joins the cluster's set (see
-- REPORTERS; the root's citizen too when the cluster forms, and a root
-- counted before that hash existed starts from its own field); from
-- URGENT_REPORTERS reporters the cluster is urgent. The root item changes
-- (count, urgency, packed row, an audit event) only while the cluster
-- forms, at its second and third reporter; a citizen already counted
-- changes nothing but the list of members. Later reports are only counted,
-- with one write (each names the cluster in its own ingest event, and the
-- rebuild counts from those), so a burst of reports about one flood does
-- not re-pack and log the root once per report. KEYS[8] is the root item,
-- KEYS[9] its history.
if f.cluster_id ~= nil and f.cluster_id ~= '' and f.cluster_id ~= f.id then
  joined(f)
  local cset = citizens_of(KEYS[8])
  if redis.call('SADD', cset, ARGV[29]) == 1 then
    local outside = tonumber(redis.call('HGET', REPORTERS, f.cluster_id) or '')
    if outside == nil then outside = form_cluster(f.cluster_id, KEYS[8], cset, true) end
    local n = outside + redis.call('SCARD', cset)
    if n >= 2 and n <= URGENT_REPORTERS and redis.call('EXISTS', KEYS[8]) == 1 then
      local r = state(KEYS[8])
      local set = {cluster_id = f.cluster_id, reporters = string.format('%d', n)}
      if n >= URGENT_REPORTERS then set.urgent = '1' end
      local ver = redis.call('HINCRBY', KEYS[8], 'version', 1)
      redis.call('HSET', KEYS[8], 'cluster_id', set.cluster_id, 'reporters', set.reporters, 'updated_ms', NOW)
      if set.urgent then redis.call('HSET', KEYS[8], 'urgent', '1') end
      pack(KEYS[8])
      record(KEYS[9], {item_id = r.id, actor = 'triage', action = 'cluster',
        from_status = r.status, to_status = r.status, version = ver, set = set, data = {joined = f.id}})
    end
  end
end
if f.status == 'ASSIGNED' and f.opd ~= nil and f.opd ~= '' and f.classifier_opd == f.opd then
  redis.call('HINCRBY', PREFIX .. 'routing', f.opd .. ':auto', 1)
end
append_event(KEYS[2], f.id, ARGV[28])

local result = 'stored'
local p = redis.call('HMGET', KEYS[3], 'at', 'opd', 'url', 'reply', 'oat', 'oopd', 'ourl', 'oreply')
if p[1] then
  answer(KEYS[1], KEYS[2], p[1], p[2], p[3], p[4], 'triage')
  if p[5] then answer(KEYS[1], KEYS[2], p[5], p[6], p[7], p[8], 'triage') end
  redis.call('DEL', KEYS[3])
  result = 'stored_answered'
end

if official and has_parent then
  if redis.call('EXISTS', KEYS[5]) == 1 then
    answer(KEYS[5], KEYS[6], f.created_ms, reply_opd, f.url or '', f.id, 'triage')
    result = 'official_reply'
  else
    -- The earliest reply is the first response; the earliest of an OPD
    -- too, kept apart: it may be the parent's own OPD, whose answer puts
    -- the item IN_PROGRESS (see answer).
    local w = redis.call('HMGET', KEYS[7], 'at', 'oat')
    local by_opd = reply_opd ~= 'city' and reply_opd ~= 'mayor' and reply_opd ~= ''
    if not w[1] or tonumber(w[1]) > tonumber(f.created_ms) then
      redis.call('HSET', KEYS[7], 'at', f.created_ms, 'opd', reply_opd, 'url', f.url or '', 'reply', f.id)
      redis.call('PEXPIRE', KEYS[7], 7776000000) -- 90 days (store.pendingWait): the parent may never be collected
    end
    if by_opd and (not w[2] or tonumber(w[2]) > tonumber(f.created_ms)) then
      redis.call('HSET', KEYS[7], 'oat', f.created_ms, 'oopd', reply_opd, 'ourl', f.url or '', 'oreply', f.id)
      redis.call('PEXPIRE', KEYS[7], 7776000000)
    end
    result = 'official_reply_pending'
  end
end
return result
