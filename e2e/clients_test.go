package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// Real clients with their default settings: go-redis v9 (HELLO 3, CLIENT
// SETINFO) and rueidis (RESP3 only), each running a broad command set of
// strings, keys, expiry, lists, hashes, sets and sorted sets, pipelines,
// SCAN, and the connection and server commands clients parse (CLIENT INFO
// and LIST, CONFIG GET, INFO, COMMAND). RESP3's typed replies (maps, sets,
// doubles) are checked to arrive as those types, not as RESP2 arrays and
// strings.

// expectEq reports a difference between got and want (and any error) for
// the command named by what.
func expectEq[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: error %v; want %#v", what, err, want)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v; want %#v", what, got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestClientGoRedisRESP3(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// go-redis's defaults: Protocol 3 (HELLO 3 on connect) and CLIENT
		// SETINFO LIB-NAME/LIB-VER; only retries are off so that every
		// error surfaces.
		rdb := s.client(t, func(o *redis.Options) {
			o.Protocol = 0
			o.DisableIdentity = false
			o.ClientName = "e2e-goredis"
		})

		// The handshake: the connection speaks RESP3 under the name given.
		info, err := rdb.ClientInfo(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT INFO: %v", err)
		}
		if info.Resp != 3 || info.Name != "e2e-goredis" {
			t.Errorf("CLIENT INFO: resp=%d name=%q; want resp=3 name=e2e-goredis", info.Resp, info.Name)
		}
		if harness.kind == "ringkv" && !strings.HasPrefix(info.LibName, "go-redis(") {
			// Redis 7.0 refuses CLIENT SETINFO (7.2's), ringkv accepts it.
			t.Errorf("CLIENT INFO lib-name = %q; want go-redis(...) (from CLIENT SETINFO)", info.LibName)
		}
		hello, err := rdb.Do(ctx, "HELLO", "3").Result()
		if m, ok := hello.(map[any]any); err != nil || !ok || m["proto"] != int64(3) || m["server"] != "redis" {
			t.Errorf("HELLO 3 = %#v, %v; want a map with proto 3 and server redis", hello, err)
		}

		goRedisStrings(t, ctx, rdb)
		goRedisKeys(t, ctx, rdb)
		goRedisLists(t, ctx, rdb)
		goRedisHashes(t, ctx, rdb)
		goRedisSets(t, ctx, rdb)
		goRedisZSets(t, ctx, rdb)
		goRedisPipelines(t, ctx, rdb)
		goRedisScan(t, ctx, rdb)
		goRedisServer(t, ctx, rdb)
	})
}

func goRedisStrings(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	v, err := rdb.Set(ctx, "s", "v", 0).Result()
	expectEq(t, "SET s v", v, err, "OK")
	v, err = rdb.Get(ctx, "s").Result()
	expectEq(t, "GET s", v, err, "v")
	if _, err := rdb.Get(ctx, "nokey").Result(); err != redis.Nil {
		t.Errorf("GET nokey: error %v; want redis.Nil", err)
	}
	ok, err := rdb.SetNX(ctx, "s", "w", 0).Result()
	expectEq(t, "SETNX s w", ok, err, false)
	n, err := rdb.Append(ctx, "s", "alue").Result()
	expectEq(t, "APPEND s alue", n, err, int64(5))
	v, err = rdb.GetRange(ctx, "s", 1, 3).Result()
	expectEq(t, "GETRANGE s 1 3", v, err, "alu")
	n, err = rdb.SetRange(ctx, "s", 5, "!").Result()
	expectEq(t, "SETRANGE s 5 !", n, err, int64(6))
	n, err = rdb.StrLen(ctx, "s").Result()
	expectEq(t, "STRLEN s", n, err, int64(6))
	n, err = rdb.Incr(ctx, "n").Result()
	expectEq(t, "INCR n", n, err, int64(1))
	n, err = rdb.IncrBy(ctx, "n", 41).Result()
	expectEq(t, "INCRBY n 41", n, err, int64(42))
	n, err = rdb.Decr(ctx, "n").Result()
	expectEq(t, "DECR n", n, err, int64(41))
	f, err := rdb.IncrByFloat(ctx, "f", 1.5).Result()
	expectEq(t, "INCRBYFLOAT f 1.5", f, err, 1.5)
	st, err := rdb.MSet(ctx, "m1", "a", "m2", "b").Result()
	expectEq(t, "MSET", st, err, "OK")
	vals, err := rdb.MGet(ctx, "m1", "nokey", "m2").Result()
	expectEq(t, "MGET m1 nokey m2", vals, err, []any{"a", nil, "b"})
	v, err = rdb.GetDel(ctx, "m1").Result()
	expectEq(t, "GETDEL m1", v, err, "a")
	v, err = rdb.GetSet(ctx, "m2", "c").Result()
	expectEq(t, "GETSET m2 c", v, err, "b")
	binary := string([]byte{0, 1, '\r', '\n', 0xff})
	rdb.Set(ctx, "bin", binary, 0)
	v, err = rdb.Get(ctx, "bin").Result()
	expectEq(t, "GET bin (binary)", v, err, binary)
}

