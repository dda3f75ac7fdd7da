#!/bin/sh
# scale.sh: the results database at fleet scale (README.md, "Scale"). Writes
# N records (default 100,000: 100 configurations x 10 machines x 100 nights)
# made from the test fixtures with their run id, date, machine (topology
# hash) and configuration (context) varied, then times, with the peak memory
# of each command, `import` of all of them into a new database, `history`
# over them and `report --html` over them.
# Usage: tests/bench/scale.sh [build_dir] [records] [scratch_dir]
# SCALE_REUSE=1 keeps the records already in scratch_dir/records (writing
# 100,000 files takes minutes on a loaded machine) and counts them.
set -eu
BUILD=${1:-build}
N=${2:-100000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${3:-$(mktemp -d)}
JB="$BUILD/joulebench"
[ -x "$JB" ] || { echo "scale: $JB missing (build first)" >&2; exit 1; }
rm -rf "$WORK/scale.db" "$WORK/html"
if [ -n "${SCALE_REUSE:-}" ] && [ -d "$WORK/records" ]; then
    N=$(find "$WORK/records" -name '*.json' | wc -l)
else
rm -rf "$WORK/records"
mkdir -p "$WORK/records"
# One awk process writes every file: 4 fixtures x 25 contexts = 100
# configurations, 10 machines, N / 1000 nights.
awk -v n="$N" -v out="$WORK/records" '
FNR == 1 { f++ }
{ text[f] = text[f] $0 "\n" }
END {
    for (i = 0; i < n; i++) {
        fx = i % 4 + 1; cfg = int(i / 4) % 25; mach = int(i / 100) % 10; night = int(i / 1000)
        t = text[fx]
        d = sprintf("2026-%02d-%02dT%02d:%02d:%02dZ", 1 + int(night / 28) % 12, 1 + night % 28, mach, cfg, fx)
        sub(/"run_id": "[^"]*"/, sprintf("\"run_id\": \"scale-%08d\"", i), t)
        sub(/"created_utc": "[^"]*"/, "\"created_utc\": \"" d "\"", t)
        sub(/"topology_hash": "[^"]*"/, sprintf("\"topology_hash\": \"machine%02d\"", mach), t)
        sub(/"context": [0-9]+/, "\"context\": " cfg, t)
        dir = sprintf("%s/%03d", out, int(i / 1000))
        if (!(dir in made)) { system("mkdir -p " dir); made[dir] = 1 }
        file = sprintf("%s/r%08d.json", dir, i)
        printf "%s", t > file
        close(file)
    }
}' "$SRC/tests/data/records/triad.json" "$SRC/tests/data/records/fma.json" \
   "$SRC/tests/data/records/ic-resnet8-int8.json" "$SRC/tests/data/records/llm-decode.json"
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cpus;" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: $N in $WORK/records ($(du -sh "$WORK/records" | cut -f1))"
export JB_SOURCE_DIR="$SRC"
run() {
    what=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || {
        echo "scale: $what failed:" >&2
        tail -5 "$WORK/err" >&2
        exit 1
    }
    read -r secs kb <"$WORK/time"
    echo "$what: ${secs} s, peak memory $((kb / 1024)) MiB"
}
run "import" "$JB" import --db "$WORK/scale.db" "$WORK/records"
run "history" "$JB" history --db "$WORK/scale.db" --workload triad
run "report --html" "$JB" report --db "$WORK/scale.db" --html "$WORK/html"
run "list" "$JB" list
