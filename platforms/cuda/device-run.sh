#!/bin/bash
# device-run.sh: build, test and benchmark the CUDA back-end on the GPU
# machine in one call (device time is scarce: one call does everything).
#
# The GPU machine lacks some of joulebench's build dependencies (Google
# Benchmark, libpfm4, maybe jansson/sqlite3/cmocka), and nothing can be
# installed there from a registry. So the Debian 12 packages travel with the
# call as .debs, fetched on the machine with the checkout, and are unpacked
# into a private prefix, never into /; CMake and the loader are pointed at it.
#
# On the machine with the checkout, in the repository root (.gpu is ignored):
#   mkdir -p .gpu/debs && (cd .gpu/debs && apt-get download \
#     libbenchmark-dev libbenchmark1debian libpfm4 libpfm4-dev libjansson-dev libjansson4 \
#     libcmocka-dev libcmocka0 libsqlite3-dev libsqlite3-0 libhwloc-dev libhwloc15 \
#     pkgconf pkgconf-bin libpkgconf3 libssl-dev libssl3)
# Then the device tool's run from the repository root, carry [".gpu"]:
#   bash platforms/cuda/device-run.sh DEBS_DIR STEPS [PLAN] [TORCH_RUNS...]
# DEBS_DIR: the folder of .debs (.gpu/debs). STEPS: comma-separated, in
# this order whatever the order given:
#   test   ctest's CUDA tests, verbose (ctest-cuda.log)
#   bench  jb_cuda_bench over PLAN (bench.csv, bench.log)
#   torch  tests/bench/torch_decode.py over TORCH_RUNS, model:batch[:ctx] (torch.csv)
#   ncu    Nsight Compute on the batch-1 8B bf16 step's kernels (ncu-b1.txt)
#   ncu128 the same at batch 128 (ncu-b128.txt)
#   quick  one joulebench run through the runner with --power nvml (suite.log)
#   suite  joulebench run --suite llm-decode-gpu --power nvml (suite.log, records)
#   tinyml joulebench run --suite tinyml-gpu --power nvml (tinyml.log, records)
#   tiledab the four TinyML models, int8 and fp32, offline batch 256, with
#          kernels=plain then kernels=tiled, output checked each repetition,
#          --power nvml (tiled-ab.log, tiled-ab-records.tar.gz)
#   ncutm  Nsight Compute on one batch-256 step of kws-dscnn and
#          ad-autoencoder (int8, kernels=tiled): every kernel's duration,
#          throughputs and launch shape (ncu-tinyml.txt)
# Environment: OUT (results; the device tool sets it), JB_BUILD (build
# folder, /tmp/jb-build), JB_DEPS_PREFIX (/tmp/jb-deps). The runner
# lengthens each NVML repetition to 10 s, so suite does not fit in one call
# with the others.
set -u
if [ $# -lt 2 ]; then
  sed -n '2,30p' "$0"
  exit 2
fi
DEBS=$(cd "$1" && pwd) || exit 2
STEPS=",$2,"
PLAN=${3:-}
shift 2
[ $# -gt 0 ] && shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PFX=${JB_DEPS_PREFIX:-/tmp/jb-deps}
BUILD=${JB_BUILD:-/tmp/jb-build}
OUT=${OUT:-/tmp/jb-out}
LOGS=/tmp/jb-logs
has() { case "$STEPS" in *,$1,*) return 0 ;; esac; return 1; }
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
T0=$(date +%s)
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$PFX/usr" -DCMAKE_INCLUDE_PATH="$PFX/usr/include" \
  -DCMAKE_LIBRARY_PATH="$LIBDIR" -DPKG_CONFIG_EXECUTABLE="$PKGCONF" \
  -DJB_WERROR=OFF -DCMAKE_CUDA_FLAGS="-Xptxas=-v" > "$LOGS/configure.log" 2>&1 || { tail -30 "$LOGS/configure.log"; exit 1; }
grep -i 'joulebench' "$LOGS/configure.log"
# Only what the steps use: the whole tree's tests are CI's job.
cmake --build "$BUILD" -j16 --target joulebench jb_cuda_bench test_cuda_copy test_cuda_llm \
  test_cuda_tinyml test_cuda_fault > "$LOGS/build.log" 2>&1 ||
  { grep -E 'error|FAILED' -A5 "$LOGS/build.log" | head -60; exit 1; }
echo "built in $(( $(date +%s) - T0 )) s"
# Register and spill report of the kernels (ptxas -v), for the README.
grep -E "Compiling entry|registers|spill" "$LOGS/build.log" | grep -A2 -E 'k_attn|copy_kernel' | \
  head -40 > "$LOGS/ptxas.txt" || true

if has test; then
  echo "== tests (CUDA ones verbose)"
  (cd "$BUILD" && ctest -R cuda --output-on-failure -V > "$OUT/ctest-cuda.log" 2>&1; echo "ctest cuda rc=$?")
  grep -E "rel err|rel diff|refused|skipping|PASSED|FAILED|SKIPPED|Error|error|tests passed" \
    "$OUT/ctest-cuda.log" | head -80
fi

if has bench; then
  echo "== benchmark ($PLAN)"
  "$BUILD/tests/jb_cuda_bench" "$PLAN" "$OUT/bench.csv" 2>&1 | tee "$OUT/bench.log"
fi

if has torch; then
  echo "== PyTorch decode step ($*)"
  PYTHONUNBUFFERED=1 python3 "$SRC/tests/bench/torch_decode.py" --out "$OUT/torch.csv" "$@" 2>&1
fi

if has ncu; then
  # Nsight Compute, clocks left alone (--clock-control none): the batch-1 8B
  # bf16 step's GEMVs and attention (why batch 1 draws more power than
  # PyTorch at the same speed), and the batch-128 step's attention and
  # cuBLAS kernels (where its time goes). A few launches of each, after
  # the warm-up, with the sections that say whether they are memory bound.
  echo "== ncu"
  SECT="--section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section LaunchStats --section Occupancy"
  printf 'cuda-llama3.1-8b bf16 1 2048 0.2 0\n' > "$LOGS/ncu-plan1.txt"
  timeout 50 ncu --clock-control none -k regex:'k_gemv|k_attn' -s 400 -c 8 $SECT \
    "$BUILD/tests/jb_cuda_bench" "$LOGS/ncu-plan1.txt" "$LOGS/ncu-bench1.csv" > "$OUT/ncu-b1.txt" 2>&1
  echo "ncu batch 1 rc=$?"
fi
if has ncu128; then
  printf 'cuda-llama3.1-8b bf16 128 2048 0.2 0\n' > "$LOGS/ncu-plan128.txt"
  timeout 50 ncu --clock-control none -k regex:'attn|gemm|nvjet|xmma|cutlass|rmsnorm|swiglu' -s 300 -c 10 $SECT \
    "$BUILD/tests/jb_cuda_bench" "$LOGS/ncu-plan128.txt" "$LOGS/ncu-bench128.csv" > "$OUT/ncu-b128.txt" 2>&1
  echo "ncu batch 128 rc=$?"
fi
if has ncutm; then
  # Where a tiled TinyML step's time goes (issue 16 goal 6): kernels of one
  # step after the warm-up, graph=0 so each launch is its own node, clocks
  # left alone. The step's wall time from the same binary, without ncu, is
  # printed first so the sum of kernel durations can be set against it.
  SECTM="--section SpeedOfLight --section LaunchStats --section Occupancy"
  for w in kws-dscnn ad-autoencoder; do
    echo "-- $w int8 kernels=tiled graph=0, no profiler"
    timeout 25 "$BUILD/joulebench" run --workload "$w" --backend cuda --dtype int8 \
      --scenario offline --batch 256 --repetitions 2 --power nvml --db none \
      --options "kernels=tiled,graph=0" --out /tmp/jb-ncutm --format table 2>&1 | tail -2
    echo "-- $w under ncu"
    timeout 120 ncu --clock-control none -k regex:'^k_' -s 200 -c 40 $SECTM \
      "$BUILD/joulebench" run --workload "$w" --backend cuda --dtype int8 \
      --scenario offline --batch 256 --repetitions 1 --min-time 0.01 --power nvml --db none \
      --options "kernels=tiled,graph=0" --out /tmp/jb-ncutm --format table 2>&1
    echo "ncu $w rc=$?"
  done > "$OUT/ncu-tinyml.txt" 2>&1
  grep -E "^--|^  k_|Duration|Compute \(SM\) Throughput|DRAM Throughput|Grid Size|Block Size|Achieved Occupancy|inference|rc=" \
    "$OUT/ncu-tinyml.txt" | head -150
fi

if has ncu || has ncu128; then
  for f in "$OUT"/ncu-b*.txt; do
    grep -E "^  [a-zA-Z_].*\(|DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|SM Frequency|Registers Per" "$f" | head -70
  done
fi

if has quick; then
  echo "== joulebench run (one configuration) --power nvml"
  "$BUILD/joulebench" run --workload cuda-llama3.2-1b --backend cuda --dtype bf16 \
    --scenario offline --batch 8 --context 2048 --repetitions 2 --power nvml \
    --out /tmp/jb-records --format table 2>&1 | tee "$OUT/suite.log"
  tar -C /tmp -czf "$OUT/records.tar.gz" jb-records
fi

if has suite; then
  echo "== joulebench run --suite llm-decode-gpu --power nvml"
  "$BUILD/joulebench" run --suite llm-decode-gpu --power nvml --out /tmp/jb-records \
    --format table > "$OUT/suite.log" 2>&1
  echo "suite rc=$?"
  tail -30 "$OUT/suite.log"
  tar -C /tmp -czf "$OUT/records.tar.gz" jb-records
fi

if has tinyml; then
  echo "== joulebench run --suite tinyml-gpu --power nvml"
  "$BUILD/joulebench" run --suite tinyml-gpu --power nvml --out /tmp/jb-tinyml \
    --format table > "$OUT/tinyml.log" 2>&1
  echo "tinyml suite rc=$?"
  tail -25 "$OUT/tinyml.log"
  tar -C /tmp -czf "$OUT/tinyml-records.tar.gz" jb-tinyml
fi

if has tiledab; then
  echo "== TinyML kernels=plain against kernels=tiled, offline batch 256, --power nvml"
  for w in kws-dscnn vww-mobilenet ic-resnet8 ad-autoencoder; do
    for dt in int8 fp32; do
      for k in plain tiled; do
        echo "-- $w $dt kernels=$k"
        timeout 25 "$BUILD/joulebench" run --workload "$w" --backend cuda --dtype "$dt" \
          --scenario offline --batch 256 --repetitions 3 --power nvml --options "kernels=$k" \
          --out /tmp/jb-tiledab --format table 2>&1 | tail -6
        echo "rc=${PIPESTATUS[0]}"
      done
    done
  done > "$OUT/tiled-ab.log" 2>&1
  grep -E '^--|kernel|inf/s|J/inf|FAIL|rc=|error' "$OUT/tiled-ab.log" | head -80
  tar -C /tmp -czf "$OUT/tiled-ab-records.tar.gz" jb-tiledab 2>/dev/null
fi
