/**
 * The registry's Lua scripts: each change is one script, so it is atomic on Redis (a reader sees a
 * function before or after a change, never half of it) and announces itself on the cluster's
 * `changes` channel in the same step. Code blobs are content-addressed (`blob:<sha256>`) and
 * reference-counted by the set `refs:<sha256>` (members `fn:<name>:<version>`, `layer:<name>:<version>`):
 * stored once however many versions, functions or layers use them, deleted with their last user.
 * A write whose blob vanished meanwhile (deleted by another member's change) answers `NOBLOB` and
 * the caller uploads it again. A conditional write (Lambda's RevisionId: registry/store.ts
 * `WriteCondition`) checks and writes in the same script; unmet, it writes nothing, announces
 * nothing and answers `CONFLICT`.
 *
 * Every script takes the key prefix as ARGV[1] and builds its keys from it: all keys of one
 * cluster share the `{name}` hash tag, so they live in one Redis Cluster slot.
 */

const RELEASE = `
local function release(p, sha, ref)
  redis.call('SREM', p .. 'refs:' .. sha, ref)
  if redis.call('SCARD', p .. 'refs:' .. sha) == 0 then redis.call('DEL', p .. 'blob:' .. sha) end
end
-- cond: '' (none) or JSON { replaces = revisionId | '' (must not exist), latest = revisionId? }.
local function revision(json)
  if not json then return '' end
  return cjson.decode(json).revisionId
end
local function announce(p, member, kind, name)
  redis.call('PUBLISH', p .. 'changes', cjson.encode({ member = member, kind = kind, name = name }))
end
`;

/** ARGV: prefix, name, version, versionJson, sha256, lastVersion, member, condition ('' or JSON). */
export const PUT_VERSION = `${RELEASE}
local p, name, version, json, sha, last, member, cond = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local fk = p .. 'fn:' .. name
if cond ~= '' then
  cond = cjson.decode(cond)
  local stale = revision(redis.call('HGET', fk, 'v:' .. version)) ~= cond.replaces
    or (cond.latest and revision(redis.call('HGET', fk, 'v:$LATEST')) ~= cond.latest)
    -- A published number is never reused, even after its version was deleted.
    or (version ~= '$LATEST' and tonumber(redis.call('HGET', fk, 'lastVersion') or '0') >= tonumber(version))
  if stale then
    -- The blob uploaded for this write stays only if something uses it.
    if redis.call('SCARD', p .. 'refs:' .. sha) == 0 then redis.call('DEL', p .. 'blob:' .. sha) end
    return 'CONFLICT'
  end
end
if redis.call('EXISTS', p .. 'blob:' .. sha) == 0 then return 'NOBLOB' end
if not redis.call('ZSCORE', p .. 'functions', name) then
  redis.call('ZADD', p .. 'functions', redis.call('INCR', p .. 'seq'), name)
end
local ref = 'fn:' .. name .. ':' .. version
local old = redis.call('HGET', fk, 'v:' .. version)
if old then
  local oldSha = cjson.decode(old).sha256
  if oldSha ~= sha then release(p, oldSha, ref) end
end
redis.call('SADD', p .. 'refs:' .. sha, ref)
redis.call('HSET', fk, 'v:' .. version, json)
if last > tonumber(redis.call('HGET', fk, 'lastVersion') or '0') then redis.call('HSET', fk, 'lastVersion', last) end
announce(p, member, 'function', name)
return 'OK'
`;

/** ARGV: prefix, name, version, member. */
export const DELETE_VERSION = `${RELEASE}
local p, name, version, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fk = p .. 'fn:' .. name
local old = redis.call('HGET', fk, 'v:' .. version)
if old then
  release(p, cjson.decode(old).sha256, 'fn:' .. name .. ':' .. version)
  redis.call('HDEL', fk, 'v:' .. version)
end
announce(p, member, 'function', name)
return 'OK'
`;

/** ARGV: prefix, name, member. */
export const DELETE_FUNCTION = `${RELEASE}
local p, name, member = ARGV[1], ARGV[2], ARGV[3]
local fk = p .. 'fn:' .. name
local fields = redis.call('HGETALL', fk)
for i = 1, #fields, 2 do
  local field = fields[i]
  if string.sub(field, 1, 2) == 'v:' then
    release(p, cjson.decode(fields[i + 1]).sha256, 'fn:' .. name .. ':' .. string.sub(field, 3))
  end
end
redis.call('DEL', fk)
redis.call('ZREM', p .. 'functions', name)
announce(p, member, 'function', name)
return 'OK'
`;

