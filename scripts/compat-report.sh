#!/usr/bin/env bash
# scripts/compat-report.sh: prints ringkv's compatibility table with Redis 7.0,
# per command family (the "group" of redis-server's COMMAND DOCS): how many of
# Redis's commands there are, how many ringkv implements (its COMMAND LIST),
# and how many differential cases (scripted, randomised, protocol torture)
# ran and passed against a real redis-server. README.md carries its output.
#
# Needs redis-server (Redis 7) on PATH. Environment: RINGKV_COMPAT_N, the
# number of random commands (default: the CI run's).
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The tests' own verdict is reported, not hidden: a failing case shows in the
# table as passed < run, and the script exits non-zero.
rc=0
RINGKV_COMPAT_REPORT="$out" go test -count=1 -run 'TestScripts|TestRandom|TestProtocolTorture' ./compat >&2 || rc=$?
echo "Redis: $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p'), ringkv: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
cat "$out"
exit $rc
