import type { HotMember, WarmingCommands } from './store.js';

/** Runs a Lua script on the node that holds `key`. */
export type RunScript = (
  script: string,
  key: string,
  args: ReadonlyArray<string>,
) => Promise<unknown>;

// Each script touches its one key (KEYS[1]), so it runs on a cluster as on one Redis.
const ADD = `
local key = KEYS[1]
for i = 3, #ARGV, 2 do
  redis.call('ZINCRBY', key, ARGV[i + 1], ARGV[i])
end
redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[1]) + 1))
redis.call('PEXPIRE', key, ARGV[2])
return 1`;

const READ = `
local key = KEYS[1]
local ttl = redis.call('PTTL', key)
if ttl < 0 then return {} end
if tonumber(ARGV[2]) < 1 then
  redis.call('ZUNIONSTORE', key, 1, key, 'WEIGHTS', ARGV[2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(1')
  if redis.call('EXISTS', key) == 0 then return {} end
  redis.call('PEXPIRE', key, ttl)
end
return redis.call('ZREVRANGE', key, 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')`;

const HOLD = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

const SIZE = `return redis.call('ZCARD', KEYS[1])`;

/** The warmer's commands over Redis (one server or a cluster), as Lua scripts. */
export function redisWarmingCommands(
  run: RunScript,
  usedMemoryBytes: () => Promise<number>,
): WarmingCommands {
  return {
    addToHotSet: async (key, scores, maxSize, ttlMs) => {
      if (scores.length === 0) return;
      const args = [String(maxSize), String(ttlMs)];
      for (const [member, score] of scores) args.push(member, String(score));
      await run(ADD, key, args);
    },
    readHotSet: async (key, limit, decay) => {
      const reply = (await run(READ, key, [String(limit), String(decay)])) as unknown[];
      const members: HotMember[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) {
        members.push([String(reply[i]), Number(reply[i + 1])]);
      }
      return members;
    },
    hotSetSizes: (keys) => Promise.all(keys.map(async (key) => Number(await run(SIZE, key, [])))),
    holdLease: async (key, owner, ttlMs) =>
      Number(await run(HOLD, key, [owner, String(ttlMs)])) === 1,
    releaseLease: async (key, owner) => {
      await run(RELEASE, key, [owner]);
    },
    usedMemoryBytes,
  };
}

/** `used_memory` from the text of `INFO memory`. */
export function usedMemoryOf(info: string): number {
  const match = /^used_memory:(\d+)/m.exec(info);
  return match === null ? 0 : Number(match[1]);
}
