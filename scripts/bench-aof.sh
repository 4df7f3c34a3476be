#!/usr/bin/env bash
# scripts/bench-aof.sh: SET throughput and latency with the AOF, ringkv and
# redis-server 7 with the same settings, in one run (issue 7's closing
# benchmark).
#
# Configurations, for each server: appendonly no (the baseline), then
# appendonly yes with appendfsync no, everysec and always. Each (config,
# server, round) is a fresh start on an empty data directory (under a
# temporary directory on the same filesystem as TMPDIR: put TMPDIR on the
# disk you care about; a tmpfs makes fsync free); the server is pinned to
# CPU 0, redis-benchmark to CPU 1:
#   redis-benchmark -t set -c 50 -P 1 -r 100000 -d 32 -n N --csv
# The servers alternate within each configuration, for ROUNDS rounds; the
# table shows the median of the rounds and the ratios: ringkv/redis, and
# each policy against the same server without persistence. Besides
# requests/s and latency it shows the server's CPU time per request
# (utime + stime of all its threads, from /proc/PID/stat, over the run),
# which other load on the machine disturbs less than throughput.
#
# Environment: ROUNDS=3 N=200000 N_ALWAYS=N/4 (always is fsync-bound: fewer
# requests keep the run short) POLICIES="off no everysec always" (off must
# stay: the ratios are against it) IO=auto RINGKV_PORT=16392 REDIS_PORT=16393
#   RINGKV_BIN=... to test a given binary instead of building ./cmd/ringkv-server
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
N_ALWAYS=${N_ALWAYS:-$((N / 4))}
POLICIES=${POLICIES:-off no everysec always}
IO=${IO:-auto}
RINGKV_PORT=${RINGKV_PORT:-16392}
REDIS_PORT=${REDIS_PORT:-16393}
CLIENTS=50

for bin in redis-server redis-cli redis-benchmark taskset flock python3 getconf; do
	command -v "$bin" >/dev/null || { echo "bench-aof: $bin is not installed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench-aof: needs 2 CPUs (server on CPU 0, client on CPU 1)" >&2; exit 1; }

# Never two benchmarks at once: they would share the CPUs they measure.
exec 9>/tmp/ringkv-bench.lock
if ! flock -n 9; then
	echo "bench-aof: another benchmark holds /tmp/ringkv-bench.lock; waiting for it"
	flock 9
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-bench-aof.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${RINGKV_BIN:-}" ]; then
	ringkv_bin=$RINGKV_BIN
else
	go build -o "$work/ringkv-server" ./cmd/ringkv-server
	ringkv_bin=$work/ringkv-server
fi

CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: utime + stime of the whole process, in clock ticks (fields
# counted after the ")" that ends the command name).
cpu_ticks() {
	local rest
	rest=$(<"/proc/$1/stat")
	rest=${rest##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo $((${12} + ${13}))
}

wait_ready() {
	for _ in $(seq 100); do
		[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench-aof: server on port $1 did not start; its log:" >&2
	cat "$work/server.log" >&2
	exit 1
}

# run_one SERVER POLICY ROUND: one fresh server, one redis-benchmark run;
# appends "server policy rps p50 p99 cpu_us_per_request" to $work/results.
run_one() {
	local srv=$1 policy=$2 round=$3 port data n args
	data=$work/data-$srv-$policy-$round
	mkdir -p "$data"
	args=(--bind 127.0.0.1 --save '' --dir "$data")
	if [ "$policy" = off ]; then
		args+=(--appendonly no)
	else
		args+=(--appendonly yes --appendfsync "$policy" --auto-aof-rewrite-percentage 0)
	fi
	n=$N
	[ "$policy" = always ] && n=$N_ALWAYS
	if [ "$srv" = ringkv ]; then
		port=$RINGKV_PORT
		taskset -c 0 "$ringkv_bin" --port "$port" --io "$IO" "${args[@]}" >"$work/server.log" 2>&1 &
	else
		port=$REDIS_PORT
		args+=(--aof-use-rdb-preamble no)
		taskset -c 0 redis-server --port "$port" "${args[@]}" >"$work/server.log" 2>&1 &
	fi
	server_pid=$!
	wait_ready "$port"
	local t0 t1
	t0=$(cpu_ticks "$server_pid")
	taskset -c 1 redis-benchmark -p "$port" -t set -c "$CLIENTS" -P 1 -r 100000 -d 32 -n "$n" --csv >"$work/out.csv" 2>/dev/null
	# The AOF must have grown: a run that persisted nothing measures nothing.
	t1=$(cpu_ticks "$server_pid")
	local size
	size=$(du -sb "$data" | cut -f1)
	kill -TERM "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
	if [ "$policy" != off ] && [ "$size" -lt $((n * 40)) ]; then
		echo "bench-aof: $srv $policy wrote only $size bytes for $n SETs" >&2
		exit 1
	fi
	python3 - "$work/out.csv" "$srv" "$policy" "$((t1 - t0))" "$CLK_TCK" "$n" >>"$work/results" <<'EOF'
import csv, sys
f, srv, policy, ticks, tck, n = sys.argv[1:]
rows = list(csv.DictReader(open(f)))
r = rows[0]
print(srv, policy, r["rps"], r["p50_latency_ms"], r["p99_latency_ms"], int(ticks) / int(tck) / int(n) * 1e6)
EOF
	rm -rf "$data"
}

echo "bench-aof: SET, -c $CLIENTS, pipeline 1, 32-byte values, 100000 keys; N=$N (always: $N_ALWAYS); $ROUNDS rounds"
echo "ringkv: $ringkv_bin (--io $IO); redis: $(redis-server --version | awk '{print $3}'); data in $(df -P "$work" | awk 'NR == 2 {print $1}') ($(stat -f -c %T "$work"))"
for policy in $POLICIES; do
	for round in $(seq "$ROUNDS"); do
		order=(ringkv redis)
		[ $((round % 2)) = 0 ] && order=(redis ringkv)
		for srv in "${order[@]}"; do
			run_one "$srv" "$policy" "$round"
		done
	done
	echo "  $policy done"
done
echo
python3 - "$work/results" $POLICIES <<'EOF'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    srv, policy, *vals = line.split()
    res.setdefault((srv, policy), []).append([float(v) for v in vals])
med = {k: [statistics.median(x[i] for x in v) for i in range(4)] for k, v in res.items()}
names = {"off": "appendonly no", "no": "appendfsync no", "everysec": "appendfsync everysec", "always": "appendfsync always"}
print("%-21s %9s %7s %7s %7s %9s %7s %7s %7s %8s %8s %8s" % (
    "medians", "ringkv/s", "p50 ms", "p99 ms", "cpu us", "redis/s", "p50 ms", "p99 ms", "cpu us",
    "rk/redis", "rk/off", "redis/off"))
for p in sys.argv[2:]:
    a, b = med[("ringkv", p)], med[("redis", p)]
    print("%-21s %9.0f %7.3f %7.3f %7.2f %9.0f %7.3f %7.3f %7.2f %7.2fx %7.2fx %8.2fx" % (
        names[p], a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], a[0] / b[0],
        a[0] / med[("ringkv", "off")][0], b[0] / med[("redis", "off")][0]))
print("throughput ratios: rk/redis = ringkv/redis-server with the same policy; rk/off, redis/off = the policy")
print("against the same server with appendonly no; cpu us = the server's CPU time per request")
EOF
