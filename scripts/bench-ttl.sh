#!/usr/bin/env bash
# scripts/bench-ttl.sh: the TTL-heavy benchmark of issue 5, ringkv and
# redis-server 7 side by side in one run.
#
# For each server (fresh start, pinned to CPU 0; clients pinned to CPU 1):
#   1. load KEYS keys with SET key:%012d v PX ttl, the TTLs spread evenly over
#      SPREAD_MS after LEAD_MS (redis-cli --pipe, as fast as it goes);
#   2. GET random keys of that key space with ringkv-bench in open loop at
#      RATE requests/s for LEAD_MS+SPREAD_MS+1 s, i.e. while every key expires:
#      GET p50/p95/p99/p99.9 (coordinated-omission-free);
#   3. meanwhile and after, poll DBSIZE (which expires nothing itself) every
#      50 ms: "gone" is the time from the last key's TTL until DBSIZE is 0 with
#      no client touching the keys; used_memory and RSS are read before the
#      load, after it and once the keys are gone.
# The servers alternate (ringkv, redis, ringkv, redis ...) for ROUNDS rounds.
#
# Environment: KEYS=1000000 SPREAD_MS=10000 LEAD_MS=2000 RATE=50000 CONNS=50
#   ROUNDS=2 IO=auto RINGKV_PORT=16390 REDIS_PORT=16391
#   RINGKV_BIN=... to test a given binary instead of building ./cmd/ringkv-server
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
SPREAD_MS=${SPREAD_MS:-10000}
LEAD_MS=${LEAD_MS:-2000}
RATE=${RATE:-50000}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-2}
IO=${IO:-auto}
RINGKV_PORT=${RINGKV_PORT:-16390}
REDIS_PORT=${REDIS_PORT:-16391}

for bin in redis-server redis-cli taskset flock python3; do
	command -v "$bin" >/dev/null || { echo "bench-ttl: $bin is not installed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench-ttl: needs 2 CPUs (server on CPU 0, clients on CPU 1)" >&2; exit 1; }

# Never two benchmarks at once: they would share the CPUs they measure.
exec 9>/tmp/ringkv-bench.lock
if ! flock -n 9; then
	echo "bench-ttl: another benchmark holds /tmp/ringkv-bench.lock; waiting for it"
	flock 9
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${RINGKV_BIN:-}" ]; then
	ringkv_bin=$RINGKV_BIN
else
	go build -o "$work/ringkv-server" ./cmd/ringkv-server
	ringkv_bin=$work/ringkv-server
fi
go build -o "$work/ringkv-bench" ./cmd/ringkv-bench

