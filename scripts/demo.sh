#!/bin/sh
# make demo: write a sample trace and inspect it.
# (Recording a live Go workload joins this demo with the collector.)
set -eu
OUTPUT=${OUTPUT:-build}
out=$OUTPUT/demo
mkdir -p "$out"
echo "demo: writing a synthetic trace of 1,000,000 events to $out/sample.gst" >&2
"$OUTPUT/tests/gst-synth" -H -n 1000000 -g -m -o "$out/sample.gst" >/dev/null
echo "demo: gscope info $out/sample.gst" >&2
"$OUTPUT/gscope" info "$out/sample.gst"
"$OUTPUT/gscope" info --json "$out/sample.gst" > "$out/sample.info.json"
"$OUTPUT/gscope" dump "$out/sample.gst" > "$out/sample.dump.txt"
echo >&2
echo "demo: wrote $out/sample.info.json and $out/sample.dump.txt ($(wc -l < "$out/sample.dump.txt") lines)" >&2
