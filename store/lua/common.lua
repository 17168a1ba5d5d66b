-- Shared by every script (prepended at load time). All keys of a city share
-- one hash tag; PREFIX is "tanggap:{city}:".
local PREFIX = ARGV[1]
local NOW = ARGV[2]

local function slot(opd)
  if opd == nil or opd == false or opd == '' then return '_unrouted' end
  return opd
end

local OPEN = {NEW=true, ASSIGNED=true, IN_PROGRESS=true, ON_HOLD=true, REOPENED=true}

-- reindex moves an item between the per-OPD queues after a change.
-- o and n are tables with id, status, opd, fr_ms, deadline_ms, queued.
local function reindex(o, n)
  if o then
    redis.call('ZREM', PREFIX .. 'open:' .. slot(o.opd), o.id)
    redis.call('ZREM', PREFIX .. 'answered:' .. slot(o.opd), o.id)
  end
  if n.opd ~= nil and n.opd ~= '' then
    redis.call('ZADD', PREFIX .. 'opd:' .. n.opd, n.created_ms, n.id)
  end
  if n.queued == '1' and OPEN[n.status] then
    if n.fr_ms == nil or n.fr_ms == false or n.fr_ms == '' then
      redis.call('ZADD', PREFIX .. 'open:' .. slot(n.opd), n.deadline_ms, n.id)
    else
      redis.call('ZADD', PREFIX .. 'answered:' .. slot(n.opd), n.fr_ms, n.id)
    end
  end
end

local STATE_FIELDS = {'id', 'status', 'opd', 'fr_ms', 'deadline_ms', 'queued', 'created_ms', 'version'}

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

-- record appends an audit event to the item's history and the outbox.
local function record(hkey, ev)
  local j = cjson.encode(ev)
  redis.call('RPUSH', hkey, j)
  redis.call('XADD', PREFIX .. 'outbox', '*', 'event', j)
end

-- answer stops the first-response clock of the item at ikey, if the reply
-- is its first (or earlier than the one known). Returns 1 when it changed.
local function answer(ikey, hkey, at, opd, url, reply_id, actor)
  local o = state(ikey)
  if o.fr_ms and o.fr_ms ~= '' and tonumber(o.fr_ms) <= tonumber(at) then return 0 end
  local n = copy(o)
  n.fr_ms = at
  if o.status == 'NEW' or o.status == 'ASSIGNED' or o.status == 'REOPENED' then n.status = 'IN_PROGRESS' end
  if (o.opd == nil or o.opd == false or o.opd == '') and opd ~= 'city' and opd ~= 'mayor' and opd ~= '' then
    n.opd = opd
  end
  local ver = redis.call('HINCRBY', ikey, 'version', 1)
  redis.call('HSET', ikey, 'fr_ms', at, 'fr_opd', opd, 'fr_url', url, 'fr_reply', reply_id,
    'status', n.status, 'opd', n.opd or '', 'updated_ms', NOW)
  reindex(o, n)
  record(hkey, {item_id = o.id, at_ms = tonumber(NOW), actor = actor, action = 'answer',
    from_status = o.status, to_status = n.status, from_opd = o.opd or '', to_opd = n.opd or '',
    data = {reply_id = reply_id, reply_url = url, answered_by = opd, answered_at_ms = at}, version = ver})
  return 1
end