# The load, once: RESP for redis-cli --pipe. Key i expires LEAD_MS +
# i*SPREAD_MS/KEYS ms after the server reads it.
python3 - "$KEYS" "$SPREAD_MS" "$LEAD_MS" >"$work/load.resp" <<'EOF'
import sys
n, spread, lead = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout
for i in range(n):
    k = "key:%012d" % i
    ttl = str(lead + i * spread // n)
    out.write("*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nPX\r\n$%d\r\n%s\r\n" % (len(k), k, len(ttl), ttl))
EOF

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
info_field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'; }

wait_ready() {
	for _ in $(seq 100); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench-ttl: server on port $1 did not start" >&2
	exit 1
}

# run_one NAME PORT CMD...: one fresh server, one measurement; appends a
# line of results to $work/results.
run_one() {
	local name=$1 port=$2
	shift 2
	taskset -c 0 "$@" >"$work/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	wait_ready "$port"
	local mem0 rss0
	mem0=$(info_field "$port" used_memory)
	rss0=$(rss_kb "$pid")

	local t0 t1
	t0=$(now_ms)
	taskset -c 1 redis-cli -p "$port" --pipe <"$work/load.resp" >"$work/$name.pipe" 2>&1
	t1=$(now_ms)
	local loaded mem1 rss1
	loaded=$(redis-cli -p "$port" dbsize)
	mem1=$(info_field "$port" used_memory)
	rss1=$(rss_kb "$pid")
	# The last key was read at t1 at the latest: its TTL ends by then.
	local last_ttl=$((t1 + LEAD_MS + SPREAD_MS))

	# DBSIZE poller: the first time it reads 0.
	(
		while :; do
			n=$(redis-cli -p "$port" dbsize 2>/dev/null || echo err)
			if [ "$n" = 0 ]; then now_ms >"$work/$name.gone"; break; fi
			[ "$(now_ms)" -gt $((last_ttl + 60000)) ] && { echo never >"$work/$name.gone"; break; }
			sleep 0.05
		done
	) &
	local poller=$!

	local dur_ms=$((last_ttl + 1000 - $(now_ms)))
	taskset -c 1 "$work/ringkv-bench" -p "$port" -q -rate "$RATE" -c "$CONNS" -r "$KEYS" \
		-duration "${dur_ms}ms" -warmup 0 -json "$work/$name.json" get key:__rand_int__ >/dev/null
	wait "$poller"
	local gone mem2 rss2
	gone=$(cat "$work/$name.gone")
	mem2=$(info_field "$port" used_memory)
	rss2=$(rss_kb "$pid")
	kill "$pid"
	wait "$pid" 2>/dev/null || true

	python3 - "$work/$name.json" "$name" "$loaded" "$((t1 - t0))" "$gone" "$last_ttl" "$mem0" "$mem1" "$mem2" "$rss0" "$rss1" "$rss2" >>"$work/results" <<'EOF'
import json, sys
f, name, loaded, load_ms, gone, last, m0, m1, m2, r0, r1, r2 = sys.argv[1:]
d = json.load(open(f))
if isinstance(d, list):
    d = d[0]
lat = d["all"]["latency"]
gone_ms = "never" if gone == "never" else "%+d" % (int(gone) - int(last))
mb = lambda b: "%.0f" % (int(b) / 1e6)
print("%-7s %8s %7s %9.0f %8.1f %8.1f %8.1f %8.1f %8.0f %9s   %5s/%5s/%5s MB   %5s/%5s/%5s MB" % (
    name, loaded, load_ms, d["all"]["ops_per_sec"], lat["p50_us"], lat["p95_us"], lat["p99_us"],
    lat["p99_9_us"], lat["max_us"], gone_ms, mb(m0), mb(m1), mb(m2),
    mb(int(r0) * 1024), mb(int(r1) * 1024), mb(int(r2) * 1024)))
EOF
}

echo "bench-ttl: $KEYS keys, TTLs spread over ${SPREAD_MS} ms after ${LEAD_MS} ms; GET at $RATE/s open loop, $CONNS connections; $ROUNDS rounds"
echo "ringkv: $ringkv_bin (--io $IO); redis: $(redis-server --version | awk '{print $3}')"
for round in $(seq "$ROUNDS"); do
	order=(ringkv redis)
	[ $((round % 2)) = 0 ] && order=(redis ringkv)
	for srv in "${order[@]}"; do
		if [ "$srv" = ringkv ]; then
			run_one ringkv "$RINGKV_PORT" "$ringkv_bin" --port "$RINGKV_PORT" --io "$IO" --appendonly no
		else
			run_one redis "$REDIS_PORT" redis-server --port "$REDIS_PORT" --save '' --appendonly no
		fi
	done
done
echo
echo "GET latency in us while the keys expire; gone = ms from the last TTL until DBSIZE 0 (no client touching keys);"
echo "used_memory and RSS before the load / after it / once the keys are gone"
printf "%-7s %8s %7s %9s %8s %8s %8s %8s %8s %9s   %-17s   %s\n" server keys load_ms get/s p50 p95 p99 p99.9 max gone used_memory rss
sort -s -k1,1 "$work/results"
