-- Rebuild: apply one audit event (from the Kafka events topic) to the
-- state, idempotently by item version. No outbox entry is written.
-- KEYS: 1 item, 2 history, 3 edits, 4 the item of the cluster root its
--       ingest event joins (else the item's own)
-- ARGV: 1 prefix, 2 at_ms, 3 version, 4 action, 5 event JSON, 6 n, then n pairs
local version = tonumber(ARGV[3])
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version <= cur then return 'skip' end
local o = nil
if cur > 0 then o = state(KEYS[1]) end
local n = tonumber(ARGV[6])
local flat = {}
local f = {}
for i = 7, 6 + 2 * n, 2 do
  f[ARGV[i]] = ARGV[i + 1]
  if not NOT_HASHED[ARGV[i]] then
    flat[#flat + 1] = ARGV[i]
    flat[#flat + 1] = ARGV[i + 1]
  end
end
-- An event written before items recorded their reopenings (no
-- reopens_ms in its set) gets it as the update script would have written
-- it, from the state before the event: a rebuild gives every item its
-- record.
if o and f.reopens_ms == nil then
  local re = reopens(KEYS[1], o, {status = f.status or o.status, queued = f.queued or o.queued})
  if re then
    flat[#flat + 1] = 'reopens_ms'
    flat[#flat + 1] = re
    f.reopens_ms = re
  end
end
local was = f.duplicate_of and redis.call('HGET', KEYS[1], 'duplicate_of')
if #flat > 0 then redis.call('HSET', KEYS[1], unpack(flat)) end
redis.call('HSET', KEYS[1], 'version', version, 'updated_ms', NOW)
local nw = state(KEYS[1])
if f.duplicate_of and nw.id then duplicated(nw.id, was, f.duplicate_of) end
if f.reopens_ms and f.reopens_ms ~= '' then reopened(nw.id, f.reopens_ms) end
if ARGV[4] == 'ingest' then
  redis.call('ZADD', PREFIX .. 'items', nw.created_ms, nw.id)
  near(f)
  -- A routing of the classifier's own, as the ingest counted it.
  if f.status == 'ASSIGNED' and f.opd ~= nil and f.opd ~= '' and f.classifier_opd == f.opd then
    redis.call('HINCRBY', PREFIX .. 'routing', f.opd .. ':auto', 1)
  end
  -- A report that joined a cluster counts its citizen among the
  -- cluster's reporters (see REPORTERS), as the ingest did. The rebuild
  -- restores reports before their root: a root not restored yet counts as
  -- one outside the set when the cluster forms, and when it comes its own
  -- citizen goes into the set instead (the count falls by one when that
  -- citizen had reported again).
  if f.cluster_id ~= nil and f.cluster_id ~= '' and f.cluster_id ~= f.id then
    local cset = citizens_of(KEYS[4])
    redis.call('SADD', cset, citizen(f.platform, f.author_id, f.author, f.id))
    if redis.call('HEXISTS', REPORTERS, f.cluster_id) == 0 then form_cluster(f.cluster_id, KEYS[4], cset, false) end
    joined(f)
  elseif cur == 0 and redis.call('HEXISTS', REPORTERS, nw.id) == 1 then
    local c = redis.call('HMGET', KEYS[1], 'platform', 'author_id', 'author')
    redis.call('SADD', citizens_of(KEYS[1]), citizen(c[1], c[2], c[3], nw.id))
    redis.call('HINCRBY', REPORTERS, nw.id, -1)
  end
end
if ARGV[4] == 'edit' then
  local ev = cjson.decode(ARGV[5])
  if ev.data and ev.data.text then
    redis.call('RPUSH', KEYS[3], cjson.encode({at_ms = tonumber(ev.set.edited_ms), text = ev.data.text}))
  end
end
reindex(KEYS[1], o, nw)
redis.call('RPUSH', KEYS[2], ARGV[5])
if version > cur + 1 then return 'gap' end
return 'applied'
