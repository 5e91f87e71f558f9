#!/bin/bash
# bench/gotrace.sh: gscope import + analyze --section sched against
# `go tool trace -pprof=sched` on large Go execution traces.
#
# Generates >= 20 MB traces with the fixture workload: `big` (ping-pong,
# spawn waves and long user logs) under Go 1.19 (v1 format) and Go 1.23
# (v2 format), and `mixed` (all six workloads) under Go 1.19.  Then runs
# both tools REPS times each on each trace,
# interleaved, each measured run after one unmeasured warm-up run of the
# same command, and prints the median CPU time (user+sys) and peak RSS of
# each, their ratios, and gscope's events per CPU-second.  The VM's speed
# drifts over minutes, for both tools alike, so the median of each run's
# own ratio (the two tools timed back to back) is printed as well.  Last,
# gscope alone on the v1 and the v2 file, interleaved run by run: its
# events per CPU-second on the one against the other.
#   usage: bench/gotrace.sh [REPS]        (default 7; run from the repo root)
set -euo pipefail
REPS=${1:-7}
OUT=build/bench/gotrace
GOFIX=build/gofix
mkdir -p "$OUT" "$GOFIX/cache"
make -s all >/dev/null
GSCOPE=build/gscope

gobin() { # version -> go binary
	case $1 in
	1.19) if [ -x /usr/lib/go-1.19/bin/go ]; then echo /usr/lib/go-1.19/bin/go; else command -v go; fi ;;
	*) echo "/usr/lib/go-$1/bin/go" ;;
	esac
}

build_workload() { # version -> path of the built workload
	local v=$1 go bin
	go=$(gobin "$v")
	bin=$GOFIX/$v/workload
	mkdir -p "$GOFIX/$v"
	if [ ! -x "$bin" ] || [ fixtures/go/workload/main.go -nt "$bin" ]; then
		GO111MODULE=off GOPATH="$PWD/$GOFIX/cache/gopath" GOCACHE="$PWD/$GOFIX/cache/$v" \
			GOFLAGS=-trimpath "$go" build -o "$bin" fixtures/go/workload/main.go
	fi
	echo "$bin"
}

# The trace as a file read from disk: written back, dropped from the page
# cache and read again.  The kernel caches a file read with readahead in
# large folios, one just written by small writes (as the Go runtime writes
# its trace) in 4 KiB pages, and that state would stay for every run.
# Reading 20 MB from the small pages costs 1.1-1.7 ms more CPU, through
# mmap (gscope) and through read() (go tool trace) alike.
settle() { # file
	sync "$1"
	dd if="$1" iflag=nocache count=0 status=none
	cat "$1" >/dev/null
}

make_trace() { # version [mode [first-scale]] -> trace path (>= 20 MB)
	local v=$1 mode=${2:-big} scale=${3:-1} bin t
	bin=$(build_workload "$v")
	t=$OUT/$mode-go${v/./}.trace
	if [ ! -s "$t" ] || [ "$(stat -c %s "$t")" -lt 20000000 ]; then
		while :; do
			"$bin" "$mode" -procs 2 -scale "$scale" -o "$t" >/dev/null
			[ "$(stat -c %s "$t")" -ge 20000000 ] && break
			scale=$((scale * 2))
		done
	fi
	settle "$t"
	echo "$t"
}

# run CMD...: prints "cpu_seconds peak_kib" (wait4 rusage, microseconds;
# /usr/bin/time rounds to 10 ms, too coarse for gscope's runs)
CPUTIME=$OUT/cputime
if [ ! -x "$CPUTIME" ] || [ bench/cputime.c -nt "$CPUTIME" ]; then
	${CC:-cc} -O2 -Wall -Wextra -o "$CPUTIME" bench/cputime.c
fi
measure() {
	"$CPUTIME" "$@"
}

