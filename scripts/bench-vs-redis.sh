#!/usr/bin/env bash
# scripts/bench-vs-redis.sh: redis-benchmark against ringkv and redis-server 7
# on this machine, interleaved, reported as medians and ratios.
#
# Each server runs pinned to CPU 0 and, where a cgroup CPU quota can be set,
# capped at QUOTA of one core, so that the server and not redis-benchmark
# (pinned to CPU 1) is the bottleneck. Besides requests/s the script records
# the server's own CPU time over each run (utime + stime from /proc/PID/stat)
# divided by the requests: CPU microseconds per request, the figure that does
# not depend on the cap (see DESIGN.md, "Performance budget").
#
# Each (server, round) is a fresh start; within it SET runs before GET (so
# GET finds its key), each at pipeline 1 and 16, one benchmark at a time.
# The order of the two servers alternates between rounds.
#
# Environment:
#   ROUNDS=3          interleaved rounds per server
#   N=200000          requests per run at pipeline 1
#   N_PIPELINED=8*N   requests per run at pipeline 16 (runs that short are noisy)
#   QUOTA=40000       cgroup CPU quota in us per 100000 us period (40% of a core);
#                     QUOTA=max runs uncapped
#   RINGKV_BIN=...    server binary to test instead of building ./cmd/ringkv-server
#                     (e.g. RINGKV_BIN=$(command -v redis-server) to check the script)
#   IO=auto           ringkv's --io backend (auto, uring or epoll)
#   RINGKV_PORT=16380 REDIS_PORT=16381
#   RSS_KEYS=1000000  keys loaded (SET key:N with a 32-byte value, through
#                     redis-cli --pipe) before reading each server's RSS;
#                     RSS_KEYS=0 skips it
#   SUITE=1           also run ringkv-bench's suite (scripts/bench-suite.sh)
#                     against both; SUITE=0 skips it. SUITE_* variables are
#                     passed on without the prefix (e.g. SUITE_WORKLOADS="get set")
#   REPORT=bench-report.md  the markdown report this script writes
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
N=${N:-200000}
N_PIPELINED=${N_PIPELINED:-$((N * 8))}
QUOTA=${QUOTA:-40000}
PERIOD=100000
IO=${IO:-auto}
RINGKV_PORT=${RINGKV_PORT:-16380}
REDIS_PORT=${REDIS_PORT:-16381}
RSS_KEYS=${RSS_KEYS:-1000000}
SUITE=${SUITE:-1}
REPORT=${REPORT:-bench-report.md}
TESTS=(set get)
PIPELINES=(1 16)
CLIENTS=50

for bin in redis-server redis-cli redis-benchmark taskset getconf; do
	command -v "$bin" >/dev/null || { echo "bench-vs-redis: $bin is not installed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench-vs-redis: needs 2 CPUs (server on CPU 0, client on CPU 1)" >&2; exit 1; }

# Never two benchmarks at once: they would share the CPUs they measure.
exec 9>"${TMPDIR:-/tmp}/ringkv-bench.lock"
if ! flock -n 9; then
	echo "bench-vs-redis: another benchmark holds ${TMPDIR:-/tmp}/ringkv-bench.lock; waiting for it"
	flock 9
fi

if [ -n "${RINGKV_BIN:-}" ]; then
	ringkv_bin=$RINGKV_BIN
	echo "ringkv binary: $ringkv_bin (RINGKV_BIN)"
else
	go build -o bin/ringkv-server ./cmd/ringkv-server
	ringkv_bin=bin/ringkv-server
fi
redis_bin=$(command -v redis-server)
CLK_TCK=$(getconf CLK_TCK)
work=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-bench.XXXXXX")

# ---- cgroup CPU cap (scripts/lib-cgroup.sh) ----------------------------------
CG_PREFIX=ringkv-bench
# shellcheck source=scripts/lib-cgroup.sh
source scripts/lib-cgroup.sh
cg_detect

# ---- servers ----------------------------------------------------------------
server_pid=

start_server() {
	local name=$1 port=$2 args
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "bench-vs-redis: port $port is already in use (set ${name^^}_PORT)" >&2
		return 1
	fi
	args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no)
	if [ "$name" = ringkv ]; then
		# --io only where the binary is ringkv (RINGKV_BIN may be redis-server).
		case "$(basename "$ringkv_bin")" in
		redis-server*) ;;
		*) args+=(--io "$IO") ;;
		esac
		taskset -c 0 "$ringkv_bin" "${args[@]}" >"$work/$name.log" 2>&1 &
	else
		(cd "$work" && exec taskset -c 0 "$redis_bin" "${args[@]}" >"$work/$name.log" 2>&1) &
	fi
	server_pid=$!
	cap_pid "$name" "$server_pid"
	for _ in $(seq 100); do
		if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then
			# Say once which backend --io auto chose (ringkv logs it).
			if [ "$name" = ringkv ] && [ -z "${backend_line:-}" ]; then
				backend_line=$(grep -m1 'io backend' "$work/$name.log" || true)
				[ -n "$backend_line" ] && echo "  ringkv: ${backend_line#* * }"
			fi
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench-vs-redis: $name did not answer PING on port $port; its log:" >&2
	cat "$work/$name.log" >&2
	return 1
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

