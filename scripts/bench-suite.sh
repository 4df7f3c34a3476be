#!/usr/bin/env bash
# scripts/bench-suite.sh: ringkv-bench's own suite against ringkv and
# redis-server 7, each workload in compare mode (A = ringkv, B = redis-server,
# interleaved A B A B ...), written up as a markdown report with the ratios.
#
# Both servers run pinned to SERVER_CPU and, where a cgroup CPU quota can be
# set (cgroup v2 cpu.max, or the v1 cpu controller), capped at QUOTA us per
# 100 ms, so that the server and not ringkv-bench (pinned to CLIENT_CPU) is
# the bottleneck. Whatever the cap, the report also gives each server's CPU
# time per command (utime + stime from /proc/PID/stat over the workload,
# divided by INFO's total_commands_processed over it), the figure that does
# not depend on the cap.
#
# A workload a server refuses (a command it does not implement) is reported
# as such, with ringkv-bench's message, and run against the other alone.
#
# Environment:
#   ROUNDS=3            compare rounds per workload and pipeline
#   DURATION=5s         measured time per run; WARMUP=1s before it
#   PIPELINES="1 16"    pipeline depths; CLIENTS=50 connections
#   WORKLOADS="ping get set mixed write-heavy ttl list zset"
#   RATE=               also run "get" in open loop at RATE req/s (e.g. 50000)
#   QUOTA=40000         cgroup quota per 100000 us period; QUOTA=max: uncapped
#   IO=auto             ringkv's --io backend
#   SERVER_CPU=0 CLIENT_CPU=1 RINGKV_PORT=16390 REDIS_PORT=16391
#   OUT=bench-suite.md  the report; JSON, .hgrm and HTML plots go to OUT's
#                       name with .d appended
#   RINGKV_BENCH_LOCKED=1  the caller already holds the benchmark lock
#                       (${TMPDIR:-/tmp}/ringkv-bench.lock, shared with
#                       bench-vs-redis.sh); without it this script takes it
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
PIPELINES=${PIPELINES:-"1 16"}
CLIENTS=${CLIENTS:-50}
WORKLOADS=${WORKLOADS:-"ping get set mixed write-heavy ttl list zset"}
RATE=${RATE:-}
QUOTA=${QUOTA:-40000}
PERIOD=100000
IO=${IO:-auto}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RINGKV_PORT=${RINGKV_PORT:-16390}
REDIS_PORT=${REDIS_PORT:-16391}
OUT=${OUT:-bench-suite.md}
outdir=$OUT.d

for bin in redis-server redis-cli taskset getconf jq; do
	command -v "$bin" >/dev/null || { echo "bench-suite: $bin is not installed" >&2; exit 1; }
done

if [ -z "${RINGKV_BENCH_LOCKED:-}" ]; then
	# Never two benchmarks at once: they would share the CPUs they measure.
	exec 9>"${TMPDIR:-/tmp}/ringkv-bench.lock"
	if ! flock -n 9; then
		echo "bench-suite: another benchmark holds ${TMPDIR:-/tmp}/ringkv-bench.lock; waiting for it"
		flock 9
	fi
fi

go build -o bin/ringkv-server ./cmd/ringkv-server
go build -o bin/ringkv-bench ./cmd/ringkv-bench
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$outdir"

# ---- cgroup CPU cap (scripts/lib-cgroup.sh) ----------------------------------
CG_PREFIX=ringkv-suite
# shellcheck source=scripts/lib-cgroup.sh
source scripts/lib-cgroup.sh
cg_detect

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	cg_cleanup 2>/dev/null
}
trap cleanup EXIT

