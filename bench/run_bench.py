#!/usr/bin/python3
"""Batch benchmark: `sluice run bench/pipeline.yaml` against the same work in pandas.

Run from anywhere, with Debian's interpreter (the peer needs python3-pandas):

    scripts/build.sh release && /usr/bin/python3 bench/run_bench.py

It generates the input once (bench/data/, git-ignored), then runs each side
--reps times, alternating, each as a child process. For every run it takes the
wall time, the CPU time of the child (user + sys, from os.wait4) and its peak
resident memory (from GNU time, see run_child). It prints the medians, rows per second per core
(rows / median CPU seconds) and the ratio sluice / pandas, checks that both
sides chose the same action for every row, and writes everything to
bench/results/batch.json (git-ignored). Exit status: 0 if the decisions agree,
1 if they do not, 2 if a run failed.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PYTHON = "/usr/bin/python3"  # Debian's: the first python3 on PATH may not see python3-pandas

# The children run on one thread each: rows/s per core is about one core's work.
CHILD_ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


# Peak memory must come from a small parent. A child's ru_maxrss counts every
# image the process had, and a process spawned from Python starts as a copy of
# the Python process (with vfork, its very address space): os.wait4 then reports
# the parent's own high-water mark when that is larger than the child's (30 MiB
# here, 200 MiB after a 200 MiB peak in the parent). GNU time forks from a
# 1 MiB image, so its %M is the child's own peak.
GNU_TIME = "/usr/bin/time"


def run_child(argv, label):
    """Runs argv to completion; returns wall, user, sys seconds and peak RSS."""
    with tempfile.TemporaryFile() as log, tempfile.NamedTemporaryFile("r") as rss:
        launcher = [GNU_TIME, "-f", "%M", "-o", rss.name] if os.access(GNU_TIME, os.X_OK) else []
        start = time.perf_counter()
        proc = subprocess.Popen(launcher + argv, env=CHILD_ENV, stdout=log,
                                stderr=subprocess.STDOUT)
        # os.wait4 reaps the child and gives the CPU time of it and of what it
        # waited for (GNU time's own share is about a millisecond), nothing else.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            sys.stderr.write(f"{label} failed with exit code {proc.returncode}: {' '.join(argv)}\n")
            sys.stderr.write(log.read().decode(errors="replace"))
            sys.exit(2)
        if launcher:
            max_rss_kib, rss_source = int(rss.read().split()[-1]), "GNU time %M"
        else:
            max_rss_kib, rss_source = usage.ru_maxrss, "os.wait4 (upper bound: includes the launcher)"
    return {
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mib": max_rss_kib / 1024.0,  # Linux reports KiB
        "max_rss_from": rss_source,
    }


def ensure_data(rows, seed, path):
    if os.path.exists(path):
        return
    print(f"generating {rows} rows (seed {seed}) into {os.path.relpath(path)} ...", flush=True)
    subprocess.run([PYTHON, os.path.join(BENCH, "gen_transactions.py"), "--rows", str(rows),
                    "--seed", str(seed), "--out", path], check=True)


def warm_page_cache(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def run_sluice(args, data, out_dir, rows):
    out = os.path.join(out_dir, "sluice.csv")
    summary_path = os.path.join(out_dir, "sluice_summary.json")
    r = run_child([args.sluice, "run", args.pipeline, "--input", data, "--output", out,
                   "--summary", summary_path, "--quiet"], "sluice")
    with open(summary_path) as f:
        summary = json.load(f)
    if summary.get("records_read") != rows or summary.get("records_written") != rows or \
            summary.get("records_rejected", 0) != 0:
        sys.stderr.write(f"sluice did not write every row: {summary}\n")
        sys.exit(2)
    r["summary"] = summary
    return r


def run_pandas(args, data, out_dir, rows):
    out = os.path.join(out_dir, "pandas.csv")
    timings_path = os.path.join(out_dir, "pandas_timings.json")
    r = run_child([PYTHON, os.path.join(BENCH, "pandas_peer.py"), "--input", data, "--output", out,
                   "--timings", timings_path], "pandas")
    with open(timings_path) as f:
        r["phases"] = json.load(f)
    if r["phases"]["rows"] != rows:
        sys.stderr.write(f"pandas read {r['phases']['rows']} rows, expected {rows}\n")
        sys.exit(2)
    return r


def normalise(series):
    """Values as comparable text: booleans in one spelling, nulls as ''."""
    s = series.astype(str).where(series.notna(), "")
    return s.replace({"True": "true", "False": "false"})


def compare_outputs(sluice_csv, pandas_csv):
    """Counts rows whose columns differ between the two outputs, column by column.

    Rows are matched by txn_id. Floats are compared with a relative tolerance of
    1e-9 (the two sides print them differently), the rest as text.
    """
    import numpy as np
    import pandas as pd

    a = pd.read_csv(sluice_csv, dtype=str, keep_default_na=False)
    b = pd.read_csv(pandas_csv, dtype=str, keep_default_na=False)
    report = {"rows_sluice": len(a), "rows_pandas": len(b),
              "columns_only_in_sluice": sorted(set(a.columns) - set(b.columns)),
              "columns_only_in_pandas": sorted(set(b.columns) - set(a.columns)),
              "mismatches": {}, "examples": []}
    if list(a["txn_id"]) != list(b["txn_id"]):
        report["row_order_differs"] = True
        a = a.set_index("txn_id")
        b = b.set_index("txn_id").reindex(a.index)
    else:
        a = a.set_index("txn_id")
        b = b.set_index("txn_id")
    for col in [c for c in a.columns if c in b.columns]:
        x, y = a[col], b[col].fillna("<missing>")
        fx = pd.to_numeric(x, errors="coerce")
        fy = pd.to_numeric(y, errors="coerce")
        numeric = fx.notna() | (x == "")
        if numeric.all() and (fy.notna() | (y == "")).all():
            both_null = fx.isna() & fy.isna()
            close = np.isclose(fx.to_numpy(float), fy.to_numpy(float), rtol=1e-9, atol=0.0)
            differ = ~(both_null.to_numpy() | close)
        else:
            differ = (normalise(x) != normalise(y)).to_numpy()
        report["mismatches"][col] = int(differ.sum())
        if differ.any() and len(report["examples"]) < 10:
            for txn in a.index[differ][:3]:
                report["examples"].append({"txn_id": txn, "column": col,
                                           "sluice": a.at[txn, col], "pandas": b.at[txn, col]})
    report["action_counts"] = {k: int(v) for k, v in a["action"].value_counts().items()}
    return report


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "cpu_model": model, "kernel": platform.release(), "host": platform.node()}


def versions(sluice):
    import numpy
    import pandas
    v = {"pandas": pandas.__version__, "numpy": numpy.__version__,
         "python": platform.python_version()}
    try:
        v["sluice"] = subprocess.run([sluice, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.strip()
        v["git_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return v


def summarise(runs, rows):
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib")}
    med["rows_per_s_per_core"] = rows / med["cpu_s"]
    med["rows_per_s_wall"] = rows / med["wall_s"]
    med["cores_used"] = med["cpu_s"] / med["wall_s"]
    return med


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3, help="runs of each side (median taken)")
    parser.add_argument("--sluice", default=os.path.join(ROOT, "build/release/src/cli/sluice"))
    parser.add_argument("--pipeline", default=os.path.join(BENCH, "pipeline.yaml"))
    parser.add_argument("--data-dir", default=os.path.join(BENCH, "data"))
    parser.add_argument("--results", default=os.path.join(BENCH, "results", "batch.json"))
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if not os.access(args.sluice, os.X_OK):
        parser.error(f"no sluice binary at {args.sluice}: run scripts/build.sh release "
                     "or pass --sluice")

    data = os.path.join(args.data_dir, f"txns_{args.rows}_s{args.seed}.csv")
    os.makedirs(args.data_dir, exist_ok=True)
    ensure_data(args.rows, args.seed, data)
    out_dir = os.path.join(args.data_dir, "out")
    os.makedirs(out_dir, exist_ok=True)
    warm_page_cache(data)

    runs = {"sluice": [], "pandas": []}
    for rep in range(args.reps):  # alternate, so that a noisy minute hits both sides
        runs["sluice"].append(run_sluice(args, data, out_dir, args.rows))
        runs["pandas"].append(run_pandas(args, data, out_dir, args.rows))
        s, p = runs["sluice"][-1], runs["pandas"][-1]
        print(f"rep {rep + 1}/{args.reps}: sluice wall {s['wall_s']:.2f}s cpu {s['cpu_s']:.2f}s; "
              f"pandas wall {p['wall_s']:.2f}s cpu {p['cpu_s']:.2f}s", flush=True)

    check = compare_outputs(os.path.join(out_dir, "sluice.csv"), os.path.join(out_dir, "pandas.csv"))
    med = {side: summarise(r, args.rows) for side, r in runs.items()}
    ratio = med["sluice"]["rows_per_s_per_core"] / med["pandas"]["rows_per_s_per_core"]
    phases = {k: statistics.median(r["phases"][k] for r in runs["pandas"])
              for k in ("read_s", "compute_s", "write_s")}

    print()
    print(f"{args.rows:,} rows, {args.reps} reps, medians "
          f"({machine_info()['cpus_usable']} usable CPUs)")
    header = (f"{'':8} {'wall s':>8} {'cpu s':>8} {'user s':>8} {'sys s':>7} "
              f"{'rows/s/core':>12} {'rows/s wall':>12} {'peak RSS MiB':>13}")
    print(header)
    for side in ("sluice", "pandas"):
        m = med[side]
        print(f"{side:8} {m['wall_s']:8.2f} {m['cpu_s']:8.2f} {m['user_s']:8.2f} "
              f"{m['sys_s']:7.2f} {m['rows_per_s_per_core']:12,.0f} {m['rows_per_s_wall']:12,.0f} "
              f"{m['max_rss_mib']:13.0f}")
    print(f"sluice / pandas, rows/s per core: {ratio:.1f}x")
    print(f"pandas phases (median wall s): read {phases['read_s']:.2f}, "
          f"compute {phases['compute_s']:.2f}, write {phases['write_s']:.2f}")
    mism = check["mismatches"]
    print(f"decisions: {mism.get('action', 'n/a')} action mismatches in {args.rows:,} rows; "
          f"rule {mism.get('rule', 'n/a')}, reason codes {mism.get('reason_codes', 'n/a')}")
    other = {k: v for k, v in mism.items() if v and k not in ("action",)}
    if other:
        print(f"other columns that differ: {other}")
    for e in check["examples"]:
        print(f"  {e}")
    print(f"targets: >= 1,000,000 rows/s per core: "
          f"{'met' if med['sluice']['rows_per_s_per_core'] >= 1e6 else 'NOT met'}; "
          f">= 10x pandas: {'met' if ratio >= 10 else 'NOT met'}")

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": versions(args.sluice),
        "rows": args.rows, "seed": args.seed, "reps": args.reps,
        "input_bytes": os.path.getsize(data),
        "median": med,
        "ratio_rows_per_s_per_core": ratio,
        "pandas_phases_median_s": phases,
        "runs": runs,
        "check": check,
    }
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {os.path.relpath(args.results)}")
    ok = mism.get("action") == 0 and check["rows_sluice"] == check["rows_pandas"] == args.rows
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
