-- Removes an item that ended before a cutoff, with every index entry that
-- names it (store.Prune).
-- KEYS: 1 item, 2 history, 3 edits, 4 row
-- ARGV: 1 prefix, 2 now (see common.lua), 3 cutoff (ms), 4 '1' for a dry run,
--       5... ids of reports that joined it or of its duplicates to count
--       as gone (those a dry run found prunable)
-- Returns 'pruned' ('prunable' on a dry run), or why the item stays:
-- 'missing', 'open' (open or resolved: the citizen's window runs),
-- 'recent' (ended at or after the cutoff), 'unrelayed' (the outbox may
-- still hold its events for Kafka), 'joined' (the first report of a
-- near-duplicate cluster while a report that joined it is stored),
-- 'original' (an item marked the original of a duplicate that is stored).
local v = redis.call('HMGET', KEYS[1], 'id', 'status', 'opd', 'created_ms', 'resolved_ms', 'closed_ms', 'updated_ms', 'cluster_id',
  'classifier_opd', 'kelurahan', 'kecamatan', 'hops', 'duplicate_of')
local id, status, opd, created, cluster, of = v[1], v[2], v[3], num(v[4]), v[8], v[13]
if not id then return 'missing' end
if OPEN[status] or status == 'RESOLVED' then return 'open' end
-- The instant it ended, as ENDED takes it.
local at = num(v[5]) or num(v[6]) or num(v[7])
if not at or at >= tonumber(ARGV[3]) then return 'recent' end
-- The relay trims the outbox below what it still needs, so an item last
-- changed before the instant of the first entry left has every event in
-- Kafka (an entry of the older form, without its instant, keeps it).
local first = redis.call('XRANGE', PREFIX .. 'outbox', '-', '+', 'COUNT', 1)[1]
if first then
  local f, oldest = first[2], nil
  for i = 1, #f, 2 do
    if f[i] == 'at' then oldest = tonumber(f[i + 1]) end
  end
  if not oldest or oldest <= (num(v[7]) or at) then return 'unrelayed' end
end
-- A cluster's first report stays while a report that joined it is
-- stored: that report's page and queue row link to it. So does the
-- original of a duplicate that is stored, whose page links to it.
local gone = {}
for i = 5, #ARGV do gone[ARGV[i]] = true end
-- linked says whether the list at key (see joined, duplicated) names for
-- this item one that is stored and not counted as gone.
local function linked(key)
  local from = '[' .. id .. ' '
  repeat
    local batch = redis.call('ZRANGEBYLEX', key, from, '(' .. id .. '!', 'LIMIT', 0, 500)
    for _, e in ipairs(batch) do
      local m = string.sub(e, #id + 2)
      if not gone[m] and redis.call('ZSCORE', PREFIX .. 'items', m) then return true end
    end
    if #batch > 0 then from = '(' .. batch[#batch] end
  until #batch < 500
  return false
end
local root = cluster == id or redis.call('HEXISTS', REPORTERS, id) == 1
if root and linked(PREFIX .. 'cluster_members') then return 'joined' end
if linked(DUPLICATES) then return 'original' end
if ARGV[4] == '1' then return 'prunable' end

-- opd:<code> lists every item that has been in the OPD: an item moved
-- between OPDs (hops) leaves the index of each it was in, which its
-- history's assign events name.
if (tonumber(v[12] or '') or 0) > 0 then
  for _, ev in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    for code in string.gmatch(ev, '"from_opd":"([^"]+)"') do
      redis.call('ZREM', PREFIX .. 'opd:' .. code, id)
    end
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], citizens_of(KEYS[1]))
redis.call('ZREM', PREFIX .. 'items', id)
redis.call('ZREM', PREFIX .. 'opd:' .. slot(opd), id)
redis.call('ZREM', PREFIX .. 'resolved', id)
redis.call('ZREM', REOPENED, id)
if created then redis.call('ZREM', PREFIX .. 'ended:' .. math.floor(created / DAY_MS), id) end
-- Its near-duplicate candidate entry (NEAR), in the slot of the OPD it
-- had when it came: that one, its classifier's, or none (unrouted).
local place = v[10]
if not place or place == '' then place = v[11] end
if created and place and place ~= '' then
  for _, o in ipairs({opd or '', v[9] or '', ''}) do
    local k = PREFIX .. 'near:' .. slot(o) .. '|' .. place
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', k, v[4], v[4])) do
      if string.sub(m, 1, #id + 1) == id .. ' ' then redis.call('ZREM', k, m) end
    end
  end
end
-- Clusters: a report leaves its root's list but stays counted (its
-- citizen did report, and a rebuild, which restores it before pruning it
-- again, counts it too); a root (none of whose reports is stored any
-- more) takes its list and count along, its citizens set deleted above.
if cluster and cluster ~= '' and cluster ~= id then
  redis.call('ZREM', PREFIX .. 'cluster_members', cluster .. ' ' .. id)
end
redis.call('HDEL', REPORTERS, id)
-- A duplicate leaves its original's list; an original (none of whose
-- duplicates is stored any more) takes its list along.
if of and of ~= '' then redis.call('ZREM', DUPLICATES, of .. ' ' .. id) end
local function drop(key)
  repeat
    local batch = redis.call('ZRANGEBYLEX', key, '[' .. id .. ' ', '[' .. id .. ' \255', 'LIMIT', 0, 500)
    if #batch > 0 then redis.call('ZREM', key, unpack(batch)) end
  until #batch < 500
end
if root then drop(PREFIX .. 'cluster_members') end
drop(DUPLICATES)
return 'pruned'