start() { # start NAME PORT CMD...: pinned, capped; sets started_pid
	local name=$1 port=$2
	shift 2
	taskset -c "$SERVER_CPU" "$@" >"$outdir/$name.log" 2>&1 &
	started_pid=$!
	pids+=("$started_pid")
	cap_pid "$name" "$started_pid"
	for _ in $(seq 100); do
		redis-cli -p "$port" PING >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench-suite: $name did not start on port $port; see $outdir/$name.log" >&2
	exit 1
}
start ringkv "$RINGKV_PORT" bin/ringkv-server --port "$RINGKV_PORT" --io "$IO"
ringkv_pid=$started_pid
start redis "$REDIS_PORT" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
redis_pid=$started_pid

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
commands() { redis-cli -p "$1" INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" {print $2}'; }
# cpu_per_cmd TICKS0 TICKS1 CMDS0 CMDS1: server CPU microseconds per command
cpu_per_cmd() { awk -v t0="$1" -v t1="$2" -v c0="$3" -v c1="$4" -v hz="$CLK_TCK" \
	'BEGIN { if (c1 > c0) printf "%.2f", (t1 - t0) * 1e6 / hz / (c1 - c0); else printf "-" }'; }

bench=(taskset -c "$CLIENT_CPU" bin/ringkv-bench -h 127.0.0.1 -p "$RINGKV_PORT" --label ringkv
	--compare "127.0.0.1:$REDIS_PORT" --compare-label redis-server
	-c "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" --prefill -q)

summary=() details=()
run_one() { # run_one WORKLOAD PIPELINE [extra flags...]
	local w=$1 p=$2 tag rt0 rc0 dt0 dc0 rt1 rc1 dt1 dc1 log
	shift 2
	tag=$w.P$p${RATE:+${1:+.rate$RATE}}
	log=$outdir/$tag.txt
	rt0=$(cpu_ticks "$ringkv_pid") rc0=$(commands "$RINGKV_PORT")
	dt0=$(cpu_ticks "$redis_pid") dc0=$(commands "$REDIS_PORT")
	echo "bench-suite: $tag"
	if "${bench[@]}" -t "$w" -P "$p" "$@" --json "$outdir/$tag.json" --plot "$outdir/$tag.html" --hgrm "$outdir/$tag" >"$log" 2>&1; then
		rt1=$(cpu_ticks "$ringkv_pid") rc1=$(commands "$RINGKV_PORT")
		dt1=$(cpu_ticks "$redis_pid") dc1=$(commands "$REDIS_PORT")
		summary+=("$(jq -r --arg w "$tag" --arg ca "$(cpu_per_cmd "$rt0" "$rt1" "$rc0" "$rc1")" \
			--arg cb "$(cpu_per_cmd "$dt0" "$dt1" "$dc0" "$dc1")" '
			def f(n): .figures[] | select(.name == n);
			def r(x): (x * 1000 | round) / 1000;
			"| \($w) | \(f("all req/s").median_a | round) | \(f("all req/s").median_b | round) | " +
			"\(r(f("all req/s").ratio_median)) (\(r(f("all req/s").ratio_min))-\(r(f("all req/s").ratio_max))) | " +
			"\(r(f("all p50 ms").median_a)) / \(r(f("all p50 ms").median_b)) | " +
			"\(r(f("all p99 ms").median_a)) / \(r(f("all p99 ms").median_b)) | " +
			"\(r(f("all p99.9 ms").median_a)) / \(r(f("all p99.9 ms").median_b)) | \($ca) | \($cb) |"' "$outdir/$tag.json")")
	elif grep -q "does not implement" "$log"; then
		summary+=("| $tag | not implemented | | | | | | | |")
		echo "bench-suite: $tag: ringkv does not implement it; running against redis-server alone"
		{ echo "ringkv: $(grep -o 'does not implement.*' "$log")"; echo; } >"$log.ringkv"
		taskset -c "$CLIENT_CPU" bin/ringkv-bench -p "$REDIS_PORT" --label redis-server -t "$w" -P "$p" "$@" \
			-c "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP" --json "$outdir/$tag.json" >"$log" 2>&1 || true
		cat "$log.ringkv" "$log" >"$log.tmp" && mv "$log.tmp" "$log" && rm -f "$log.ringkv"
	else
		summary+=("| $tag | failed: see $log | | | | | | | |")
	fi
	details+=("$tag")
}

for w in $WORKLOADS; do
	for p in $PIPELINES; do
		run_one "$w" "$p"
	done
done
if [ -n "$RATE" ]; then
	run_one get 1 --rate "$RATE"
fi

{
	echo "# ringkv-bench suite: ringkv against redis-server $(redis-server --version | grep -o 'v=[^ ]*' | cut -c3-)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))."
	echo "Servers pinned to CPU $SERVER_CPU, ringkv-bench to CPU $CLIENT_CPU; ringkv --io $IO."
	if [ "$cg_mode" = none ]; then
		echo "Servers uncapped ($cg_why): compare the CPU-per-command columns."
	else
		echo "Servers capped at $QUOTA/$PERIOD us of CPU (cgroup $cg_mode)."
	fi
	echo "$CLIENTS connections, $ROUNDS interleaved rounds (ringkv, redis-server, ringkv, ...) of $DURATION after $WARMUP warm-up, keys prefilled."
	echo "Ratios are ringkv / redis-server per round: median (min-max). Latencies in ms, ringkv / redis-server."
	echo
	echo "Command: \`ROUNDS=$ROUNDS DURATION=$DURATION PIPELINES=\"$PIPELINES\" WORKLOADS=\"$WORKLOADS\" QUOTA=$QUOTA${RATE:+ RATE=$RATE} scripts/bench-suite.sh\`"
	echo
	echo "| workload | ringkv req/s | redis req/s | ratio | p50 | p99 | p99.9 | ringkv CPU us/cmd | redis CPU us/cmd |"
	echo "|---|---:|---:|---|---|---|---|---:|---:|"
	printf '%s\n' "${summary[@]}"
	echo
	echo "JSON, .hgrm and latency-by-percentile plots (HTML) per workload are in \`$outdir/\`."
	for tag in "${details[@]}"; do
		echo
		echo "## $tag"
		echo
		echo '```'
		cat "$outdir/$tag.txt"
		echo '```'
	done
} >"$OUT"
echo "bench-suite: wrote $OUT"
