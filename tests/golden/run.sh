#!/bin/sh
# Golden CLI tests.  Each tests/golden/<case>/cmd holds one shell command
# line run from the repository root with $GSCOPE set to the binary under
# test; its stdout, stderr and exit code must equal <case>/expected.
# UPDATE_GOLDEN=1 rewrites the expected files.  Last line:
# "N passed, N failed".
set -u
OUTPUT=${OUTPUT:-build}
GSCOPE=${GSCOPE:-$OUTPUT/gscope}
SYNTH=${SYNTH:-$OUTPUT/tests/gst-synth}
GSCOPE=$(realpath "$GSCOPE")
tmp=$(mktemp -d)
GOLDEN_TMP=$tmp/work
mkdir -p "$GOLDEN_TMP"
export GSCOPE SYNTH GOLDEN_TMP
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

run_case() {
	dir=$1
	rm -rf "$GOLDEN_TMP" && mkdir -p "$GOLDEN_TMP"
	sh -c "$(cat "$dir/cmd")" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	{
		cat "$tmp/out"
		echo "--- stderr"
		cat "$tmp/err"
		echo "--- exit $rc"
	} >"$tmp/actual"
}

for dir in tests/golden/*/; do
	dir=${dir%/}
	name=${dir##*/}
	[ -f "$dir/cmd" ] || continue
	run_case "$dir"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$tmp/actual" "$dir/expected"
	fi
	if cmp -s "$tmp/actual" "$dir/expected"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "golden: FAIL $name: $(cat "$dir/cmd")"
		diff -u "$dir/expected" "$tmp/actual" | head -40
	fi
done

# The writer is deterministic: regenerating the committed sample traces
# must give the same bytes (format stability across changes).
mkdir -p "$tmp/fix"
if fixtures/traces/make.sh "$SYNTH" "$tmp/fix"; then
	for f in fixtures/traces/*.gst; do
		if cmp -s "$f" "$tmp/fix/${f##*/}"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "golden: FAIL writer output for ${f##*/} differs from the committed fixture"
		fi
	done
else
	fail=$((fail + 1))
	echo "golden: FAIL fixtures/traces/make.sh"
fi

# `gscope help CMD` and `gscope CMD -h` print the same text.
for c in record import analyze info dump; do
	if [ "$("$GSCOPE" help $c)" = "$("$GSCOPE" $c -h)" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "golden: FAIL 'gscope help $c' differs from 'gscope $c -h'"
	fi
done

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