func goRedisKeys(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	rdb.Set(ctx, "k1", "1", 0)
	rdb.Set(ctx, "k2", "2", 0)
	n, err := rdb.Exists(ctx, "k1", "k2", "nokey").Result()
	expectEq(t, "EXISTS k1 k2 nokey", n, err, int64(2))
	typ, err := rdb.Type(ctx, "k1").Result()
	expectEq(t, "TYPE k1", typ, err, "string")
	enc, err := rdb.ObjectEncoding(ctx, "k1").Result()
	expectEq(t, "OBJECT ENCODING k1", enc, err, "int")
	st, err := rdb.Rename(ctx, "k2", "k3").Result()
	expectEq(t, "RENAME k2 k3", st, err, "OK")
	n, err = rdb.Copy(ctx, "k3", "k4", 0, false).Result()
	expectEq(t, "COPY k3 k4", n, err, int64(1))
	keys, err := rdb.Keys(ctx, "k*").Result()
	expectEq(t, "KEYS k*", sorted(keys), err, []string{"k1", "k3", "k4"})
	n, err = rdb.Unlink(ctx, "k3", "k4").Result()
	expectEq(t, "UNLINK k3 k4", n, err, int64(2))

	// Expiry.
	ok, err := rdb.Expire(ctx, "k1", 100*time.Second).Result()
	expectEq(t, "EXPIRE k1 100", ok, err, true)
	if ttl, err := rdb.TTL(ctx, "k1").Result(); err != nil || ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Errorf("TTL k1 = %v, %v; want about 100s", ttl, err)
	}
	if pttl, err := rdb.PTTL(ctx, "k1").Result(); err != nil || pttl <= 90*time.Second || pttl > 100*time.Second {
		t.Errorf("PTTL k1 = %v, %v; want about 100s", pttl, err)
	}
	if et, err := rdb.ExpireTime(ctx, "k1").Result(); err != nil || et < time.Duration(time.Now().Unix())*time.Second {
		t.Errorf("EXPIRETIME k1 = %v, %v; want a time in the future", et, err)
	}
	ok, err = rdb.Persist(ctx, "k1").Result()
	expectEq(t, "PERSIST k1", ok, err, true)
	ttl, err := rdb.TTL(ctx, "k1").Result()
	expectEq(t, "TTL k1 after PERSIST", ttl, err, time.Duration(-1))
	ttl, err = rdb.TTL(ctx, "nokey").Result()
	expectEq(t, "TTL nokey", ttl, err, time.Duration(-2))
	rdb.Set(ctx, "short", "x", 50*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	n, err = rdb.Exists(ctx, "short").Result()
	expectEq(t, "EXISTS short after its PX 50", n, err, int64(0))
	v, err := rdb.GetEx(ctx, "k1", 10*time.Second).Result()
	expectEq(t, "GETEX k1 EX 10", v, err, "1")
}

func goRedisLists(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	n, err := rdb.RPush(ctx, "l", "a", "b", "c").Result()
	expectEq(t, "RPUSH l a b c", n, err, int64(3))
	n, err = rdb.LPush(ctx, "l", "z").Result()
	expectEq(t, "LPUSH l z", n, err, int64(4))
	r, err := rdb.LRange(ctx, "l", 0, -1).Result()
	expectEq(t, "LRANGE l 0 -1", r, err, []string{"z", "a", "b", "c"})
	n, err = rdb.LLen(ctx, "l").Result()
	expectEq(t, "LLEN l", n, err, int64(4))
	v, err := rdb.LIndex(ctx, "l", -1).Result()
	expectEq(t, "LINDEX l -1", v, err, "c")
	n, err = rdb.LInsertBefore(ctx, "l", "b", "x").Result()
	expectEq(t, "LINSERT l BEFORE b x", n, err, int64(5))
	n, err = rdb.LPos(ctx, "l", "x", redis.LPosArgs{}).Result()
	expectEq(t, "LPOS l x", n, err, int64(2))
	v, err = rdb.LPop(ctx, "l").Result()
	expectEq(t, "LPOP l", v, err, "z")
	v, err = rdb.RPop(ctx, "l").Result()
	expectEq(t, "RPOP l", v, err, "c")
	v, err = rdb.LMove(ctx, "l", "l2", "LEFT", "RIGHT").Result()
	expectEq(t, "LMOVE l l2 LEFT RIGHT", v, err, "a")
	st, err := rdb.LTrim(ctx, "l", 0, 0).Result()
	expectEq(t, "LTRIM l 0 0", st, err, "OK")
	r, err = rdb.LRange(ctx, "l", 0, -1).Result()
	expectEq(t, "LRANGE l after LTRIM", r, err, []string{"x"})
	// A blocking pop served at once, then one with a fractional timeout
	// (through Do: go-redis rounds BLPop's up to a second) timing out with a
	// nil reply.
	r, err = rdb.BLPop(ctx, time.Second, "l2").Result()
	expectEq(t, "BLPOP l2 1", r, err, []string{"l2", "a"})
	if r, err := rdb.Do(ctx, "BLPOP", "l2", "0.1").Result(); err != redis.Nil {
		t.Errorf("BLPOP l2 0.1 on an empty list = %v, %v; want redis.Nil", r, err)
	}
}

