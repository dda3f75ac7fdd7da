#!/bin/bash
# device-run.sh: build, test and benchmark the CUDA back-end on the GPU
# machine in one call (device time is scarce: one call does everything).
#
# The GPU machine lacks some of joulebench's build dependencies (Google
# Benchmark, libpfm4, maybe jansson/sqlite3/cmocka), and nothing can be
# installed there from a registry. So the Debian 12 packages travel with the
# call (.gpu/debs, fetched here with apt-get download) and are unpacked into
# a private prefix, never into /, and CMake and the loader are pointed at it.
#
# Here (the machine with the checkout), from the repository root (.gpu is
# the folder the device tool carries; BRANCH_DIR: the tree to measure):
#   mkdir -p .gpu/debs && (cd .gpu/debs && apt-get download \
#     libbenchmark-dev libbenchmark1debian libpfm4 libpfm4-dev libjansson-dev libjansson4 \
#     libcmocka-dev libcmocka0 libsqlite3-dev libsqlite3-0 libhwloc-dev libhwloc15 \
#     pkgconf pkgconf-bin libpkgconf3)
#   rsync -a --delete --exclude 'build*' --exclude .git BRANCH_DIR/ .gpu/src/
# Then the device tool's run, carry [".gpu"]:
#   bash .gpu/src/platforms/cuda/device-run.sh [test|bench|suite|quick|all] [bench plan file]
# (all takes more than the device tool's 10 minutes a call since the runner
# lengthens each NVML repetition to 10 s; run test, bench, suite separately.)
# Logs and results go to $OUT (the device tool brings them back).
set -u
MODE=${1:-all}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DEBS=${JB_DEBS:-$SRC/../debs}
PFX=${JB_DEPS_PREFIX:-/tmp/jb-deps}
BUILD=${JB_BUILD:-/tmp/jb-build}
OUT=${OUT:-/tmp/jb-out}
LOGS=/tmp/jb-logs
mkdir -p "$OUT" "$PFX" "$LOGS"
# At most 8 files come back from $OUT: side logs go to $LOGS, tarred at the end.
trap 'tar -C "$LOGS" -czf "$OUT/logs.tar.gz" . 2>/dev/null' EXIT
exec > >(tee -a "$OUT/device-run.log") 2>&1

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit,clocks.max.sm,clocks.max.mem \
  --format=csv 2>&1 | head -3
nvcc --version | tail -1

