#!/bin/sh
# ctest_summary.sh: runs ctest with the given arguments (in the build folder)
# and ends with what "100% tests passed" hides: the tests skipped (whole
# executables, ctest's "Skipped", and the cmocka cases inside one that
# skipped, with the reason they printed) and the tests that failed once and
# passed only when run again (--repeat until-pass), whose first failure's
# output is above. The exit status is ctest's.
log=$(mktemp)
trap 'rm -f "$log" "$log.rc"' EXIT
{ ctest "$@" 2>&1; echo $? >"$log.rc"; } | tee "$log"
status=$(cat "$log.rc")
echo
echo "== test summary"
awk '
/Test +#[0-9]+: / {
    name = $0; sub(/.*Test +#[0-9]+: /, "", name); sub(/ .*/, "", name)
    if ($0 ~ /\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception/) failed[name] = 1
    else if ($0 ~ / Passed /) { if (failed[name]) rerun[name] = 1; passed[name] = 1 }
    else if ($0 ~ /\*\*\*Skipped|Not Run/) skipped[name] = 1
}
END {
    n = 0; for (t in rerun) n++
    if (n) { printf "passed only on rerun (%d; the first failure is in the output above):\n", n
             for (t in rerun) printf "  %s\n", t }
    n = 0; for (t in skipped) n++
    if (n) { printf "skipped, not run (%d):\n", n; for (t in skipped) printf "  %s\n", t }
}' "$log"
last=Testing/Temporary/LastTest.log
if [ -f "$last" ]; then
    # cmocka cases skipped inside an executable that passed, with the
    # SKIPPED: line the test printed to say why
    awk '
    /^[0-9]+\/[0-9]+ Testing: / { t = $0; sub(/^[0-9]+\/[0-9]+ Testing: /, "", t) }
    /^SKIPPED: / { why[t] = why[t] (why[t] ? "; " : "") substr($0, 10) }
    /\[  SKIPPED \] / && !/listed below/ { c = $0; sub(/.*\[  SKIPPED \] /, "", c); if (!seen[t "/" c]++) cases[t] = cases[t] (cases[t] ? ", " : "") c }
    END {
        n = 0; for (t in cases) n++
        if (n) { print "test cases skipped inside a test that passed:"
                 for (t in cases) printf "  %s: %s%s\n", t, cases[t], why[t] ? " (" why[t] ")" : "" }
    }' "$last"
fi
exit $status