func goRedisHashes(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	n, err := rdb.HSet(ctx, "h", "f1", "v1", "f2", "v2", "n", "10").Result()
	expectEq(t, "HSET h", n, err, int64(3))
	v, err := rdb.HGet(ctx, "h", "f1").Result()
	expectEq(t, "HGET h f1", v, err, "v1")
	m, err := rdb.HGetAll(ctx, "h").Result()
	expectEq(t, "HGETALL h", m, err, map[string]string{"f1": "v1", "f2": "v2", "n": "10"})
	n, err = rdb.HIncrBy(ctx, "h", "n", 5).Result()
	expectEq(t, "HINCRBY h n 5", n, err, int64(15))
	f, err := rdb.HIncrByFloat(ctx, "h", "n", 0.5).Result()
	expectEq(t, "HINCRBYFLOAT h n 0.5", f, err, 15.5)
	vals, err := rdb.HMGet(ctx, "h", "f1", "nofield").Result()
	expectEq(t, "HMGET h f1 nofield", vals, err, []any{"v1", nil})
	ok, err := rdb.HExists(ctx, "h", "f2").Result()
	expectEq(t, "HEXISTS h f2", ok, err, true)
	keys, err := rdb.HKeys(ctx, "h").Result()
	expectEq(t, "HKEYS h", sorted(keys), err, []string{"f1", "f2", "n"})
	n, err = rdb.HDel(ctx, "h", "f2").Result()
	expectEq(t, "HDEL h f2", n, err, int64(1))
	n, err = rdb.HLen(ctx, "h").Result()
	expectEq(t, "HLEN h", n, err, int64(2))
	// In RESP3 HGETALL is a map (%), which go-redis's Do returns as a Go map.
	raw, err := rdb.Do(ctx, "HGETALL", "h").Result()
	if rm, ok := raw.(map[any]any); err != nil || !ok || rm["f1"] != "v1" || rm["n"] != "15.5" {
		t.Errorf("HGETALL h through Do = %#v (%T), %v; want a RESP3 map {f1: v1, n: 15.5}", raw, raw, err)
	}
}

func goRedisSets(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	n, err := rdb.SAdd(ctx, "s1", "a", "b", "c").Result()
	expectEq(t, "SADD s1 a b c", n, err, int64(3))
	rdb.SAdd(ctx, "s2", "b", "c", "d")
	mem, err := rdb.SMembers(ctx, "s1").Result()
	expectEq(t, "SMEMBERS s1", sorted(mem), err, []string{"a", "b", "c"})
	ok, err := rdb.SIsMember(ctx, "s1", "a").Result()
	expectEq(t, "SISMEMBER s1 a", ok, err, true)
	bs, err := rdb.SMIsMember(ctx, "s1", "a", "z").Result()
	expectEq(t, "SMISMEMBER s1 a z", bs, err, []bool{true, false})
	n, err = rdb.SCard(ctx, "s1").Result()
	expectEq(t, "SCARD s1", n, err, int64(3))
	mem, err = rdb.SInter(ctx, "s1", "s2").Result()
	expectEq(t, "SINTER s1 s2", sorted(mem), err, []string{"b", "c"})
	mem, err = rdb.SUnion(ctx, "s1", "s2").Result()
	expectEq(t, "SUNION s1 s2", sorted(mem), err, []string{"a", "b", "c", "d"})
	mem, err = rdb.SDiff(ctx, "s1", "s2").Result()
	expectEq(t, "SDIFF s1 s2", mem, err, []string{"a"})
	n, err = rdb.SRem(ctx, "s1", "a", "z").Result()
	expectEq(t, "SREM s1 a z", n, err, int64(1))
	n, err = rdb.SInterStore(ctx, "s3", "s1", "s2").Result()
	expectEq(t, "SINTERSTORE s3 s1 s2", n, err, int64(2))
}

