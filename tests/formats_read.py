#!/usr/bin/env python3
"""formats_read.py: the machine formats as other tools read them.

  formats_read.py formats   every --format of `run` and `export` read by
                            Python's csv, json and sqlite3 into numbers,
                            with no string parsing
  formats_read.py gbench    Google Benchmark's compare.py (Debian
                            libbenchmark-tools) on two runs at different
                            --min-time: they pair, times are not 0, and the
                            energy counters are there; exit 77 (skipped)
                            when compare.py or its scipy is missing

The joulebench binary is $JB_CLI; scratch files go under $JB_BUILD_DIR.
"""
import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

CLI = os.environ.get("JB_CLI", "joulebench")
SKIP = 77

# Columns whose cells are numbers (or missing), by name: units in the name.
NUMERIC_SUFFIXES = ("_s", "_j_per_unit", "_w", "_units", "_per_s", "_j_s")
INTEGERS = {"batch", "context", "threads", "repetitions", "iterations", "units_per_iteration"}
BOOLEANS = {"complete", "energy_measured", "energy_simulated"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def numeric(name):
    return name in INTEGERS or name in BOOLEANS or name.endswith(NUMERIC_SUFFIXES)


def run(args, **kw):
    p = subprocess.run([CLI] + args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail("%s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


def one_run(tmp, db, min_time, fmt, gb):
    return run(["run", "--workload", "triad", "--power", "sim", "--repetitions", "3",
                "--warmup", "0", "--min-time", str(min_time), "--db", db,
                "--out", os.path.join(tmp, "out"), "--format", fmt, "--gbench-json", gb])


def check_csv(text, nrows):
    rows = list(csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    head, body = rows[0], rows[1:]
    if len(body) != nrows:
        fail("csv: %d rows, want %d" % (len(body), nrows))
    for want in ("config_key", "backend", "kernel", "context", "options", "latency_median_s",
                 "energy_j_per_unit", "energy_uncertainty_j_per_unit", "energy_source",
                 "energy_measured", "power_w", "threads", "pin", "power_sources",
                 "topology_hash"):
        if want not in head:
            fail("csv: no column %s" % want)
    for row in body:
        if len(row) != len(head):
            fail("csv: row of %d cells under %d columns" % (len(row), len(head)))
        for name, v in zip(head, row):
            if numeric(name):
                # QUOTE_NONNUMERIC made every unquoted cell a float; a
                # missing number is an empty quoted cell
                if not (isinstance(v, float) or v == ""):
                    fail("csv: %s = %r is not a number" % (name, v))
            elif not isinstance(v, str):
                fail("csv: %s = %r should be text" % (name, v))
        r = dict(zip(head, row))
        if not (r["latency_median_s"] > 0 and r["energy_j_per_unit"] > 0):
            fail("csv: latency or energy not positive: %r" % r)
        if r["context"] != 0.0 or r["backend"] != "cpu" or len(r["config_key"]) != 16:
            fail("csv: key columns wrong: %r" % r)
    return head


def check_jsonl(text, nrows, head):
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != nrows:
        fail("jsonl: %d lines, want %d" % (len(lines), nrows))
    for l in lines:
        o = json.loads(l)
        if list(o.keys()) != head:
            fail("jsonl: keys differ from the csv columns")
        for k, v in o.items():
            if numeric(k) and v is not None and not isinstance(v, (int, float)):
                fail("jsonl: %s = %r is not a number" % (k, v))
        if not isinstance(o["latency_median_s"], float) or not isinstance(o["context"], int):
            fail("jsonl: latency or context not numbers: %r" % o)


def check_sql(text, nrows):
    db = sqlite3.connect(":memory:")
    db.executescript(text)
    n, t, c = db.execute("SELECT count(*), typeof(latency_median_s), typeof(context) FROM "
                         "joulebench_runs").fetchone()
    if n != nrows or t != "real" or c != "integer":
        fail("sql: %r rows, latency %s, context %s" % (n, t, c))
    if shutil.which("sqlite3"):
        p = subprocess.run(["sqlite3", ":memory:"], input=text + "\nSELECT count(*) FROM "
                           "joulebench_runs;\n", capture_output=True, text=True)
        if p.returncode != 0 or p.stdout.strip() != str(nrows):
            fail("sqlite3 did not load the sql: %s %s" % (p.stdout, p.stderr))


def formats():
    tmp = tempfile.mkdtemp(prefix="jb-formats-", dir=os.environ.get("JB_BUILD_DIR"))
    try:
        db = os.path.join(tmp, "jb.db")
        gb = os.path.join(tmp, "gb.json")
        head = check_csv(one_run(tmp, db, 0.02, "csv", gb), 1)
        check_jsonl(one_run(tmp, db, 0.02, "jsonl", gb), 1, head)
        check_sql(one_run(tmp, db, 0.02, "sql", gb), 1)
        md = one_run(tmp, db, 0.02, "md", gb)
        for want in ("| context |", "| backend |", "cpu/", "J/pass"):
            if want not in md:
                fail("md: no %r in\n%s" % (want, md))
        js = json.loads(one_run(tmp, db, 0.02, "json", gb))
        if len(js) != 1 or "config_key" not in js[0]:
            fail("json: not one keyed record")
        # export reads the database the five runs went into
        check_csv(run(["export", "--db", db, "--format", "csv"]), 5)
        check_jsonl(run(["export", "--db", db, "--format", "jsonl"]), 5, head)
        check_sql(run(["export", "--db", db, "--format", "sql"]), 5)
        recs = json.loads(run(["export", "--db", db, "--format", "json"]))
        if len(recs) != 5 or len({r["config_key"]["id"] for r in recs}) != 1:
            fail("export json: want 5 records of one key")
        print("formats: csv, jsonl, sql, md and json read into numbers")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def gbench():
    tool = os.environ.get("JB_GBENCH_COMPARE", "/usr/share/benchmark/compare.py")
    if not os.path.exists(tool):
        print("SKIPPED: %s not found (Debian: apt-get install libbenchmark-tools)" % tool)
        sys.exit(SKIP)
    # compare.py imports scipy: the system's python3 has Debian's, a
    # virtual environment first on PATH may not
    py = None
    for cand in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(cand) and subprocess.run(
                [cand, "-c", "import scipy"], capture_output=True).returncode == 0:
            py = cand
            break
    if not py:
        print("SKIPPED: compare.py needs scipy (Debian: apt-get install python3-scipy)")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="jb-gbench-", dir=os.environ.get("JB_BUILD_DIR"))
    try:
        db = os.path.join(tmp, "jb.db")
        a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        one_run(tmp, db, 0.02, "csv", a)
        one_run(tmp, db, 0.06, "csv", b)
        ja, jb = json.load(open(a)), json.load(open(b))
        na = [x["name"] for x in ja["benchmarks"]]
        nb = [x["name"] for x in jb["benchmarks"]]
        if na != nb:
            fail("names depend on --min-time: %r vs %r" % (na, nb))
        for x in ja["benchmarks"]:
            if "min_time" in x["name"] or x["time_unit"] not in ("ns", "us"):
                fail("entry %r" % x)
            for k in ("J_per_unit", "J_per_unit_uncertainty", "W"):
                if k != "J_per_unit" and x.get("aggregate_name") in ("stddev", "cv"):
                    continue
                if not isinstance(x.get(k), float):
                    fail("entry %s has no counter %s" % (x["name"], k))
        p = subprocess.run([py, tool, "benchmarks", a, b], capture_output=True,
                           text=True)
        if p.returncode != 0:
            fail("compare.py: exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
        out = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout)
        print(out)
        # the repetitions and the mean and median (cv and stddev are small
        # numbers that print as 0 in compare.py's integer columns)
        names = {na[0], na[0] + "_mean", na[0] + "_median"}
        rows = [l for l in out.splitlines() if l.split() and l.split()[0] in names]
        if not rows:
            fail("compare.py paired nothing")
        # columns: name, time diff, cpu diff, time old, time new, cpu old, cpu new
        for l in rows:
            cells = l.split()
            if len(cells) < 7 or not all(float(c) > 0 for c in cells[3:7]):
                fail("compare.py printed a zero time: %r" % l)
        print("gbench: compare.py paired %d entries" % len(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    {"formats": formats, "gbench": gbench}[sys.argv[1]]()
