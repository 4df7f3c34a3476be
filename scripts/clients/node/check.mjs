// node-redis v5 with RESP3 (HELLO 3 on connect) against the server at
// HOST:PORT (the environment), run by scripts/clients-test.sh. It prints
// PASS or FAIL per check and exits 1 if any check failed.
import { createClient } from 'redis';
import { deepStrictEqual } from 'node:assert/strict';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 6379);
let failed = 0;

async function check(name, fn, want) {
  try {
    const got = await fn();
    if (want !== undefined) deepStrictEqual(got, want);
    console.log(`PASS node-redis ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL node-redis ${name}: ${err.message.split('\n').slice(0, 12).join('\n    ')}`);
  }
}

function must(cond, what) {
  if (!cond) throw new Error(what);
}

const client = createClient({
  socket: { host, port, connectTimeout: 5000, reconnectStrategy: false },
  RESP: 3,
  name: 'e2e-node',
});
client.on('error', (err) => console.log(`node-redis connection error: ${err.message}`));
await client.connect();

await check('FLUSHDB (start empty)', async () => client.flushDb(), 'OK');
await check('handshake: HELLO 3 and SETNAME', async () => {
  const info = await client.sendCommand(['CLIENT', 'INFO']);
  must(/ name=e2e-node /.test(info) && / resp=3(\s|$)/.test(info), `CLIENT INFO = ${info}`);
});
await check('HELLO 3 is a map with proto 3', async () => {
  const hello = await client.sendCommand(['HELLO', '3']);
  return [hello.server, hello.proto];
}, ['redis', 3]);

// Strings, keys, expiry.
await check('SET/GET', async () => [await client.set('s', 'v'), await client.get('s'), await client.get('nokey')], ['OK', 'v', null]);
await check('INCR/INCRBY/INCRBYFLOAT', async () => [await client.incr('n'), await client.incrBy('n', 41), await client.incrByFloat('f', 1.5)], [1, 42, '1.5']);
await check('MSET/MGET', async () => [await client.mSet({ m1: 'a', m2: 'b' }), await client.mGet(['m1', 'nokey', 'm2'])], ['OK', ['a', null, 'b']]);
await check('APPEND/STRLEN/GETRANGE', async () => [await client.append('s', 'alue'), await client.strLen('s'), await client.getRange('s', 1, 3)], [5, 5, 'alu']);
await check('EXISTS/TYPE/RENAME/DEL', async () => [
  await client.exists(['s', 'n', 'nokey']), await client.type('s'), await client.rename('m1', 'm3'), await client.del(['m2', 'm3']),
], [2, 'string', 'OK', 2]);
await check('EXPIRE/TTL/PERSIST', async () => {
  const r = [await client.expire('s', 100), await client.ttl('s'), await client.persist('s'), await client.ttl('s'), await client.ttl('nokey')];
  must(r[1] > 90 && r[1] <= 100, `TTL ${r[1]}`);
  r[1] = 100;
  return r;
}, [1, 100, 1, -1, -2]);
await check('SET PX expires', async () => {
  await client.set('short', 'x', { expiration: { type: 'PX', value: 50 } });
  await new Promise((r) => setTimeout(r, 150));
  return client.exists('short');
}, 0);

// Lists, with a blocking pop and a fractional timeout.
await check('RPUSH/LPUSH/LRANGE/LPOP/RPOP/LLEN', async () => [
  await client.rPush('l', ['a', 'b', 'c']), await client.lPush('l', 'z'), await client.lRange('l', 0, -1),
  await client.lPop('l'), await client.rPop('l'), await client.lLen('l'),
], [3, 4, ['z', 'a', 'b', 'c'], 'z', 'c', 2]);
await check('BLPOP served and timing out', async () => {
  const blocking = client.duplicate();
  await blocking.connect();
  try {
    return [await blocking.blPop('l', 0.5), await blocking.blPop('empty', 0.1)];
  } finally {
    blocking.destroy();
  }
}, [{ key: 'l', element: 'a' }, null]);