func goRedisZSets(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	n, err := rdb.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}, redis.Z{Score: -3, Member: "c"}).Result()
	expectEq(t, "ZADD z", n, err, int64(3))
	zs, err := rdb.ZRangeWithScores(ctx, "z", 0, -1).Result()
	expectEq(t, "ZRANGE z 0 -1 WITHSCORES", zs, err, []redis.Z{{Score: -3, Member: "c"}, {Score: 1, Member: "a"}, {Score: 2.5, Member: "b"}})
	f, err := rdb.ZScore(ctx, "z", "b").Result()
	expectEq(t, "ZSCORE z b", f, err, 2.5)
	f, err = rdb.ZIncrBy(ctx, "z", 0.25, "a").Result()
	expectEq(t, "ZINCRBY z 0.25 a", f, err, 1.25)
	n, err = rdb.ZRank(ctx, "z", "b").Result()
	expectEq(t, "ZRANK z b", n, err, int64(2))
	n, err = rdb.ZCard(ctx, "z").Result()
	expectEq(t, "ZCARD z", n, err, int64(3))
	n, err = rdb.ZCount(ctx, "z", "0", "+inf").Result()
	expectEq(t, "ZCOUNT z 0 +inf", n, err, int64(2))
	mem, err := rdb.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "(-3", Max: "+inf"}).Result()
	expectEq(t, "ZRANGEBYSCORE z (-3 +inf", mem, err, []string{"a", "b"})
	mem, err = rdb.ZRevRange(ctx, "z", 0, 0).Result()
	expectEq(t, "ZREVRANGE z 0 0", mem, err, []string{"b"})
	fs, err := rdb.ZMScore(ctx, "z", "a", "c").Result()
	expectEq(t, "ZMSCORE z a c", fs, err, []float64{1.25, -3})
	rdb.ZAdd(ctx, "zinf", redis.Z{Score: math.Inf(1), Member: "top"})
	f, err = rdb.ZScore(ctx, "zinf", "top").Result()
	expectEq(t, "ZSCORE zinf top", f, err, math.Inf(1))
	zs, err = rdb.ZPopMin(ctx, "z").Result()
	expectEq(t, "ZPOPMIN z", zs, err, []redis.Z{{Score: -3, Member: "c"}})
	n, err = rdb.ZUnionStore(ctx, "zu", &redis.ZStore{Keys: []string{"z", "zinf"}}).Result()
	expectEq(t, "ZUNIONSTORE zu 2 z zinf", n, err, int64(3))
	// In RESP3 ZSCORE is a double (,), which go-redis's Do returns as a
	// float64 rather than a string.
	raw, err := rdb.Do(ctx, "ZSCORE", "z", "b").Result()
	expectEq(t, "ZSCORE z b through Do", raw, err, any(2.5))
}

func goRedisPipelines(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	const n = 200
	pipe := rdb.Pipeline()
	incrs := make([]*redis.IntCmd, n)
	for i := range n {
		pipe.Set(ctx, "p:"+strconv.Itoa(i), i, 0)
		incrs[i] = pipe.Incr(ctx, "p:counter")
	}
	hgetall := pipe.HGetAll(ctx, "h")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline of %d commands: %v", 2*n+1, err)
	}
	for i, c := range incrs {
		if got, err := c.Result(); err != nil || got != int64(i+1) {
			t.Errorf("pipelined INCR #%d = %d, %v; want %d", i, got, err, i+1)
			break
		}
	}
	expectEq(t, "pipelined HGETALL h", hgetall.Val(), hgetall.Err(), map[string]string{"f1": "v1", "n": "15.5"})

	// MULTI/EXEC: only where the server has it (ringkv has no transactions
	// yet; then TxPipeline must fail cleanly rather than hang).
	cmds, err := rdb.Command(ctx).Result()
	if err != nil {
		t.Fatalf("COMMAND through go-redis's parser: %v", err)
	}
	if _, ok := cmds["multi"]; !ok {
		t.Logf("no MULTI in COMMAND: TxPipeline not exercised")
		return
	}
	var incr *redis.IntCmd
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx", "1", 0)
		incr = p.Incr(ctx, "tx")
		return nil
	}); err != nil {
		t.Errorf("TxPipelined: %v", err)
	}
	expectEq(t, "INCR tx in MULTI/EXEC", incr.Val(), incr.Err(), int64(2))
}

