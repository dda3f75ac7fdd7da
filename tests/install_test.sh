#!/bin/sh
# install_test.sh CMAKE BUILD_DIR: an installed joulebench works without the
# source tree. Stages an install with DESTDIR under a prefix it will not run
# from, moves the prefix elsewhere (so only the binary's own location can
# lead it to its files), and from an unrelated folder, with every override
# unset and the source-tree fallback off (JB_NO_SOURCE_TREE), runs the smoke
# suite with a grid region, a platform descriptor and the descriptor-based
# power estimate, then report, import, submit and check on what it wrote. Asserts
# each step succeeds and that the files came from the moved prefix; then
# that removing an installed folder breaks the step that needs it (nothing
# else was quietly used), and that the build tree's binary still finds the
# source tree. Run by ctest (tests/install.cmake).
set -eu
cmake=$1
build=$2

t=$(mktemp -d /tmp/jb_install_XXXXXX)
trap 'rm -rf "$t"' EXIT
fail() {
    echo "install_test: $*" >&2
    exit 1
}

DESTDIR=$t/stage "$cmake" --install "$build" --prefix /opt/joulebench >"$t/install.log" ||
    fail "cmake --install failed: $(cat "$t/install.log")"
[ -x "$t/stage/opt/joulebench/bin/joulebench" ] || fail "no bin/joulebench under DESTDIR/prefix"
mv "$t/stage/opt/joulebench" "$t/moved"
rm -rf "$t/stage"
P=$(cd "$t/moved" && pwd -P)
jb=$P/bin/joulebench
share=$P/share/joulebench

unset JB_SCHEMA_DIR JB_DATA_DIR JB_PLOTS_DIR JB_PLATFORMS_DIR JB_SUITES_DIR JB_MODELS_DIR \
    JB_SOURCE_DIR JB_BUILD_DIR JB_CLI JB_DB
export JB_NO_SOURCE_TREE=1
mkdir "$t/work"
cd "$t/work"

# Where the binary says each kind of file comes from: the moved prefix.
"$jb" list --format json >list.json || fail "list failed"
for k in schema data plots platforms suites models; do
    grep -q "\"$k\": \"$share/$k\"" list.json || fail "list: $k not from $share: $(cat list.json)"
done

# A short run of a shipped suite; the region's grid intensity (data table),
# the platform's embodied carbon and the power estimate (descriptor) all
# read installed files. A missing table would only be a warning in the
# record, so the record is checked for what each file gave.
"$jb" run --suite smoke --threads 1 --repetitions 1 --min-time 0.05 --warmup 0 \
    --out out --db "$t/work/jb.db" --region FR --platform amd-epyc-vm-2vcpu \
    --power estimate:platform=amd-epyc-vm-2vcpu >run.txt 2>run.err ||
    fail "run failed (exit $?): $(cat run.err)"
rec=$(ls out/triad_*.json | grep -v gbench | head -n 1)
[ -n "$rec" ] || fail "run wrote no triad record: $(ls out)"
grep -q '"grid_source": "FR (' "$rec" || fail "record has no grid intensity for FR"
grep -q '"embodied_kgco2e": 16' "$rec" || fail "record has no embodied carbon from the descriptor"
grep -q "platform descriptor $share/platforms/amd-epyc-vm-2vcpu.json" "$rec" ||
    fail "power estimate did not use the installed descriptor"

# The dashboard inlines the installed stylesheet and renders the installed
# gnuplot templates (gnuplot is a required package).
"$jb" report --db "$t/work/jb.db" --html html >report.txt 2>&1 ||
    fail "report failed: $(cat report.txt)"
grep -q "dashboard.css: style of the static dashboard" html/index.html ||
    fail "report did not inline $share/plots/dashboard.css"
if command -v gnuplot >/dev/null 2>&1; then
    ls html/plots/*.svg >/dev/null 2>&1 || fail "report rendered no plot: $(cat report.txt)"
fi

# The records pass the installed schema on import into another database.
"$jb" import --db "$t/work/jb2.db" out >import.txt 2>&1 || fail "import failed: $(cat import.txt)"
# --threads 1 replaces smoke's threads=1,2: one run per line, two records,
# and each one's Google Benchmark entry (one repetition, no aggregates).
grep -q "2 record(s) stored.*2 file(s), 2 entries stored.* 0 problem(s)" import.txt ||
    fail "import: $(cat import.txt)"
# A submission laid out from them and checked: short estimated runs break
# the submission rules (exit 1 by design), but every record is read and
# passes the schema.
"$jb" submit --org test --system vm --records out --out sub >submit.txt 2>&1 || true
[ -d sub/test ] || fail "submit laid nothing out: $(cat submit.txt)"
st=0
"$jb" check sub >check.txt 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "check exited $st, expected 1 (run rules): $(cat check.txt)"
grep -q "problem(s) in sub (2 record(s))" check.txt || fail "check: $(cat check.txt)"
if grep -q "schema" check.txt; then
    fail "check found schema problems: $(cat check.txt)"
fi

# Without its installed schema, import fails and names where it looked: no
# other copy was being used.
mv "$share/schema" "$share/schema.away"
if "$jb" import --db "$t/work/jb3.db" out >import2.txt 2>&1; then
    fail "import passed with the installed schema removed"
fi
grep -q "$share/schema/record.schema.json" import2.txt ||
    fail "import's error does not name $share/schema: $(cat import2.txt)"
mv "$share/schema.away" "$share/schema"

# The marker header is installed and compiles on its own into a program that
# needs nothing of joulebench's; under the installed joulebench exec its two
# regions are measured, and the installed Python module is there.
[ -f "$P/include/joulebench/marker.h" ] || fail "no include/joulebench/marker.h installed"
[ -f "$share/python/joulebench_marker.py" ] || fail "no python/joulebench_marker.py installed"
cat >marker.c <<'EOC'
#include <joulebench/marker.h>
int main(void)
{
    int bad = jb_region_begin("a");
    bad |= jb_region_end("a", 2);
    return bad;
}
EOC
cc -std=c99 -Wall -Wextra -Werror -I"$P/include" marker.c -o marker || fail "marker.h does not compile alone"
./marker || fail "a marker program fails outside joulebench"
"$jb" exec --runs 2 --power sim --out out --db none -- ./marker >exec.txt 2>&1 ||
    fail "exec of the marker program failed: $(cat exec.txt)"
grep -q "Region a: 2 instance(s)" exec.txt || fail "exec did not measure the region: $(cat exec.txt)"

# An override is used as given.
JB_PLATFORMS_DIR=$t/mine "$jb" list --format json >list2.json
grep -q "\"platforms\": \"$t/mine\"" list2.json || fail "JB_PLATFORMS_DIR not honoured"

# The build tree's binary, not installed, still reads the source tree.
unset JB_NO_SOURCE_TREE
"$build/joulebench" list --format json >list3.json || fail "build-tree list failed"
grep -q '"schema": "/.*/results/schema"' list3.json ||
    fail "build-tree binary does not find the source tree: $(cat list3.json)"
echo "install_test: ok ($P)"
