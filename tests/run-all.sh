#!/bin/sh
# Run every test suite of `make check` and print one summary line last:
# "N passed, N failed" (Criterion unit tests, golden CLI tests, fuzzing).
set -u
OUTPUT=${OUTPUT:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# Criterion leaks a few bytes of its own at exit; gscope code is not exempt
LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export OUTPUT FUZZ_SECONDS LSAN_OPTIONS
total_pass=0 total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); }

echo "== unit tests (Criterion)"
[ "$(id -u)" = 0 ] || echo "note: not root: the BPF tests will be skipped"
"$OUTPUT/tests/unit-tests" --jobs 2 2>&1 | tee "$log"
rc=$?
syn=$(grep 'Synthesis:' "$log" | tail -1)
if [ -n "$syn" ]; then
	p=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$syn" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	add "${p:-0}" $(( ${f:-0} + ${c:-0} ))
	[ "$rc" -eq 0 ] || [ $(( ${f:-0} + ${c:-0} )) -gt 0 ] || add 0 1
else
	echo "unit tests: no Criterion synthesis line (exit $rc)"
	add 0 1
fi

echo "== golden CLI tests"
sh tests/golden/run.sh 2>&1 | tee "$log"
line=$(tail -1 "$log")
p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
add "${p:-0}" "${f:-1}"

echo "== fuzzing (${FUZZ_SECONDS}s)"
bash tests/fuzz/run.sh 2>&1 | tee "$log"
line=$(tail -1 "$log")
p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
add "${p:-0}" "${f:-1}"

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