func goRedisScan(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	const n = 500
	pipe := rdb.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("scan:%d", i), "x", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("filling scan:*: %v", err)
	}
	seen := map[string]bool{}
	it := rdb.Scan(ctx, 0, "scan:*", 50).Iterator()
	for it.Next(ctx) {
		if !strings.HasPrefix(it.Val(), "scan:") {
			t.Errorf("SCAN MATCH scan:* returned %q", it.Val())
		}
		seen[it.Val()] = true
	}
	if err := it.Err(); err != nil || len(seen) != n {
		t.Errorf("SCAN MATCH scan:* iterator: %d distinct keys, %v; want %d", len(seen), err, n)
	}
	var fields []string
	hit := rdb.HScan(ctx, "h", 0, "", 0).Iterator()
	for hit.Next(ctx) {
		fields = append(fields, hit.Val())
	}
	if err := hit.Err(); err != nil || len(fields) != 4 {
		t.Errorf("HSCAN h iterator = %q, %v; want 2 fields and their values", fields, err)
	}
}

func goRedisServer(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	// CLIENT SETNAME names one connection: go-redis has it on a Conn taken
	// from the pool.
	conn := rdb.Conn()
	defer conn.Close()
	ok, err := conn.ClientSetName(ctx, "renamed").Result()
	expectEq(t, "CLIENT SETNAME renamed", ok, err, true)
	name, err := conn.ClientGetName(ctx).Result()
	expectEq(t, "CLIENT GETNAME", name, err, "renamed")
	list, err := conn.ClientList(ctx).Result()
	if err != nil || !strings.Contains(list, " name=renamed ") || !strings.Contains(list, " resp=3") {
		t.Errorf("CLIENT LIST = %q, %v; want a line with name=renamed and resp=3", list, err)
	}
	id, err := conn.ClientID(ctx).Result()
	if err != nil || id <= 0 {
		t.Errorf("CLIENT ID = %d, %v", id, err)
	}
	if info, err := conn.ClientInfo(ctx).Result(); err != nil || info.ID != id || info.Name != "renamed" {
		t.Errorf("CLIENT INFO = %+v, %v; want id %d name renamed", info, err, id)
	}

	cfg, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	expectEq(t, "CONFIG GET maxmemory-policy", cfg, err, map[string]string{"maxmemory-policy": "noeviction"})
	cfg, err = rdb.ConfigGet(ctx, "*").Result()
	if err != nil || cfg["databases"] != "16" || len(cfg) < 20 {
		t.Errorf("CONFIG GET * = %d parameters (databases %q), %v", len(cfg), cfg["databases"], err)
	}
	st, err := rdb.ConfigSet(ctx, "slowlog-max-len", "64").Result()
	expectEq(t, "CONFIG SET slowlog-max-len 64", st, err, "OK")

	im, err := rdb.InfoMap(ctx, "server", "clients", "keyspace").Result()
	if err != nil {
		t.Fatalf("INFO server clients keyspace through InfoMap: %v", err)
	}
	if v := im["Server"]["redis_version"]; !strings.HasPrefix(v, "7.") {
		t.Errorf("INFO server redis_version = %q; want 7.x (sections: %v)", v, slices.Sorted(maps.Keys(im)))
	}
	if v, _ := strconv.Atoi(im["Clients"]["connected_clients"]); v < 1 {
		t.Errorf("INFO clients connected_clients = %q; want >= 1", im["Clients"]["connected_clients"])
	}
	if v := im["Keyspace"]["db0"]; !strings.HasPrefix(v, "keys=") {
		t.Errorf("INFO keyspace db0 = %q; want keys=...,expires=...,avg_ttl=...", v)
	}
	raw, err := rdb.Info(ctx, "stats").Result()
	if err != nil || !strings.Contains(raw, "total_commands_processed:") {
		t.Errorf("INFO stats = %q, %v; want total_commands_processed", raw, err)
	}

	n, err := rdb.DBSize(ctx).Result()
	if err != nil || n < 500 {
		t.Errorf("DBSIZE = %d, %v; want >= 500", n, err)
	}
	mu, err := rdb.MemoryUsage(ctx, "h").Result()
	if err != nil || mu <= 0 {
		t.Errorf("MEMORY USAGE h = %d, %v; want > 0", mu, err)
	}
	if tm, err := rdb.Time(ctx).Result(); err != nil || time.Since(tm).Abs() > time.Minute {
		t.Errorf("TIME = %v, %v; want about now", tm, err)
	}
	if _, err := rdb.SlowLogGet(ctx, 10).Result(); err != nil {
		t.Errorf("SLOWLOG GET 10: %v", err)
	}
	if got, err := rdb.Do(ctx, "NOSUCHCOMMAND").Result(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command") {
		t.Errorf("NOSUCHCOMMAND = %v, %v; want ERR unknown command", got, err)
	}
	if _, err := rdb.LPush(ctx, "s", "x").Result(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Errorf("LPUSH on a string: %v; want WRONGTYPE", err)
	}
	st, err = rdb.FlushDB(ctx).Result()
	expectEq(t, "FLUSHDB", st, err, "OK")
}

