-- A change by a person (or the system) under compare-and-set.
-- KEYS: 1 item, 2 history
-- ARGV: 1 prefix, 2 now (see common.lua), 3 expected version (-1: any), 4 event JSON
--       (actor, action, reason, data), 5 n, then n field/value pairs
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', 0} end
local o = state(KEYS[1])
local expected = tonumber(ARGV[3])
if expected >= 0 and tonumber(o.version) ~= expected then
  return {'conflict', tonumber(o.version)}
end
local n = tonumber(ARGV[5])
local flat = {}
local set = {}
local nw = copy(o)
for i = 6, 5 + 2 * n, 2 do
  flat[#flat + 1] = ARGV[i]
  flat[#flat + 1] = ARGV[i + 1]
  nw[ARGV[i]] = ARGV[i + 1]
  set[ARGV[i]] = ARGV[i + 1]
end
local re = reopens(KEYS[1], o, nw)
if re then
  flat[#flat + 1] = 'reopens_ms'
  flat[#flat + 1] = re
  nw.reopens_ms, set.reopens_ms = re, re
  reopened(o.id, re)
end
if set.duplicate_of then duplicated(o.id, redis.call('HGET', KEYS[1], 'duplicate_of'), set.duplicate_of) end
local ver = redis.call('HINCRBY', KEYS[1], 'version', 1)
if #flat > 0 then redis.call('HSET', KEYS[1], unpack(flat)) end
redis.call('HSET', KEYS[1], 'updated_ms', NOW)
reindex(KEYS[1], o, nw)
local ev = cjson.decode(ARGV[4])
ev.item_id = o.id
ev.from_status = o.status
ev.to_status = nw.status
ev.from_opd = o.opd or ''
ev.to_opd = nw.opd or ''
ev.version = ver
ev.set = set
record(KEYS[2], ev)
return {'ok', ver}
