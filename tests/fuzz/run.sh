#!/bin/bash
# Run every libFuzzer harness for FUZZ_SECONDS seconds in total, seeded
# with small valid traces.  Prints "N passed, N failed" (one per harness).
set -u
OUTPUT=${OUTPUT:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ=build/fuzz
SYNTH=$OUTPUT/tests/gst-synth
corpus=$FUZZ/corpus
mkdir -p "$corpus/reader" "$corpus/batch"

# seeds: small traces of every packet kind, with and without compression
if [ ! -e "$corpus/reader/seed-1.gst" ]; then
	$SYNTH -S -n 60 -s 1 -g -m -o "$corpus/reader/seed-1.gst" >/dev/null &&
	$SYNTH -S -n 100 -s 2 -g -m -z -1 -b 4096 -o "$corpus/reader/seed-2.gst" >/dev/null &&
	$SYNTH -S -n 300 -s 3 -G 100 -b 4096 -o "$corpus/reader/seed-3.gst" >/dev/null ||
		{ echo "fuzz: cannot make seeds with $SYNTH"; echo "0 passed, 1 failed"; exit 1; }
	cp fixtures/traces/*.gst "$corpus/reader/" 2>/dev/null || true
	# an imported Go 1.19 trace: Go event batches that keep ticks
	v1=../shared/corpus/gotrace/v1-public/http_1_19_good
	if [ -x "$OUTPUT/gscope" ] && [ -f "$v1" ]; then
		"$OUTPUT/gscope" import "$v1" -o "$corpus/reader/seed-v1.gst" >/dev/null 2>&1 || true
	fi
fi
# seeds from the shared corpus (real inputs), where present
shared=../shared/corpus
seed() { # harness files...
	local dir=$corpus/$1
	shift
	mkdir -p "$dir"
	[ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
	for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/"; done
	return 0
}
seed pprof $shared/gotrace/generated/*.sched.pprof
seed gotrace_v1 $shared/gotrace/v1-public/*_good $shared/gotrace/malformed/v1_fuzz_gotraceui/*
seed gotrace_v2 $shared/gotrace/v2-public/bin/*.trace $shared/gotrace/malformed/v2_fuzz_xexp/*
seed godebug $shared/godebug/*
seed batch tests/fuzz/regress/batch/* # (Go event batches with ticks among them)

set -- $FUZZ/fuzz_*
n=$#
per=$(( FUZZ_SECONDS / n ))
[ "$per" -ge 1 ] || per=1
pass=0 fail=0
for bin in "$@"; do
	name=${bin##*/fuzz_}
	dir=$corpus/$name
	mkdir -p "$dir"
	log=$FUZZ/$name.log
	# inputs that once crashed a harness run first, every time
	if [ -d "tests/fuzz/regress/$name" ]; then
		if ! "$bin" tests/fuzz/regress/"$name"/* >"$log" 2>&1; then
			fail=$((fail + 1))
			echo "fuzz: $name FAILED on a regression input; tail of $log:"
			tail -20 "$log"
			continue
		fi
	fi
	echo "fuzz: $name for ${per}s"
	if "$bin" -max_total_time="$per" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$FUZZ/$name-" "$dir" >"$log" 2>&1; then
		pass=$((pass + 1))
		grep -E '^stat::number_of_executed_units' "$log" | sed 's/^/fuzz:   /'
	else
		fail=$((fail + 1))
		echo "fuzz: $name FAILED; tail of $log:"
		tail -40 "$log"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
