#!/bin/sh
# tinyml.sh: prints the TinyML benchmark table of README.md ("TinyML
# workloads") for this machine: median latency per inference of each MLPerf
# Tiny model in int8 and fp32 with the reference and the optimized kernels,
# MAC rate, speed-up, and the workload interface's per-inference overhead.
# Usage: tests/bench/tinyml.sh [build_dir] [seconds_per_cell] [workload options]
# (default: the official MLPerf Tiny models; "weights=synthetic" for seeded ones)
set -eu
BUILD=${1:-build}
SECS=${2:-1.0}
cmake --build "$BUILD" --target tinyml_bench >/dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cpus"
echo "single thread, median of >= ${SECS} s per cell; load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo
"$BUILD/tests/tinyml_bench" "$SECS" ${3:+"$3"}