func TestClientRueidis(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		// rueidis speaks RESP3 only and, unless DisableCache is set, turns
		// on client-side caching in its handshake (CLIENT TRACKING ON
		// OPTIN). ringkv refuses CLIENT TRACKING ON, so against ringkv the
		// cache is off and the refusal must surface as a clean NewClient
		// error; against redis-server the cache is exercised.
		cache := harness.kind != "ringkv"
		if !cache {
			_, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.addr}, DisableRetry: true, Dialer: dialer()})
			if err == nil {
				t.Errorf("rueidis.NewClient with client-side caching: no error, but ringkv refuses CLIENT TRACKING ON")
			} else {
				t.Logf("rueidis with client-side caching, as expected: %v", err)
			}
		}
		c, err := rueidis.NewClient(rueidis.ClientOption{
			InitAddress:  []string{s.addr},
			ClientName:   "e2e-rueidis",
			DisableCache: !cache,
			DisableRetry: true,
			Dialer:       dialer(),
		})
		if err != nil {
			t.Fatalf("rueidis.NewClient (DisableCache %v): %v", !cache, err)
		}
		defer c.Close()
		rueidisCommands(t, ctx, c)
		if cache {
			rueidisCache(t, ctx, c)
		}
	})
}

func dialer() net.Dialer { return net.Dialer{Timeout: 5 * time.Second} }

