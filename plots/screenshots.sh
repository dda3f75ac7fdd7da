#!/bin/sh
# screenshots.sh JOULEBENCH OUTDIR: draws the README's images from synthetic
# demo records (plots/demo_records.py): every figure type of `joulebench
# plot` as PNG (and SVG, PDF), and the dashboard's index in headless
# Chromium. Needs python3, gnuplot and chromium.
set -eu
jb=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
python3 "$here/demo_records.py" "$work/recs"
"$jb" import --db "$work/demo.db" "$work/recs"
"$jb" plot --db "$work/demo.db" --out "$work/figs" --workload stories110m
cp "$work/figs/scatter-stories110m.png" "$out/pareto.png"
cp "$work/figs/bars-stories110m.png" "$out/bars.png"
# the energy history of the series with a step (context 128, 2 threads)
"$jb" plot --db "$work/demo.db" --out "$work/hist" --kind history \
    --query "workload=stories110m,backend=cpu,context=128,threads=2"
cp "$work"/hist/history-*-energy.png "$out/history.png"
cp "$work"/figs/trace-*.png "$out/trace.png"
"$jb" report --db "$work/demo.db" --html "$work/site"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,760 \
    --user-data-dir="$work/profile" --screenshot="$out/dashboard.png" \
    "file://$work/site/index.html" >/dev/null 2>&1
ls -l "$out"
