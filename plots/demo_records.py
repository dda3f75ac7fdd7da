#!/usr/bin/env python3
"""demo_records.py OUTDIR: synthetic records for the README's screenshots.

Made from the test fixtures (tests/data/records) with invented numbers:
an LLM decode on a CPU at two thread counts and two contexts, the same on a
GPU back-end of another machine, an estimated run with a power trace, a
nightly series with a step, and one that got worse on the last night. The figures drawn from them show what the plots
look like, not what any machine measured.
"""
import copy
import json
import os
import sys

src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "records")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
base = json.load(open(os.path.join(src, "llm-decode.json")))


def scaled(r, run_id, j, lat, when, commit, unc=0.015):
    r = copy.deepcopy(r)
    r["run_id"] = run_id
    r["created_utc"] = when
    r["system"]["git_commit"] = commit
    e = r["measurements"]["energy"][0]
    old = e["joules_per_unit"]
    e["samples_joules_per_unit"] = [s / old * j for s in e["samples_joules_per_unit"]]
    e["joules_per_unit"] = j
    e["uncertainty_joules_per_unit"] = j * unc
    ls = r["measurements"]["latency_s"]
    oldl = ls["median"]
    ls["samples"] = [s / oldl * lat for s in ls["samples"]]
    for k in ("median", "mean", "p90", "p99"):
        ls[k] = ls[k] / oldl * lat
    return r


def save(r):
    json.dump(r, open(os.path.join(out, r["run_id"] + ".json"), "w"))


for ctx, j0, l0 in ((128, 0.656, 0.0150), (1023, 1.144, 0.0262)):
    for t in (1, 2):
        r = copy.deepcopy(base)
        r["workload"]["name"] = "stories110m"
        r["config"]["context"] = ctx
        r["config"]["threads"] = t
        for night in range(12):
            step = 1.12 if (ctx == 128 and t == 2 and night >= 7) else 1.0
            if ctx == 1023 and t == 1 and night == 11:
                step = 1.09  # last night's regression, listed first
            wob = 1 + 0.004 * ((night * 7) % 5 - 2)
            j = j0 * (1.0 if t == 2 else 1.35) * step * wob
            lat = l0 * (1.0 if t == 2 else 1.8) * wob
            save(scaled(r, "demo-cpu-c%d-t%d-%02d" % (ctx, t, night), j, lat,
                        "2026-11-%02dT02:00:00Z" % (night + 1), "d%05d" % night))
gpu = copy.deepcopy(base)
gpu["workload"]["name"] = "stories110m"
gpu["backend"]["name"] = "cuda"
gpu["backend"]["kernel"] = "mma"
gpu["system"]["topology_hash"] = "9a1f00c0ffee4242"
gpu["system"]["cpu_model"] = "Intel Xeon Platinum 8480+"
gpu["system"]["gpus"] = [{"model": "NVIDIA H100 80GB HBM3"}]
gpu["measurements"]["energy"][0]["source"] = "nvml"
for ctx, j, lat in ((128, 0.031, 0.00071), (1023, 0.047, 0.00109)):
    g = copy.deepcopy(gpu)
    g["config"]["context"] = ctx
    save(scaled(g, "demo-gpu-c%d" % ctx, j, lat, "2026-11-12T03:00:00Z", "d00011", 0.02))
est = copy.deepcopy(base)
est["workload"]["name"] = "stories110m"
est["config"]["context"] = 128
est["config"]["threads"] = 2
est["config"]["pin"] = "scatter"
e = est["measurements"]["energy"][0]
e["source"] = "estimate"
e["measured"] = False
r = scaled(est, "demo-estimated", 0.9, 0.0155, "2026-11-12T04:00:00Z", "d00011", 0.25)
save(r)
with open(os.path.join(out, "demo-estimated.power.csv"), "w") as f:
    f.write("time_s,domain,watts\n")
    for i in range(200):
        f.write("%.3f,package-0,%.2f\n" % (i * 0.05, 38 + 4 * ((i * 13) % 7) / 7.0))
        f.write("%.3f,dram,%.2f\n" % (i * 0.05, 6 + ((i * 5) % 3) / 3.0))
print("demo records in %s (synthetic: made from the test fixtures)" % out)