// rueidisCommands runs the broad set, checking each reply's RESP3 type
// where it differs from RESP2's.
func rueidisCommands(t *testing.T, ctx context.Context, c rueidis.Client) {
	t.Helper()
	b := c.B
	str := func(cmd rueidis.Completed, want string) {
		t.Helper()
		what := strings.Join(cmd.Commands(), " ")
		got, err := c.Do(ctx, cmd).ToString()
		expectEq(t, what, got, err, want)
	}
	num := func(cmd rueidis.Completed, want int64) {
		t.Helper()
		what := strings.Join(cmd.Commands(), " ")
		got, err := c.Do(ctx, cmd).AsInt64()
		expectEq(t, what, got, err, want)
	}
	strs := func(cmd rueidis.Completed, sortIt bool, want ...string) {
		t.Helper()
		what := strings.Join(cmd.Commands(), " ")
		got, err := c.Do(ctx, cmd).AsStrSlice()
		if sortIt {
			got = sorted(got)
		}
		expectEq(t, what, got, err, want)
	}
	// msgType is rueidis's name for a reply's RESP3 type ("map", "set",
	// "float64", ...), from its JSON rendering of the message.
	msgType := func(cmd rueidis.Completed) string {
		t.Helper()
		m, err := c.Do(ctx, cmd).ToMessage()
		if err != nil {
			t.Errorf("%s: %v", strings.Join(cmd.Commands(), " "), err)
			return ""
		}
		var shape struct{ Type string }
		json.Unmarshal([]byte(m.String()), &shape)
		return shape.Type
	}
	wantType := func(cmd rueidis.Completed, want string) {
		t.Helper()
		what := strings.Join(cmd.Commands(), " ")
		if got := msgType(cmd); got != want {
			t.Errorf("%s: RESP3 reply type %q; want %q", what, got, want)
		}
	}

	// The handshake was HELLO 3 with SETNAME.
	ci, err := c.Do(ctx, b().ClientInfo().Build()).ToString()
	if err != nil || !strings.Contains(ci, " name=e2e-rueidis ") || !strings.Contains(ci, " resp=3") {
		t.Errorf("CLIENT INFO = %q, %v; want name=e2e-rueidis and resp=3", ci, err)
	}

	// Strings, keys and expiry.
	str(b().Set().Key("s").Value("v").Build(), "OK")
	str(b().Get().Key("s").Build(), "v")
	if err := c.Do(ctx, b().Get().Key("nokey").Build()).Error(); !rueidis.IsRedisNil(err) {
		t.Errorf("GET nokey: %v; want a nil reply", err)
	}
	num(b().Append().Key("s").Value("alue").Build(), 5)
	num(b().Incrby().Key("n").Increment(42).Build(), 42)
	str(b().Incrbyfloat().Key("f").Increment(0.5).Build(), "0.5")
	str(b().Mset().KeyValue().KeyValue("m1", "a").KeyValue("m2", "b").Build(), "OK")
	got, err := c.Do(ctx, b().Mget().Key("m1", "nokey", "m2").Build()).ToArray()
	if err != nil || len(got) != 3 || !got[1].IsNil() {
		t.Errorf("MGET m1 nokey m2 = %v, %v; want [a nil b]", got, err)
	}
	num(b().Exists().Key("s", "n", "nokey").Build(), 2)
	str(b().Type().Key("s").Build(), "string")
	num(b().Expire().Key("s").Seconds(100).Build(), 1)
	if ttl, err := c.Do(ctx, b().Ttl().Key("s").Build()).AsInt64(); err != nil || ttl < 90 || ttl > 100 {
		t.Errorf("TTL s = %d, %v; want about 100", ttl, err)
	}
	num(b().Persist().Key("s").Build(), 1)
	num(b().Ttl().Key("s").Build(), -1)
	str(b().Set().Key("short").Value("x").PxMilliseconds(50).Build(), "OK")
	time.Sleep(150 * time.Millisecond)
	num(b().Exists().Key("short").Build(), 0)
	num(b().Del().Key("m1", "m2").Build(), 2)

	// Lists, with a blocking pop (rueidis gives it a dedicated connection).
	num(b().Rpush().Key("l").Element("a", "b", "c").Build(), 3)
	strs(b().Lrange().Key("l").Start(0).Stop(-1).Build(), false, "a", "b", "c")
	str(b().Lpop().Key("l").Build(), "a")
	str(b().Lmove().Source("l").Destination("l2").Left().Right().Build(), "b")
	strs(b().Blpop().Key("l2").Timeout(0.5).Build(), false, "l2", "b")
	if err := c.Do(ctx, b().Blpop().Key("l2").Timeout(0.1).Build()).Error(); !rueidis.IsRedisNil(err) {
		t.Errorf("BLPOP l2 0.1 on an empty list: %v; want a nil reply", err)
	}

	// Hashes: HGETALL is a RESP3 map.
	num(b().Hset().Key("h").FieldValue().FieldValue("f1", "v1").FieldValue("f2", "v2").Build(), 2)
	hm, err := c.Do(ctx, b().Hgetall().Key("h").Build()).AsStrMap()
	expectEq(t, "HGETALL h", hm, err, map[string]string{"f1": "v1", "f2": "v2"})
	wantType(b().Hgetall().Key("h").Build(), "map")
	num(b().Hincrby().Key("h").Field("n").Increment(3).Build(), 3)
	str(b().Hget().Key("h").Field("n").Build(), "3")
	num(b().Hdel().Key("h").Field("f2").Build(), 1)
	num(b().Hlen().Key("h").Build(), 2)

	// Sets: SMEMBERS is a RESP3 set.
	num(b().Sadd().Key("st").Member("a", "b", "c").Build(), 3)
	strs(b().Smembers().Key("st").Build(), true, "a", "b", "c")
	wantType(b().Smembers().Key("st").Build(), "set")
	num(b().Sismember().Key("st").Member("b").Build(), 1)
	num(b().Scard().Key("st").Build(), 3)

	// Sorted sets: scores are RESP3 doubles.
	num(b().Zadd().Key("z").ScoreMember().ScoreMember(1, "a").ScoreMember(2.5, "b").ScoreMember(-3, "c").Build(), 3)
	zs, err := c.Do(ctx, b().Zrange().Key("z").Min("0").Max("-1").Withscores().Build()).AsZScores()
	expectEq(t, "ZRANGE z 0 -1 WITHSCORES", zs, err, []rueidis.ZScore{{Member: "c", Score: -3}, {Member: "a", Score: 1}, {Member: "b", Score: 2.5}})
	f, err := c.Do(ctx, b().Zscore().Key("z").Member("b").Build()).AsFloat64()
	expectEq(t, "ZSCORE z b", f, err, 2.5)
	wantType(b().Zscore().Key("z").Member("b").Build(), "float64")
	if m, err := c.Do(ctx, b().Zscore().Key("z").Member("b").Build()).ToMessage(); err != nil || !m.IsFloat64() {
		t.Errorf("ZSCORE z b: %v, %v; want a RESP3 double", m, err)
	}
	num(b().Zrank().Key("z").Member("b").Build(), 2)
	zs, err = c.Do(ctx, b().Zpopmin().Key("z").Build()).AsZScores()
	expectEq(t, "ZPOPMIN z", zs, err, []rueidis.ZScore{{Member: "c", Score: -3}})

	// An explicit pipeline (DoMulti) and rueidis's automatic pipelining of
	// concurrent Do calls on one connection.
	cmds := make(rueidis.Commands, 0, 200)
	for i := range 100 {
		cmds = append(cmds, b().Set().Key("p:"+strconv.Itoa(i)).Value(strconv.Itoa(i)).Build(), b().Incr().Key("p:counter").Build())
	}
	for i, r := range c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			t.Errorf("DoMulti command %d (%s): %v", i, strings.Join(cmds[i].Commands(), " "), err)
			break
		}
	}
	num(b().Get().Key("p:counter").Build(), 100)
	const workers, perWorker = 20, 50
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range perWorker {
				if err := c.Do(ctx, b().Incr().Key("auto").Build()).Error(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("concurrent INCR auto: %v", err)
		}
	}
	num(b().Get().Key("auto").Build(), workers*perWorker)

	// SCAN to the end.
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		e, err := c.Do(ctx, b().Scan().Cursor(cursor).Match("p:*").Count(30).Build()).AsScanEntry()
		if err != nil {
			t.Errorf("SCAN %d MATCH p:*: %v", cursor, err)
			break
		}
		for _, k := range e.Elements {
			seen[k] = true
		}
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	if len(seen) != 101 {
		t.Errorf("SCAN MATCH p:* found %d distinct keys; want 101", len(seen))
	}

	// Server commands whose replies clients parse.
	cfg, err := c.Do(ctx, b().ConfigGet().Parameter("maxmemory-policy", "databases").Build()).AsStrMap()
	expectEq(t, "CONFIG GET maxmemory-policy databases", cfg, err, map[string]string{"maxmemory-policy": "noeviction", "databases": "16"})
	wantType(b().ConfigGet().Parameter("databases").Build(), "map")
	info, err := c.Do(ctx, b().Info().Section("server").Build()).ToString()
	if err != nil || !strings.Contains(info, "\r\nredis_version:7.") {
		t.Errorf("INFO server = %q, %v; want redis_version:7.x", info, err)
	}
	hello, err := c.Do(ctx, b().Hello().Protover(3).Build()).AsMap()
	proto := hello["proto"]
	if p, perr := proto.AsInt64(); err != nil || perr != nil || p != 3 {
		t.Errorf("HELLO 3: proto %d, %v, %v; want a map with proto 3", p, err, perr)
	}
	cmdInfo, err := c.Do(ctx, b().CommandInfo().CommandName("get").Build()).ToArray()
	if err != nil || len(cmdInfo) != 1 {
		t.Errorf("COMMAND INFO get = %v, %v", cmdInfo, err)
	}
	if err := c.Do(ctx, b().Lpush().Key("s").Element("x").Build()).Error(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Errorf("LPUSH on a string: %v; want WRONGTYPE", err)
	}
	str(b().Flushdb().Build(), "OK")
}

