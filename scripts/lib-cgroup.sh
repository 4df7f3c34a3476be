# shellcheck shell=bash disable=SC2034  # cg_mode, cg_root, cg_why are read by the caller
# scripts/lib-cgroup.sh: the CPU cap the benchmark scripts put on the servers
# they measure, so that the server and not the load generator is the
# bottleneck. Sourced, not run. The caller sets QUOTA (us per PERIOD, or
# "max" for no cap), PERIOD and CG_PREFIX (the cgroups' name prefix), calls
# cg_detect once, cap_pid NAME PID for each server, and cg_cleanup on exit.
#
# cgroup v2 (a unified hierarchy at /sys/fs/cgroup) is used when it is
# writable; a v1 cpu controller is the fallback; otherwise the servers run
# uncapped (cg_mode=none, cg_why says why) and only CPU-per-request figures
# stay comparable.

# cg_detect sets cg_mode (v2, v1 or none), cg_root and cg_why.
cg_detect() {
	cg_mode=none cg_root='' cg_why=''
	made_cgroups=()
	if [ "$QUOTA" = max ]; then
		cg_why="QUOTA=max"
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cg_root=/sys/fs/cgroup
		if ! grep -qw cpu "$cg_root/cgroup.subtree_control" 2>/dev/null; then
			echo +cpu >"$cg_root/cgroup.subtree_control" 2>/dev/null || true
		fi
		if grep -qw cpu "$cg_root/cgroup.subtree_control" 2>/dev/null && [ -w "$cg_root" ]; then
			cg_mode=v2
		else
			cg_why="cgroup v2 at $cg_root is not writable or has no cpu controller"
		fi
	elif [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] && [ -w /sys/fs/cgroup/cpu ]; then
		cg_mode=v1
		cg_root=/sys/fs/cgroup/cpu
		cg_why="no cgroup v2 hierarchy at /sys/fs/cgroup; using the v1 cpu controller"
	else
		cg_why="no writable cgroup v2 (or v1 cpu) hierarchy at /sys/fs/cgroup"
	fi
}

# cap_pid NAME PID: moves PID into cgroup $CG_PREFIX-NAME with the quota.
cap_pid() {
	local name=$1 pid=$2 dir
	[ "$cg_mode" = none ] && return 0
	dir=$cg_root/$CG_PREFIX-$name
	if [[ " ${made_cgroups[*]} " != *" $dir "* ]]; then
		# A directory left by an interrupted run is reused and reset.
		if ! mkdir -p "$dir" 2>/dev/null; then
			echo "cannot create $dir; running uncapped" >&2
			cg_mode=none cg_why="mkdir $dir failed"
			return 0
		fi
		made_cgroups+=("$dir")
		if [ "$cg_mode" = v2 ]; then
			echo "$QUOTA $PERIOD" >"$dir/cpu.max"
		else
			echo "$PERIOD" >"$dir/cpu.cfs_period_us"
			echo "$QUOTA" >"$dir/cpu.cfs_quota_us"
		fi
	fi
	echo "$pid" >"$dir/cgroup.procs"
}

# cg_cleanup removes the cgroups cap_pid made (their processes must be gone).
cg_cleanup() {
	local dir
	for dir in "${made_cgroups[@]}"; do
		rmdir "$dir" 2>/dev/null || echo "could not remove $dir" >&2
	done
	made_cgroups=()
}