echo "== dependencies into $PFX"
for f in "$DEBS"/*.deb; do dpkg -x "$f" "$PFX"; done
LIBDIR=$PFX/usr/lib/x86_64-linux-gnu
# Debian's .pc files say prefix=/usr: point them at the private prefix.
sed -i "s#^prefix=/usr\$#prefix=$PFX/usr#" "$LIBDIR"/pkgconfig/*.pc
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig:$PFX/usr/share/pkgconfig
export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PKGCONF=$(command -v pkg-config || echo "$PFX/usr/bin/pkgconf")

echo "== configure and build"
# JB_WERROR=OFF: that image's gcc warns where Debian 12's does not (freopen
# unused result in a test); warnings stay errors in CI.
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$PFX/usr" -DCMAKE_INCLUDE_PATH="$PFX/usr/include" \
  -DCMAKE_LIBRARY_PATH="$LIBDIR" -DPKG_CONFIG_EXECUTABLE="$PKGCONF" \
  -DJB_WERROR=OFF -DCMAKE_CUDA_FLAGS="-Xptxas=-v" > "$LOGS/configure.log" 2>&1 || { tail -30 "$LOGS/configure.log"; exit 1; }
grep -i 'joulebench' "$LOGS/configure.log"
cmake --build "$BUILD" -j16 > "$LOGS/build.log" 2>&1 || { grep -E 'error|FAILED' -A5 "$LOGS/build.log" | head -60; exit 1; }
# Register and spill report of the kernels (ptxas -v), for the README.
grep -E "Compiling entry|registers|spill" "$LOGS/build.log" | grep -B1 -E 'k_gemv|k_attn|registers' | \
  grep -E 'bytes stack|Used' | sort | uniq -c | sort -rn | head -20 > "$OUT/ptxas.txt" || true

if [ "$MODE" = test ] || [ "$MODE" = all ]; then
  echo "== tests (CUDA ones verbose)"
  (cd "$BUILD" && ctest -R cuda --output-on-failure -V > "$OUT/ctest-cuda.log" 2>&1; echo "ctest cuda rc=$?")
  grep -E "rel err|refused|skipping|PASSED|FAILED|SKIPPED|Error|error" "$OUT/ctest-cuda.log" | head -60
fi

if [ "$MODE" = bench ] || [ "$MODE" = all ]; then
  echo "== benchmark"
  # The independent reading of the energy counter (another process).
  nvidia-smi --query-gpu=total_energy_consumption,power.draw,power.draw.average,power.draw.instant \
    --format=csv 2>&1 | head -3
  if [ -x "$BUILD/tests/jb_cuda_bench" ]; then
    "$BUILD/tests/jb_cuda_bench" ${2:-"$SRC/docs/results/cuda/h100-bench-plan.txt"} "$OUT/bench.csv" 2>&1 | tee "$OUT/bench.log"
  else
    echo "no jb_cuda_bench built"
  fi
fi

if [ "$MODE" = quick ]; then
  # One run through the ordinary runner with the nvml power source: the
  # end-to-end path of the suite in a minute.
  echo "== joulebench run (one configuration) --power nvml"
  "$BUILD/joulebench" run --workload cuda-llama3.2-1b --backend cuda --dtype bf16 \
    --scenario offline --batch 8 --context 2048 --repetitions 2 --power nvml \
    --out /tmp/jb-records --format table 2>&1 | tee "$OUT/suite.log"
  tar -C /tmp -czf "$OUT/records.tar.gz" jb-records
fi

if [ "$MODE" = tinyml ]; then
  # The MLPerf Tiny models on the GPU through the runner, NVML energy.
  echo "== joulebench run --suite tinyml-gpu --power nvml"
  "$BUILD/joulebench" run --suite tinyml-gpu --power nvml --out /tmp/jb-tinyml \
    --format table > "$OUT/tinyml.log" 2>&1
  echo "tinyml suite rc=$?"
  tail -25 "$OUT/tinyml.log"
  tar -C /tmp -czf "$OUT/tinyml-records.tar.gz" jb-tinyml
fi

if [ "$MODE" = dryrun ]; then
  # The sweep's plan against the real GPU's limits: reads only (this
  # workplace forbids changing the lent GPU's settings).
  nvidia-smi --query-gpu=power.limit,clocks.applications.graphics --format=csv
  "$BUILD/joulebench" sweep --workload cuda-copy --backend cuda --power-limit 100:800:100 --dry-run
  echo "dry-run power rc=$?"
  "$BUILD/joulebench" sweep --workload cuda-copy --backend cuda --gpu-clock 900:2100:300 --dry-run
  echo "dry-run clocks rc=$?"
  nvidia-smi --query-gpu=power.limit,clocks.applications.graphics --format=csv
fi

if [ "$MODE" = suite ] || [ "$MODE" = all ]; then
  echo "== joulebench run --suite llm-decode-gpu --power nvml"
  "$BUILD/joulebench" probe > "$LOGS/probe.txt" 2>&1
  grep -i -A3 nvml "$LOGS/probe.txt" | head -8
  "$BUILD/joulebench" run --suite llm-decode-gpu --power nvml --out /tmp/jb-records \
    --format table > "$OUT/suite.log" 2>&1
  echo "suite rc=$?"
  tail -30 "$OUT/suite.log"
  tar -C /tmp -czf "$OUT/records.tar.gz" jb-records
fi