// Hashes: HGETALL is a RESP3 map, an object here.
await check('HSET/HGET/HGETALL/HINCRBY/HDEL', async () => [
  await client.hSet('h', { f1: 'v1', f2: 'v2' }), await client.hGet('h', 'f1'), { ...(await client.hGetAll('h')) },
  await client.hIncrBy('h', 'n', 3), await client.hDel('h', 'f2'), await client.hLen('h'),
], [2, 'v1', { f1: 'v1', f2: 'v2' }, 3, 1, 2]);

// Sets.
await check('SADD/SMEMBERS/SISMEMBER/SCARD/SINTER', async () => {
  await client.sAdd('st', ['a', 'b', 'c']);
  await client.sAdd('st2', ['b', 'c', 'd']);
  return [[...(await client.sMembers('st'))].sort(), await client.sIsMember('st', 'b'), await client.sCard('st'), [...(await client.sInter(['st', 'st2']))].sort()];
}, [['a', 'b', 'c'], 1, 3, ['b', 'c']]);

// Sorted sets: scores are RESP3 doubles, numbers here.
await check('ZADD/ZRANGE WITHSCORES/ZSCORE/ZINCRBY/ZRANK/ZPOPMIN', async () => [
  await client.zAdd('z', [{ score: 1, value: 'a' }, { score: 2.5, value: 'b' }, { score: -3, value: 'c' }]),
  await client.zRangeWithScores('z', 0, -1), await client.zScore('z', 'b'), await client.zIncrBy('z', 0.25, 'a'),
  await client.zRank('z', 'b'), await client.zPopMin('z'),
], [3, [{ value: 'c', score: -3 }, { value: 'a', score: 1 }, { value: 'b', score: 2.5 }], 2.5, 1.25, 2, { value: 'c', score: -3 }]);

// Pipelining: concurrent commands are sent together, and an explicit
// pipeline without MULTI.
await check('auto-pipelined INCRs', async () => {
  const replies = await Promise.all(Array.from({ length: 200 }, () => client.incr('p:counter')));
  return replies[199];
}, 200);
await check('execAsPipeline', async () => client.multi().set('p:a', '1').incr('p:a').get('p:a').execAsPipeline(), ['OK', 2, '2']);
const hasMulti = (await client.sendCommand(['COMMAND', 'INFO', 'multi']))[0] !== null;
if (hasMulti) {
  await check('MULTI/EXEC', async () => client.multi().set('tx', '1').incr('tx').exec(), ['OK', 2]);
} else {
  console.log('SKIP node-redis MULTI/EXEC: the server has no MULTI');
}

// SCAN to the end.
await check('scanIterator MATCH', async () => {
  for (let i = 0; i < 100; i++) await client.set(`scan:${i}`, 'x');
  const seen = new Set();
  for await (const keys of client.scanIterator({ MATCH: 'scan:*', COUNT: 20 })) {
    for (const k of [keys].flat()) seen.add(k);
  }
  return seen.size;
}, 100);

// Server commands clients parse.
await check('CONFIG GET', async () => ({ ...(await client.configGet('maxmemory-policy')) }), { 'maxmemory-policy': 'noeviction' });
await check('INFO server', async () => {
  const info = await client.info('server');
  must(/\r\nredis_version:7\./.test(info), 'no redis_version:7.x');
});
await check('CLIENT SETNAME/GETNAME/ID/LIST', async () => {
  await client.clientSetName('renamed');
  const id = await client.clientId();
  const list = await client.sendCommand(['CLIENT', 'LIST']);
  must(list.includes(`id=${id} `) && list.includes(' name=renamed '), `CLIENT LIST = ${list}`);
  return client.clientGetName();
}, 'renamed');
await check('DBSIZE/FLUSHDB', async () => {
  must((await client.dbSize()) > 100, 'DBSIZE <= 100');
  return [await client.flushDb(), await client.dbSize()];
}, ['OK', 0]);
await check('WRONGTYPE error', async () => {
  await client.set('s', 'v');
  try {
    await client.lPush('s', 'x');
  } catch (err) {
    return err.message.split(' ')[0];
  }
}, 'WRONGTYPE');

client.destroy();
console.log(failed ? `node-redis: ${failed} checks FAILED` : 'node-redis: all checks passed');
process.exit(failed ? 1 : 0);