// rueidisCache checks client-side caching (redis-server only): a second
// DoCache is served from the cache, and a write invalidates it.
func rueidisCache(t *testing.T, ctx context.Context, c rueidis.Client) {
	t.Helper()
	c.Do(ctx, c.B().Set().Key("cached").Value("1").Build())
	for i := range 2 {
		r := c.DoCache(ctx, c.B().Get().Key("cached").Cache(), time.Minute)
		if v, err := r.ToString(); err != nil || v != "1" || r.IsCacheHit() != (i == 1) {
			t.Errorf("DoCache GET cached #%d = %q, %v, cache hit %v", i, v, err, r.IsCacheHit())
		}
	}
	c.Do(ctx, c.B().Set().Key("cached").Value("2").Build())
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := c.DoCache(ctx, c.B().Get().Key("cached").Cache(), time.Minute).ToString()
		if err == nil && v == "2" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("DoCache GET cached after SET cached 2 = %q, %v; the invalidation never came", v, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientsScript runs scripts/clients-test.sh: node-redis (RESP3) and
// redis-py (Debian's python3-redis) against this harness's servers, one
// ringkv per backend (or redis-server under RINGKV_E2E_SERVER=redis).
func TestClientsScript(t *testing.T) {
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: node-redis not tested (scripts/clients-test.sh needs node 18+ and npm)", bin)
		}
	}
	var servers []string
	if harness.kind == "ringkv" {
		for _, b := range backends() {
			if b == "uring" && ioUringDisabled() {
				continue
			}
			servers = append(servers, "ringkv-"+b)
		}
	} else {
		servers = []string{harness.kind}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/clients-test.sh")
	cmd.Env = append(cmd.Environ(), "SERVERS="+strings.Join(servers, " "), "RINGKV_BIN="+harness.bin)
	out, err := cmd.CombinedOutput()
	t.Logf("scripts/clients-test.sh (SERVERS=%q):\n%s", strings.Join(servers, " "), out)
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		t.Skip("npm cannot reach its registry: node-redis and redis-py not tested")
	}
	if err != nil {
		t.Fatalf("scripts/clients-test.sh: %v (its output is above)", err)
	}
}