/** ARGV: prefix, name, alias, aliasJson, member, condition ('' or JSON). An alias keeps its creation order (`seq`) when updated. */
export const PUT_ALIAS = `${RELEASE}
local p, name, alias, json, member, cond = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local fk = p .. 'fn:' .. name
local record = cjson.decode(json)
local old = redis.call('HGET', fk, 'a:' .. alias)
if cond ~= '' then
  cond = cjson.decode(cond)
  if revision(old) ~= cond.replaces then return 'CONFLICT' end
  -- The function itself must still be there (deleted by another member: nothing to alias).
  if redis.call('HEXISTS', fk, 'v:$LATEST') == 0 then return 'CONFLICT' end
end
if old then record.seq = cjson.decode(old).seq else record.seq = redis.call('HINCRBY', fk, 'aliasSeq', 1) end
redis.call('HSET', fk, 'a:' .. alias, cjson.encode(record))
announce(p, member, 'function', name)
return 'OK'
`;

/** ARGV: prefix, name, alias, member. */
export const DELETE_ALIAS = `${RELEASE}
local p, name, alias, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HDEL', p .. 'fn:' .. name, 'a:' .. alias)
announce(p, member, 'function', name)
return 'OK'
`;

/** ARGV: prefix, layerName, version, sha256, layerJson, member. */
export const PUT_LAYER = `${RELEASE}
local p, layer, version, sha, json, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('EXISTS', p .. 'blob:' .. sha) == 0 then return 'NOBLOB' end
redis.call('SADD', p .. 'refs:' .. sha, 'layer:' .. layer .. ':' .. version)
redis.call('HSET', p .. 'layers', layer .. '\\n' .. version, json)
announce(p, member, 'layer', layer)
return 'OK'
`;

/**
 * ARGV: prefix, layerName, version, member. Marks a layer version deleted: its JSON gains a
 * top-level `"deleted":true` (its zip and refs stay, for the functions that use it). Done on the
 * text, not through cjson, which would turn an empty `compatibleRuntimes` array into an object.
 */
export const DELETE_LAYER = `${RELEASE}
local p, layer, version, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local field = layer .. '\\n' .. version
local old = redis.call('HGET', p .. 'layers', field)
if not old then return 'OK' end
if string.sub(old, 1, 16) ~= '{"deleted":true,' then
  redis.call('HSET', p .. 'layers', field, '{"deleted":true,' .. string.sub(old, 2))
end
announce(p, member, 'layer', layer)
return 'OK'
`;

/** ARGV: prefix, name, qualifier, count ('' removes), member. */
export const PUT_PROVISIONED = `${RELEASE}
local p, name, qualifier, count, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if count == '' then redis.call('HDEL', p .. 'fn:' .. name, 'p:' .. qualifier)
else redis.call('HSET', p .. 'fn:' .. name, 'p:' .. qualifier, count) end
announce(p, member, 'function', name)
return 'OK'
`;

/**
 * ARGV: prefix, kind, key, json ('' removes), member. One of the async layer's settings
 * (registry/store.ts `putAsyncSetting`): `settings` (hash `<kind>\n<key>` → JSON text) and
 * `settings-order` (sorted set: first-write order, kept across updates as SQLite keeps it). The
 * change itself is announced (`kind` 'setting', `setting`, `name` the key, `json`), so other
 * members apply it without reading it back.
 */
export const PUT_SETTING = `${RELEASE}
local p, kind, key, json, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local field = kind .. '\\n' .. key
if json == '' then
  redis.call('HDEL', p .. 'settings', field)
  redis.call('ZREM', p .. 'settings-order', field)
else
  redis.call('HSET', p .. 'settings', field, json)
  if not redis.call('ZSCORE', p .. 'settings-order', field) then
    redis.call('ZADD', p .. 'settings-order', redis.call('INCR', p .. 'seq'), field)
  end
end
redis.call('PUBLISH', p .. 'changes', cjson.encode({ member = member, kind = 'setting', setting = kind, name = key, json = json }))
return 'OK'
`;