gscope_run() { # trace -> "cpu peak"
	local a b
	a=$(measure "$GSCOPE" import "$1" -o "$OUT/b.gst")
	b=$(measure "$GSCOPE" analyze --section sched "$OUT/b.gst")
	echo "$a $b" | awk '{ printf "%.4f %d\n", $1 + $3, ($2 > $4 ? $2 : $4) }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

go_events_of() { # trace -> its number of Go events, as gscope imports it
	"$GSCOPE" import "$1" -o "$OUT/b.gst" 2>/dev/null
	"$GSCOPE" info --json "$OUT/b.gst" | awk -F'[:,]' '/"go_events"/ { gsub(/ /, "", $2); print $2; exit }'
}

bench_one() { # version [mode [first-scale]]
	local v=$1 t go events gcpu=() gmem=() rcpu=() rmem=() pair=() i r
	t=$(make_trace "$@")
	go=$(gobin "$v")
	events=$(go_events_of "$t")
	# interleaved; each measured run follows an unmeasured one of the same
	# command (a warm-up, as hyperfine --warmup 1), so that neither tool is
	# timed with caches just emptied by the other's 0.9 GB run
	for ((i = 0; i < REPS; i++)); do
		gscope_run "$t" >/dev/null
		r=$(gscope_run "$t"); gcpu+=("${r% *}"); gmem+=("${r#* }")
		measure "$go" tool trace -pprof=sched "$t" >/dev/null
		r=$(measure "$go" tool trace -pprof=sched "$t"); rcpu+=("${r% *}"); rmem+=("${r#* }")
		pair+=("$(awk -v g="${gcpu[i]}" -v r="${rcpu[i]}" 'BEGIN { printf "%.2f", r / g }')")
	done
	local gc gm rc rm
	gc=$(printf '%s\n' "${gcpu[@]}" | median); gm=$(printf '%s\n' "${gmem[@]}" | median)
	rc=$(printf '%s\n' "${rcpu[@]}" | median); rm=$(printf '%s\n' "${rmem[@]}" | median)
	echo "trace=$t bytes=$(stat -c %s "$t") go_events=$events reps=$REPS"
	echo "  gscope import+analyze: cpu_s=$gc peak_mib=$((gm / 1024))"
	echo "  go${v} tool trace -pprof=sched: cpu_s=$rc peak_mib=$((rm / 1024))"
	awk -v gc="$gc" -v rc="$rc" -v gm="$gm" -v rm="$rm" -v ev="$events" \
		-v pr="$(printf '%s\n' "${pair[@]}" | median)" \
		-v lo="$(printf '%s\n' "${pair[@]}" | sort -n | head -1)" \
		-v hi="$(printf '%s\n' "${pair[@]}" | sort -n | tail -1)" 'BEGIN {
		printf "  cpu_ratio=%.1fx (go tool trace / gscope)\n", rc / (gc > 0 ? gc : 0.001)
		printf "  cpu_ratio_paired=%.1fx (median of the %d runs\x27 own ratios; %.1fx to %.1fx)\n", pr, '"$REPS"', lo, hi
		printf "  memory_ratio=%.3f (gscope / go tool trace)\n", gm / rm
		printf "  gscope_events_per_cpu_s=%.0f\n", ev / (gc > 0 ? gc : 0.001)
	}'
}

# gscope's events per CPU-second on the v2 file against the v1 file, the
# two interleaved run by run (3 * REPS pairs) so that the VM's drift hits
# both alike: the median of the pairs' ratios, and of each file's runs
v2_vs_v1() {
	local t1 t2 e1 e2 i a b r1=() r2=() pr=()
	t1=$(make_trace 1.19); t2=$(make_trace 1.23)
	e1=$(go_events_of "$t1"); e2=$(go_events_of "$t2")
	for ((i = 0; i < 3 * REPS; i++)); do
		a=$(gscope_run "$t1"); a=${a% *}
		b=$(gscope_run "$t2"); b=${b% *}
		r1+=("$a"); r2+=("$b")
		pr+=("$(awk -v a="$a" -v b="$b" -v e1="$e1" -v e2="$e2" 'BEGIN { printf "%.3f", (e2 / b) / (e1 / a) }')")
	done
	a=$(printf '%s\n' "${r1[@]}" | median); b=$(printf '%s\n' "${r2[@]}" | median)
	echo "gscope v2 file against v1 file, interleaved, $((3 * REPS)) runs each:"
	awk -v a="$a" -v b="$b" -v e1="$e1" -v e2="$e2" \
		-v pr="$(printf '%s\n' "${pr[@]}" | median)" 'BEGIN {
		printf "  v1: cpu_s=%.4f events_per_cpu_s=%.0f\n", a, e1 / a
		printf "  v2: cpu_s=%.4f events_per_cpu_s=%.0f\n", b, e2 / b
		printf "  v2_events_per_s_vs_v1=%.3f (median of the pairs\x27 ratios)\n", pr
	}'
}

echo "bench/gotrace: $(nproc) CPUs, medians of $REPS runs (CPU = user + sys)"
bench_one 1.19
bench_one 1.23
v2_vs_v1
# the mix of goroutine storms, ping-pong, mutexes, syscalls and GC, 5 M
# events, like the 24 MB trace of the issue (go tool trace: 1.6-1.9 GB)
bench_one 1.19 mixed 64
