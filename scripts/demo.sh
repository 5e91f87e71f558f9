#!/bin/bash
# make demo: record a bundled Go workload and analyse it.
#   1. build fixtures/go/workload with Go 1.23 (Go 1.19 if that is all there is)
#   2. run its mixed workload (goroutine storms, channels, mutexes, syscalls,
#      GC, tasks) writing a runtime/trace execution trace
#   3. gscope import + gscope analyze; gscope record --godebug of the same
#      program; gscope info of a synthetic trace of every packet kind
set -euo pipefail
OUTPUT=${OUTPUT:-build}
out=$OUTPUT/demo
mkdir -p "$out"
G=$OUTPUT/gofix
go=/usr/lib/go-1.23/bin/go
[ -x "$go" ] || go=$(command -v go)
ver=$("$go" env GOVERSION)
bin=$G/demo-$ver/workload
if [ ! -x "$bin" ] || [ fixtures/go/workload/main.go -nt "$bin" ]; then
	echo "demo: building fixtures/go/workload with $ver (first time: ~30 s)" >&2
	mkdir -p "$G/demo-$ver"
	GO111MODULE=off GOTOOLCHAIN=local GOPROXY=off GOFLAGS="-trimpath -buildvcs=false" \
		CGO_ENABLED=0 GOPATH="$PWD/$G/cache/gopath" GOCACHE="$PWD/$G/cache/$ver" \
		"$go" build -o "$bin" fixtures/go/workload/main.go
fi
echo "demo: running the mixed workload under runtime/trace" >&2
"$bin" mixed -procs 2 -o "$out/mixed.trace" >/dev/null
echo "demo: gscope import $out/mixed.trace -o $out/mixed.gst" >&2
"$OUTPUT/gscope" import "$out/mixed.trace" -o "$out/mixed.gst"
"$OUTPUT/gscope" analyze "$out/mixed.gst" | tee "$out/mixed.analysis.txt"
"$OUTPUT/gscope" analyze --json "$out/mixed.gst" > "$out/mixed.analysis.json"
echo "demo: gscope record --godebug -- workload gc (GODEBUG schedtrace + gctrace)" >&2
"$OUTPUT/gscope" record --godebug --schedtrace 100 -o "$out/godebug.gst" -- \
	"$bin" gc -procs 2 -o "$out/gc.trace" >/dev/null
"$OUTPUT/gscope" analyze --section sched,gc "$out/godebug.gst" | tail -n 25
"$OUTPUT/tests/gst-synth" -H -n 1000000 -g -m -o "$out/sample.gst" >/dev/null
"$OUTPUT/gscope" info "$out/sample.gst" > "$out/sample.info.txt"
echo >&2
echo "demo: wrote $out/mixed.analysis.txt, $out/mixed.analysis.json, $out/godebug.gst, $out/sample.info.txt" >&2