bench_pid=
cleanup() {
	if [ -n "$bench_pid" ]; then
		kill -TERM "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	stop_server
	cg_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID: utime + stime of the whole process, in clock ticks. Fields
# are counted after the ")" that ends the command name, which may hold spaces.
cpu_ticks() {
	local rest
	rest=$(<"/proc/$1/stat")
	rest=${rest##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo $((${12} + ${13}))
}

# ---- runs -------------------------------------------------------------------
# results: one line per run: server test pipeline rps cpu_us_per_request
results=$work/results

run_one() {
	local name=$1 port=$2 test=$3 p=$4 n t0 t1 out rps
	n=$N
	[ "$p" -gt 1 ] && n=$N_PIPELINED
	t0=$(cpu_ticks "$server_pid")
	# In the background and waited for, so that a signal's trap runs at
	# once instead of after the benchmark (bash defers traps while a
	# foreground child runs).
	timeout 600 taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$n" -t "$test" -P "$p" -q --csv \
		>"$work/bench.out" 2>&1 &
	bench_pid=$!
	if ! wait "$bench_pid"; then
		bench_pid=
		echo "bench-vs-redis: redis-benchmark failed against $name: $(cat "$work/bench.out")" >&2
		return 1
	fi
	bench_pid=
	t1=$(cpu_ticks "$server_pid")
	out=$(<"$work/bench.out")
	# --csv: a header line, then "TEST","rps",...
	rps=$(printf '%s\n' "$out" | awk -F'","' -v t="${test^^}" '$1 == "\"" t { print $2 }')
	if [ -z "$rps" ]; then
		echo "bench-vs-redis: no $test result from redis-benchmark against $name:" >&2
		printf '%s\n' "$out" >&2
		return 1
	fi
	awk -v name="$name" -v test="$test" -v p="$p" -v rps="$rps" -v dt=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$n" \
		'BEGIN { printf "%s %s %s %.0f %.3f\n", name, test, p, rps, dt / hz * 1e6 / n }' >>"$results"
	tail -n 1 "$results" | awk '{ printf "  %-6s %-3s P=%-2s %10s req/s  %7s us CPU/req\n", $1, $2, $3, $4, $5 }'
}

echo "bench-vs-redis: $ROUNDS rounds, N=$N (pipeline 1), N=$N_PIPELINED (pipeline 16), -c $CLIENTS"
if [ "$cg_mode" = none ]; then
	echo "CPU cap: none ($cg_why): the servers run uncapped on CPU 0, so requests/s may measure redis-benchmark;"
	echo "         compare the CPU-per-request columns"
else
	echo "CPU cap: cgroup $cg_mode, $QUOTA/$PERIOD us per period on CPU 0${cg_why:+ ($cg_why)}"
fi

for round in $(seq "$ROUNDS"); do
	order=(ringkv redis)
	[ $((round % 2)) -eq 0 ] && order=(redis ringkv)
	for name in "${order[@]}"; do
		port=$RINGKV_PORT
		[ "$name" = redis ] && port=$REDIS_PORT
		echo "round $round/$ROUNDS: $name"
		start_server "$name" "$port"
		for test in "${TESTS[@]}"; do
			for p in "${PIPELINES[@]}"; do
				run_one "$name" "$port" "$test" "$p"
			done
		done
		stop_server
	done
done

# median NAME TEST P COLUMN
median() {
	awk -v s="$1" -v t="$2" -v p="$3" -v c="$4" '$1 == s && $2 == t && $3 == p { print $c }' "$results" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "Medians of $ROUNDS rounds; ratio = ringkv rps / redis rps; CPU = server utime+stime per request."
echo "Kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), ringkv --io $IO,"
echo "$("$redis_bin" --version | cut -d' ' -f1-3), cap: $([ "$cg_mode" = none ] && echo none || echo "$QUOTA/$PERIOD us")."
echo
echo "| test | pipeline | ringkv rps (median) | redis rps (median) | ratio | ringkv µs CPU/req | redis µs CPU/req |"
echo "|---|---|---|---|---|---|---|"
for test in "${TESTS[@]}"; do
	for p in "${PIPELINES[@]}"; do
		k_rps=$(median ringkv "$test" "$p" 4)
		r_rps=$(median redis "$test" "$p" 4)
		k_cpu=$(median ringkv "$test" "$p" 5)
		r_cpu=$(median redis "$test" "$p" 5)
		awk -v t="${test^^}" -v p="$p" -v kr="$k_rps" -v rr="$r_rps" -v kc="$k_cpu" -v rc="$r_cpu" \
			'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", t, p, kr, rr, (rr > 0 ? kr / rr : 0), kc, rc }'
	done
done

# ---- memory: RSS after loading RSS_KEYS keys --------------------------------
# Uncapped (loading is not what is measured); the same generated RESP stream
# goes to both servers through redis-cli --pipe.
rss_table=
if [ "$RSS_KEYS" -gt 0 ]; then
	echo
	echo "memory: loading $RSS_KEYS keys into each server"
	awk -v n="$RSS_KEYS" 'BEGIN { v = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
		for (i = 0; i < n; i++) { k = "key:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$32\r\n%s\r\n", length(k), k, v } }' >"$work/load.resp"
	saved_mode=$cg_mode
	cg_mode=none
	rss_table="| server | keys | RSS after loading (MiB) | bytes per key |"$'\n'"|---|---|---|---|"
	for name in ringkv redis; do
		port=$RINGKV_PORT
		[ "$name" = redis ] && port=$REDIS_PORT
		start_server "$name" "$port"
		base=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
		redis-cli -p "$port" --pipe <"$work/load.resp" >"$work/pipe.out" 2>&1 || { cat "$work/pipe.out" >&2; exit 1; }
		keys=$(redis-cli -p "$port" DBSIZE)
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
		echo "  $name: $keys keys, VmRSS $((rss / 1024)) MiB (empty: $((base / 1024)) MiB)"
		rss_table+=$'\n'"$(awk -v n="$name" -v k="$keys" -v r="$rss" -v b="$base" 'BEGIN { printf "| %s | %d | %.1f | %.0f |", n, k, r / 1024, (r - b) * 1024 / k }')"
		stop_server
	done
	cg_mode=$saved_mode
fi

# ---- the report -------------------------------------------------------------
{
	echo "# ringkv vs redis-server"
	echo
	echo "Made by \`scripts/bench-vs-redis.sh\` (ROUNDS=$ROUNDS N=$N N_PIPELINED=$N_PIPELINED QUOTA=$QUOTA IO=$IO RSS_KEYS=$RSS_KEYS)"
	echo "on $(date -u +%Y-%m-%d). Kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"
	echo "$(nproc) CPUs; servers on CPU 0$([ "$cg_mode" = none ] || echo ", capped at $QUOTA/$PERIOD us per period"), clients on CPU 1."
	echo
	echo "## redis-benchmark -c $CLIENTS (medians of $ROUNDS interleaved rounds)"
	echo
	echo "| test | pipeline | ringkv rps | redis rps | ratio | ringkv µs CPU/req | redis µs CPU/req |"
	echo "|---|---|---|---|---|---|---|"
	for test in "${TESTS[@]}"; do
		for p in "${PIPELINES[@]}"; do
			awk -v t="${test^^}" -v p="$p" -v kr="$(median ringkv "$test" "$p" 4)" -v rr="$(median redis "$test" "$p" 4)" \
				-v kc="$(median ringkv "$test" "$p" 5)" -v rc="$(median redis "$test" "$p" 5)" \
				'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", t, p, kr, rr, (rr > 0 ? kr / rr : 0), kc, rc }'
		done
	done
	if [ -n "$rss_table" ]; then
		echo
		echo "## Memory"
		echo
		echo "$rss_table"
	fi
} >"$REPORT"

# ---- ringkv-bench's suite ---------------------------------------------------
if [ "$SUITE" = 1 ]; then
	echo
	echo "ringkv-bench suite (scripts/bench-suite.sh)"
	suite_env=()
	while IFS='=' read -r k v; do
		[[ $k == SUITE_* ]] && suite_env+=("${k#SUITE_}=$v")
	done < <(env)
	env "${suite_env[@]}" RINGKV_BENCH_LOCKED=1 QUOTA="$QUOTA" IO="$IO" ROUNDS="$ROUNDS" OUT="$work/suite.md" \
		scripts/bench-suite.sh
	{
		echo
		echo "## ringkv-bench suite"
		echo
		sed '1{/^# /d}' "$work/suite.md"
	} >>"$REPORT"
fi
echo
echo "report written to $REPORT"
