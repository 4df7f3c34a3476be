"""redis-py (Debian's python3-redis) against the server at HOST:PORT (the
environment), run by scripts/clients-test.sh. It prints PASS or FAIL per
check and exits 1 if any check failed. redis-py 4.x speaks RESP2 only
(RESP3 came in 5.0), so this is the RESP2 client of the set."""

import os
import sys
import time

import redis

failed = 0


def check(name, fn, want=None):
    global failed
    try:
        got = fn()
        if want is not None and got != want:
            raise AssertionError(f"got {got!r}, want {want!r}")
        print(f"PASS redis-py {name}")
    except Exception as err:  # a failed check must not stop the others
        failed += 1
        print(f"FAIL redis-py {name}: {type(err).__name__}: {err}")


r = redis.Redis(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "6379")),
                decode_responses=True, socket_timeout=5, client_name="e2e-python")

check("PING", r.ping, True)
check("FLUSHDB (start empty)", r.flushdb, True)
check("client name on connect", r.client_getname, "e2e-python")

# Strings, keys, expiry.
check("SET/GET", lambda: [r.set("s", "v"), r.get("s"), r.get("nokey")], [True, "v", None])
check("INCR/INCRBY/INCRBYFLOAT", lambda: [r.incr("n"), r.incrby("n", 41), r.incrbyfloat("f", 1.5)], [1, 42, 1.5])
check("MSET/MGET", lambda: [r.mset({"m1": "a", "m2": "b"}), r.mget("m1", "nokey", "m2")], [True, ["a", None, "b"]])
check("EXISTS/TYPE/DEL", lambda: [r.exists("s", "n", "nokey"), r.type("s"), r.delete("m1", "m2")], [2, "string", 2])


def expiry():
    ok = r.expire("s", 100)
    ttl = r.ttl("s")
    assert 90 < ttl <= 100, f"TTL {ttl}"
    r.set("short", "x", px=50)
    time.sleep(0.15)
    return [ok, r.persist("s"), r.ttl("s"), r.ttl("nokey"), r.exists("short")]


check("EXPIRE/TTL/PERSIST/PX", expiry, [True, True, -1, -2, 0])

# Lists, with a blocking pop.
check("RPUSH/LRANGE/LPOP/LLEN", lambda: [r.rpush("l", "a", "b", "c"), r.lrange("l", 0, -1), r.lpop("l"), r.llen("l")],
      [3, ["a", "b", "c"], "a", 2])
check("BLPOP served and timing out", lambda: [r.blpop(["l"], timeout=1), r.blpop(["empty"], timeout=0.1)],
      [("l", "b"), None])

# Hashes, sets, sorted sets.
check("HSET/HGETALL/HINCRBY/HDEL", lambda: [r.hset("h", mapping={"f1": "v1", "f2": "v2"}), r.hgetall("h"),
                                            r.hincrby("h", "n", 3), r.hdel("h", "f2"), r.hlen("h")],
      [2, {"f1": "v1", "f2": "v2"}, 3, 1, 2])
check("SADD/SMEMBERS/SISMEMBER/SINTER", lambda: [r.sadd("st", "a", "b", "c"), r.sadd("st2", "b", "c", "d"), r.smembers("st"),
                                                 r.sismember("st", "b"), r.sinter("st", "st2")],
      [3, 3, {"a", "b", "c"}, True, {"b", "c"}])
check("ZADD/ZRANGE WITHSCORES/ZSCORE/ZINCRBY/ZPOPMIN", lambda: [
    r.zadd("z", {"a": 1, "b": 2.5, "c": -3}), r.zrange("z", 0, -1, withscores=True), r.zscore("z", "b"),
    r.zincrby("z", 0.25, "a"), r.zrank("z", "b"), r.zpopmin("z")],
      [3, [("c", -3.0), ("a", 1.0), ("b", 2.5)], 2.5, 1.25, 2, [("c", -3.0)]])


# Pipelines: redis-py's default pipeline wraps the commands in MULTI/EXEC,
# so without MULTI on the server only transaction=False is checked.
def pipeline(transaction):
    p = r.pipeline(transaction=transaction)
    for i in range(100):
        p.set(f"p:{i}", i)
        p.incr("p:counter")
    p.get("p:counter")
    return p.execute()[-1]


commands = {}
check("COMMAND parsed", lambda: commands.update(r.command()) or "get" in commands, True)
has_multi = "multi" in commands
check("pipeline(transaction=False)", lambda: pipeline(False), "100")
if has_multi:
    check("pipeline() with MULTI/EXEC", lambda: pipeline(True), "200")
else:
    print("SKIP redis-py pipeline() with MULTI/EXEC: the server has no MULTI")

check("scan_iter MATCH", lambda: len(set(r.scan_iter(match="p:*", count=20))), 101)

# Server commands whose replies redis-py parses.
check("CONFIG GET", lambda: r.config_get("maxmemory-policy"), {"maxmemory-policy": "noeviction"})


def info():
    srv = r.info("server")
    assert str(srv["redis_version"]).startswith("7."), srv.get("redis_version")
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] > 100, ks
    assert r.info("clients")["connected_clients"] >= 1


check("INFO server/keyspace/clients parsed", info)


def clients():
    r.client_setname("renamed")
    me = r.client_id()
    mine = [c for c in r.client_list() if int(c["id"]) == me]
    assert len(mine) == 1 and mine[0]["name"] == "renamed", mine
    assert r.client_info()["name"] == "renamed"
    return r.client_getname()


check("CLIENT SETNAME/ID/LIST/INFO", clients, "renamed")
check("DBSIZE/FLUSHDB", lambda: [r.dbsize() > 100, r.flushdb(), r.dbsize()], [True, True, 0])


def wrongtype():
    r.set("s", "v")
    try:
        r.lpush("s", "x")
    except redis.ResponseError as err:
        return str(err).split(" ")[0]


check("WRONGTYPE error", wrongtype, "WRONGTYPE")

print(f"redis-py: {failed} checks FAILED" if failed else "redis-py: all checks passed")
sys.exit(1 if failed else 0)
