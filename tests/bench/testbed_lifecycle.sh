#!/usr/bin/env bash
# Times the test bed's lifecycle on a warm cache: `up` from stopped (existing data), `up` when already running,
# `down`, and `up --fresh` (empty databases), RUNS times each; prints the wall seconds of each run and the median.
# usage: bash tests/bench/testbed_lifecycle.sh [RUNS]   (default 3; the test bed is left down)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tb=$root/tests/testbed/testbed
runs=${1:-3}
"$tb" build >/dev/null
"$tb" down >/dev/null 2>&1

time_it() { local t0; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() { local name=$1; shift; printf '%-28s median %6s s   runs: %s\n' "$name" "$(median "$@")" "$*"; }

declare -a fresh=() stopped=() running=() down=()
"$tb" up >/dev/null 2>&1; "$tb" down >/dev/null 2>&1   # warm-up: first start after a build augments Keycloak
for _ in $(seq "$runs"); do
  fresh+=("$(time_it "$tb" up --fresh)")
  running+=("$(time_it "$tb" up)")
  down+=("$(time_it "$tb" down)")
  stopped+=("$(time_it "$tb" up)")
  "$tb" down >/dev/null 2>&1
done
report "up --fresh (empty data)" "${fresh[@]}"
report "up (stopped, data kept)" "${stopped[@]}"
report "up (already running)" "${running[@]}"
report "down" "${down[@]}"
