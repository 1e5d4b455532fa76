#!/usr/bin/python3
"""Windowed-features benchmark: sluice run / sluice stream against pandas, same features.

    /usr/bin/python3 bench/features/run_features_bench.py [--reps 3] [--json FILE]

One million card events over 100,000 cards (examples/card_fraud/generate.py,
seeded, generated once into a temporary folder), the eight per-card windowed
features of bench/features/bench_features.yaml, computed by

  * `sluice run`    (batch; --stats --summary),
  * `sluice stream` (the same file read as a stream; --stats --summary),
  * pandas 1.5      (bench/features/pandas_features.py: groupby().rolling(),
                     groupby().shift(), and a Python loop for count_distinct),

each as a child process, --reps times, alternating. For every run: wall time,
CPU time of the child (user + sys, os.wait4), peak resident memory (GNU
time's %M; see run_child), and sluice's JSON summary (state: live keys,
bytes per key; the feature stage's own CPU seconds when the summary has
them). Then every output row is compared with pandas' (per feature:
mismatches, and for floats the largest relative difference; rows where
pandas' rolling std loses digits are checked against an exact computation
and reported apart). Prints a table of medians and the ratios sluice /
pandas (per CPU second), and writes everything to --json FILE if given.

Exit status: 0 when every feature of both sluice modes agrees with pandas
(std rows that pandas got wrong, by the exact check, do not count), 1 when a
value differs, 2 when a step failed. Missed speed or memory targets are
reported, not errors.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"  # Debian's: the first python3 on PATH may not see python3-pandas
GENERATOR = os.path.join(ROOT, "examples", "card_fraud", "generate.py")
PANDAS_PEER = os.path.join(HERE, "pandas_features.py")
GNU_TIME = "/usr/bin/time"

# The children run on one thread each: events/s per core is about one core's work.
CHILD_ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

# Windows of the features, for the exact check of float values (bench_features.yaml).
H, D = 3_600 * 10**9, 86_400 * 10**9
FEATURES = {  # name -> (kind, aggregate, window ns, exclude current)
    "n_1h": ("count", "count", H, False),
    "amt_24h": ("float", "sum", 24 * H, False),
    "avg_30d": ("float", "avg", 30 * D, True),
    "max_7d": ("float", "max", 7 * D, False),
    "std_30d": ("float", "stddev", 30 * D, False),
    "merchants_7d": ("count", "count_distinct", 7 * D, False),
    "secs_since_last": ("float", "time_since_last", 30 * D, False),
    "prev_country": ("string", "previous", 30 * D, False),
}
REL_TOL = 1e-9

TARGET_EVENTS_PER_CORE = 2_000_000  # feature stage
TARGET_RATIO = 20.0
TARGET_BYTES_PER_KEY = 256.0


# --------------------------------------------------------------------------
# Running children


def run_child(argv, label, log_path):
    """Runs argv to completion; wall, user, sys seconds and peak RSS of the child.

    CPU: os.wait4's rusage of the child (and of what it waited for: GNU time's
    own share is about a millisecond). Peak memory from GNU time's %M: a child
    spawned from Python starts as a copy of the Python process, and Linux keeps
    that image's high-water mark in the child's ru_maxrss, so os.wait4's figure
    is max(child, this harness) (see bench/README.md). GNU time forks from a
    1 MiB image. os.wait4's ru_maxrss is kept in the JSON beside it.
    """
    with open(log_path, "wb") as log, tempfile.NamedTemporaryFile("r") as rss:
        launcher = [GNU_TIME, "-f", "%M", "-o", rss.name] if os.access(GNU_TIME, os.X_OK) else []
        start = time.perf_counter()
        proc = subprocess.Popen(launcher + argv, env=CHILD_ENV, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            sys.stderr.write(f"{label} failed with exit code {proc.returncode}: {' '.join(argv)}\n")
            with open(log_path, "rb") as f:
                sys.stderr.write(f.read().decode(errors="replace")[-4000:])
            sys.exit(2)
        if launcher:
            max_rss_kib, source = int(rss.read().split()[-1]), "GNU time %M"
        else:
            max_rss_kib, source = usage.ru_maxrss, "os.wait4 ru_maxrss (upper bound: includes the launcher)"
    return {
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mib": max_rss_kib / 1024.0,  # Linux reports KiB
        "max_rss_from": source,
        "wait4_ru_maxrss_mib": usage.ru_maxrss / 1024.0,
    }


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def warm_page_cache(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def feature_stage_cpu(summary):
    """The feature stage's own CPU seconds from a sluice summary, and where they were found.

    Known shapes: {"stage_cpu_seconds": {"features": s}}, {"stage_seconds":
    {"features": s}}, {"features_cpu_seconds": s}. None when absent.
    """
    for key in ("stage_cpu_seconds", "stage_seconds", "stages"):
        v = summary.get(key)
        if isinstance(v, dict):
            f = v.get("features")
            if isinstance(f, dict):
                f = f.get("cpu_seconds", f.get("cpu_s"))
            if isinstance(f, (int, float)):
                return float(f), f"{key}.features"
    for key in ("features_cpu_seconds", "feature_cpu_seconds", "feature_stage_seconds"):
        if isinstance(summary.get(key), (int, float)):
            return float(summary[key]), key
    return None, None


def run_sluice(args, mode, data, work, rep):
    out = os.path.join(work, f"sluice_{mode}.csv")
    summary_path = os.path.join(work, f"sluice_{mode}_summary.json")
    log = os.path.join(work, f"sluice_{mode}.log")
    command = "run" if mode == "batch" else "stream"
    argv = [args.sluice, command, args.pipeline, "-i", data, "-o", out,
            "--summary", summary_path, "--stats"]
    r = run_child(argv, f"sluice {command}", log)
    with open(summary_path) as f:
        summary = json.load(f)
    with open(log, "rb") as f:
        r["stderr"] = f.read().decode(errors="replace")
    if summary.get("records_read") != args.events or summary.get("records_written") != args.events \
            or summary.get("records_rejected", 0) != 0 or summary.get("records_late", 0) != 0:
        sys.stderr.write(f"sluice {command} did not write every event: {summary}\n")
        sys.exit(2)
    r["summary"] = summary
    r["feature_stage_cpu_s"], r["feature_stage_from"] = feature_stage_cpu(summary)
    r["output_sha256"] = file_digest(out)
    r["rep"] = rep
    return r


def run_pandas(args, data, work, rep):
    out = os.path.join(work, "pandas.csv")
    timings = os.path.join(work, "pandas_timings.json")
    r = run_child([PYTHON, PANDAS_PEER, "--input", data, "--output", out, "--timings", timings],
                  "pandas", os.path.join(work, "pandas.log"))
    with open(timings) as f:
        r["phases"] = json.load(f)
    if r["phases"]["rows"] != args.events:
        sys.stderr.write(f"pandas read {r['phases']['rows']} rows, expected {args.events}\n")
        sys.exit(2)
    r["rep"] = rep
    return r


# --------------------------------------------------------------------------
# Checking sluice against pandas


def exact_value(agg, window_ns, exclude, t, amounts, i, rows):
    """The exact result of a float aggregate for row i, from its card's rows (in order).

    rows: the card's row numbers in canonical order (time, then file order).
    Window: rows j at or before i with t[j] > t[i] - W (i itself unless exclude).
    """
    from decimal import Decimal, localcontext
    from fractions import Fraction

    pos = rows.index(i)
    win = [j for j in rows[:pos + 1] if t[j] > t[i] - window_ns]
    if exclude:
        win = [j for j in win if j != i]
    xs = [Fraction(amounts[j]) for j in win]
    if agg == "sum":
        return float(sum(xs)) if xs else None
    if agg == "avg":
        return float(sum(xs) / len(xs)) if xs else None
    if agg == "max":
        return float(max(xs)) if xs else None
    if agg == "stddev":
        if len(xs) < 2:
            return None
        mean = sum(xs) / len(xs)
        var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
        with localcontext() as ctx:
            ctx.prec = 60
            return float((Decimal(var.numerator) / Decimal(var.denominator)).sqrt())
    if agg == "time_since_last":
        before = [j for j in rows[:pos] if t[j] > t[i] - window_ns]
        return (t[i] - t[before[-1]]) / 1e9 if before else None
    raise ValueError(agg)


class ExactWindows:
    """The input's rows grouped by card in canonical order, loaded on first use."""

    def __init__(self, data_csv, txn_ids):
        self.data_csv, self.txn_ids, self.loaded = data_csv, txn_ids, False

    def value(self, feature, i):
        if not self.loaded:
            import numpy as np
            import pandas as pd
            src = pd.read_csv(self.data_csv, usecols=["txn_id", "ts", "card_id", "amount"],
                              dtype={"txn_id": str, "ts": str, "card_id": str, "amount": float},
                              keep_default_na=False)
            if not (src["txn_id"].to_numpy() == self.txn_ids).all():
                raise SystemExit("the input's rows are not in sluice's output order")
            tns = pd.to_datetime(src["ts"], utc=True).dt.tz_convert(None).to_numpy().view(np.int64)
            order = np.argsort(tns, kind="stable")
            self.by_card = {}
            for j, c in zip(order.tolist(), src["card_id"].to_numpy()[order].tolist()):
                self.by_card.setdefault(c, []).append(j)
            self.t, self.amounts, self.cards = tns.tolist(), src["amount"].tolist(), src["card_id"].tolist()
            self.loaded = True
        _, agg, window_ns, exclude = FEATURES[feature]
        return exact_value(agg, window_ns, exclude, self.t, self.amounts, i, self.by_card[self.cards[i]])


def rel_err(v, exact):
    """|v - exact| / |exact| (absolute when exact is 0); inf when exactly one is null."""
    if exact is None or v is None or math.isnan(v):
        return 0.0 if (exact is None and (v is None or math.isnan(v))) else math.inf
    return abs(v - exact) / abs(exact) if exact else abs(v)


def compare(sluice_csv, pandas_csv, data_csv, exact_sample=1000, seed=1, max_exact=2000):
    """Per feature: rows that differ between sluice and pandas, with examples.

    Counts and strings: exact. Floats: a relative REL_TOL, null only against
    null. A float row outside the tolerance is recomputed exactly (Fractions,
    a 60-digit square root) to tell whose value is off: rows where sluice is
    within REL_TOL of the exact value and pandas is not are "pandas_only_off"
    (pandas' running sums lose digits, mostly in std); the rest are mismatches.
    Besides, `exact_sample` random rows are recomputed exactly for every float
    feature, and both sides' largest relative error on them is reported.
    """
    import numpy as np
    import pandas as pd

    a = pd.read_csv(sluice_csv, dtype=str, keep_default_na=False)
    b = pd.read_csv(pandas_csv, dtype=str, keep_default_na=False)
    report = {"rows_sluice": len(a), "rows_pandas": len(b), "features": {}, "examples": []}
    if len(a) != len(b) or not (a["txn_id"].to_numpy() == b["txn_id"].to_numpy()).all():
        report["row_order_differs"] = True
        b = b.set_index("txn_id").reindex(a["txn_id"]).reset_index()
    exact = ExactWindows(data_csv, a["txn_id"].to_numpy())
    sample = np.random.default_rng(seed).choice(len(a), size=min(exact_sample, len(a)), replace=False)

    def ex(i, col, note=""):
        row = {"txn_id": a.at[i, "txn_id"], "feature": col, "sluice": a.at[i, col],
               "pandas": b.at[i, col] if isinstance(b.at[i, col], str) else "<missing>"}
        if note:
            row["note"] = note
        return row

    for col, (kind, agg, window_ns, exclude) in FEATURES.items():
        x, y = a[col], b[col].fillna("<missing>")
        rep = {"kind": kind, "rows": len(a)}
        if kind in ("count", "string"):
            differ = (x != y).to_numpy()
            rep["mismatches"] = int(differ.sum())
            rep["identical"] = int((~differ).sum())
            for i in np.flatnonzero(differ)[:3]:
                report["examples"].append(ex(i, col))
            report["features"][col] = rep
            continue
        fx = pd.to_numeric(x, errors="coerce").to_numpy(float)
        fy = pd.to_numeric(y, errors="coerce").to_numpy(float)
        bad_text = ((x != "") & np.isnan(fx)) | ((y != "") & np.isnan(fy))  # not numbers at all
        nx, ny = np.isnan(fx), np.isnan(fy)
        null_differs = (nx != ny) | bad_text.to_numpy()
        both = ~nx & ~ny
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(both & (fx != fy),
                           np.abs(fx - fy) / np.maximum(np.abs(fx), np.abs(fy)), 0.0)
        outside = both & (rel > REL_TOL)
        rep["identical"] = int((both & (fx == fy)).sum() + (nx & ny).sum())
        rep["null_mismatches"] = int(null_differs.sum())
        rep["max_rel_diff"] = float(rel.max()) if len(rel) else 0.0
        rep["outside_tolerance"] = int(outside.sum())
        for i in np.flatnonzero(null_differs)[:3]:
            report["examples"].append(ex(i, col, "null on one side only"))
        pandas_only, sluice_off = [], []
        idx = np.flatnonzero(outside)
        for i in idx[:max_exact].tolist():
            e = exact.value(col, i)
            s_err, p_err = rel_err(fx[i], e), rel_err(fy[i], e)
            entry = {"row": i, "txn_id": a.at[i, "txn_id"], "sluice": a.at[i, col],
                     "pandas": b.at[i, col], "exact": repr(e), "sluice_rel_err": s_err,
                     "pandas_rel_err": p_err}
            (pandas_only if s_err <= REL_TOL else sluice_off).append(entry)
        if len(idx) > max_exact:  # not checked: counted as mismatches
            sluice_off.extend({"row": int(i), "unchecked": True} for i in idx[max_exact:])
        rep["pandas_only_off"] = len(pandas_only)
        rep["pandas_only_off_max_rel_err"] = max((e["pandas_rel_err"] for e in pandas_only), default=0.0)
        rep["pandas_only_off_examples"] = pandas_only[:5]
        rep["sluice_max_rel_err_vs_exact_on_those"] = max(
            (e["sluice_rel_err"] for e in pandas_only), default=0.0)
        rep["mismatches"] = rep["null_mismatches"] + len(sluice_off)
        for e in sluice_off[:3]:
            report["examples"].append({"feature": col, **e})
        # A random sample against the exact value, both sides.
        s_errs, p_errs, s_equal = [], [], 0
        for i in sample.tolist():
            e = exact.value(col, i)
            s_errs.append(rel_err(fx[i], e))
            p_errs.append(rel_err(fy[i], e))
            s_equal += (e is None and nx[i]) or (e is not None and fx[i] == e)
        rep["exact_sample"] = {"rows": len(sample), "sluice_max_rel_err": max(s_errs, default=0.0),
                               "pandas_max_rel_err": max(p_errs, default=0.0),
                               "sluice_correctly_rounded": int(s_equal)}
        report["features"][col] = rep
    report["total_mismatches"] = sum(r["mismatches"] for r in report["features"].values())
    return report


# --------------------------------------------------------------------------
# Report


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
            "cpu_model": model, "kernel": platform.release(), "loadavg": os.getloadavg()}


def versions(sluice):
    import numpy
    import pandas
    v = {"pandas": pandas.__version__, "numpy": numpy.__version__, "python": platform.python_version()}
    try:
        v["sluice"] = subprocess.run([sluice, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.strip()
        v["git_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
        v["git_modified_files"] = [line[3:] for line in dirty if line.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    return v


def median(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise_sluice(runs, events):
    m = {k: median(runs, k) for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib",
                                      "feature_stage_cpu_s")}
    m["events_per_s_per_core"] = events / m["cpu_s"]
    m["events_per_s_wall"] = events / m["wall_s"]
    m["feature_stage_events_per_s_per_core"] = (
        events / m["feature_stage_cpu_s"] if m["feature_stage_cpu_s"] else None)
    m["feature_stage_from"] = runs[0]["feature_stage_from"]
    state = runs[-1]["summary"].get("state", {})
    m["live_keys"] = state.get("live_keys")
    m["events_held"] = state.get("events_held")
    m["state_bytes"] = state.get("state_bytes")
    m["window_bytes"] = state.get("window_bytes")
    m["bytes_per_key"] = state.get("bytes_per_key")
    return m


def summarise_pandas(runs, events):
    m = {k: median(runs, k) for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib")}
    for k in ("startup_cpu_s", "read_cpu_s", "features_cpu_s", "write_cpu_s", "read_features_cpu_s",
              "features_wall_s", "read_wall_s", "write_wall_s"):
        m[k] = statistics.median(r["phases"][k] for r in runs)
    m["per_feature_cpu_s"] = {f: statistics.median(r["phases"]["per_feature_cpu_s"][f] for r in runs)
                              for f in runs[0]["phases"]["per_feature_cpu_s"]}
    m["events_per_s_per_core"] = events / m["cpu_s"]
    m["events_per_s_wall"] = events / m["wall_s"]
    m["read_features_events_per_s_per_core"] = events / m["read_features_cpu_s"]
    m["feature_stage_events_per_s_per_core"] = events / m["features_cpu_s"]
    return m


def fmt_rate(v):
    return f"{v:,.0f}" if v else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3, help="runs of each sluice mode (median taken)")
    parser.add_argument("--pandas-reps", type=int, default=None,
                        help="runs of pandas (default: --reps; about 20 s each at 1M events)")
    parser.add_argument("--sluice", default=os.path.join(ROOT, "build/release/src/cli/sluice"))
    parser.add_argument("--pipeline", default=os.path.join(HERE, "bench_features.yaml"))
    parser.add_argument("--work-dir", help="where the input and outputs go (default: a new temporary "
                        "folder, removed at the end unless --keep); an input already there is reused")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--exact-sample", type=int, default=1000,
                        help="random rows whose float features are also recomputed exactly")
    parser.add_argument("--json", help="write the results (every run, the check) to this file")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    pandas_reps = args.reps if args.pandas_reps is None else args.pandas_reps
    if pandas_reps < 1:
        parser.error("--pandas-reps must be at least 1")
    if not os.access(args.sluice, os.X_OK):
        parser.error(f"no sluice binary at {args.sluice}: build it with\n"
                     f"  {ROOT}/scripts/build.sh release\n"
                     "or pass --sluice")
    # A binary older than the sources measures old code (it happened).
    newest = max((os.path.getmtime(os.path.join(d, f))
                  for top in ("src", "include") for d, _, files in os.walk(os.path.join(ROOT, top))
                  for f in files), default=0.0)
    if os.path.getmtime(args.sluice) < newest:
        print(f"warning: {args.sluice} is older than the newest file under src/ or include/: "
              "rebuild it (scripts/build.sh release) or the figures are those of older code",
              file=sys.stderr, flush=True)

    temporary = args.work_dir is None
    work = tempfile.mkdtemp(prefix="sluice-features-bench-") if temporary else args.work_dir
    os.makedirs(work, exist_ok=True)
    try:
        data = os.path.join(work, f"tx_{args.events}_{args.cards}_s{args.seed}.csv")
        if not os.path.exists(data):
            print(f"generating {args.events:,} events over {args.cards:,} cards (seed {args.seed}) "
                  f"into {data} ...", flush=True)
            t0 = time.perf_counter()
            subprocess.run([PYTHON, GENERATOR, "--events", str(args.events), "--cards",
                            str(args.cards), "--seed", str(args.seed), "--output", data,
                            "--labels", os.path.join(work, "labels.csv")],
                           check=True, capture_output=True)
            print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
        warm_page_cache(data)

        runs = {"batch": [], "stream": [], "pandas": []}
        for rep in range(max(args.reps, pandas_reps)):  # alternate: a noisy minute hits every side
            line = [f"rep {rep + 1}:"]
            for mode in ("batch", "stream"):
                if rep < args.reps:
                    r = run_sluice(args, mode, data, work, rep)
                    runs[mode].append(r)
                    stage = (f", features {r['feature_stage_cpu_s']:.2f}"
                             if r["feature_stage_cpu_s"] is not None else "")
                    line.append(f"sluice {mode} wall {r['wall_s']:.2f} cpu {r['cpu_s']:.2f}{stage} "
                                f"rss {r['max_rss_mib']:.0f} MiB;")
            if rep < pandas_reps:
                r = run_pandas(args, data, work, rep)
                runs["pandas"].append(r)
                line.append(f"pandas wall {r['wall_s']:.2f} cpu {r['cpu_s']:.2f} "
                            f"(features {r['phases']['features_cpu_s']:.2f}) "
                            f"rss {r['max_rss_mib']:.0f} MiB")
            print(" ".join(line), flush=True)

        # Every sluice output, batch or stream, every rep: the same bytes.
        digests = {r["output_sha256"] for mode in ("batch", "stream") for r in runs[mode]}
        print("checking the outputs against pandas ...", flush=True)
        checks = {}
        for mode in ("batch", "stream"):
            if mode == "stream" and len(digests) == 1:
                checks["stream"] = checks["batch"]  # the same bytes: the same answer
                continue
            checks[mode] = compare(os.path.join(work, f"sluice_{mode}.csv"),
                                   os.path.join(work, "pandas.csv"), data,
                                   exact_sample=args.exact_sample, seed=args.seed)

        n = args.events
        med = {"batch": summarise_sluice(runs["batch"], n), "stream": summarise_sluice(runs["stream"], n),
               "pandas": summarise_pandas(runs["pandas"], n)}
        p = med["pandas"]
        ratios = {}
        for mode in ("batch", "stream"):
            s = med[mode]
            ratios[mode] = {
                # CPU-based: pandas CPU seconds / sluice CPU seconds for the same events.
                "feature_stage": (p["features_cpu_s"] / s["feature_stage_cpu_s"]
                                  if s["feature_stage_cpu_s"] else None),
                "end_to_end_vs_pandas_process": p["cpu_s"] / s["cpu_s"],
                "end_to_end_vs_pandas_read_features": p["read_features_cpu_s"] / s["cpu_s"],
                "peak_rss_pandas_over_sluice": p["max_rss_mib"] / s["max_rss_mib"],
            }

        # ---- the table
        info = machine_info()
        print()
        print(f"{n:,} events, {args.cards:,} cards (seed {args.seed}), 8 windowed features; "
              f"sluice {args.reps} reps, pandas {pandas_reps}, medians; "
              f"{info['cpus_usable']} usable CPUs, load {info['loadavg'][0]:.1f}")
        hdr = (f"{'':22} {'ev/s/core e2e':>14} {'ev/s/core feat':>15} {'wall s':>7} {'CPU s':>7} "
               f"{'feat CPU s':>10} {'peak RSS MiB':>12} {'B/live key':>10} {'live keys':>10}")
        print(hdr)
        for mode in ("batch", "stream"):
            s = med[mode]
            fs = f"{s['feature_stage_cpu_s']:.2f}" if s["feature_stage_cpu_s"] else "n/a"
            print(f"{'sluice ' + mode:22} {fmt_rate(s['events_per_s_per_core']):>14} "
                  f"{fmt_rate(s['feature_stage_events_per_s_per_core']):>15} {s['wall_s']:7.2f} "
                  f"{s['cpu_s']:7.2f} {fs:>10} {s['max_rss_mib']:12.0f} "
                  f"{s['bytes_per_key'] if s['bytes_per_key'] is not None else float('nan'):10.1f} "
                  f"{s['live_keys'] if s['live_keys'] is not None else 'n/a':>10,}")
        print(f"{'pandas (process)':22} {fmt_rate(p['events_per_s_per_core']):>14} "
              f"{fmt_rate(p['feature_stage_events_per_s_per_core']):>15} {p['wall_s']:7.2f} "
              f"{p['cpu_s']:7.2f} {p['features_cpu_s']:10.2f} {p['max_rss_mib']:12.0f}")
        print(f"{'pandas read+features':22} {fmt_rate(p['read_features_events_per_s_per_core']):>14} "
              f"{'':>15} {'':>7} {p['read_features_cpu_s']:7.2f}")
        print(f"pandas phases (median CPU s): start-up + imports {p['startup_cpu_s']:.2f}, "
              f"read {p['read_cpu_s']:.2f}, features {p['features_cpu_s']:.2f}, "
              f"write {p['write_cpu_s']:.2f}")
        print("pandas per feature (CPU s): " + ", ".join(
            f"{f} {v:.2f}" for f, v in p["per_feature_cpu_s"].items())
            + "  (merchants_7d: a Python loop, not idiomatic pandas)")
        if med["batch"]["feature_stage_cpu_s"] is None:
            print("sluice's summary has no feature-stage CPU time: end-to-end figures only")
        else:
            print(f"feature stage: sluice summary '{med['batch']['feature_stage_from']}' "
                  "(CPU s of the feature stage) against pandas' feature phase (CPU s)")
        print("ratios sluice / pandas (per CPU second):")
        for mode in ("batch", "stream"):
            r = ratios[mode]
            fr = f"{r['feature_stage']:.1f}x" if r["feature_stage"] else "n/a"
            print(f"  {mode:6}: feature stage {fr}; end to end {r['end_to_end_vs_pandas_process']:.1f}x "
                  f"(pandas process) / {r['end_to_end_vs_pandas_read_features']:.1f}x "
                  f"(pandas read+features only); peak memory 1/{r['peak_rss_pandas_over_sluice']:.1f}")

        # ---- agreement
        print(f"outputs: {len(digests)} distinct sluice output{'s' if len(digests) != 1 else ''} "
              f"over {args.reps} batch + {args.reps} stream runs "
              f"({'batch and stream byte-identical' if len(digests) == 1 else 'THEY DIFFER'})")
        ok = len(digests) == 1
        for mode in ("batch", "stream"):
            c = checks[mode]
            if mode == "stream" and c is checks["batch"]:
                print("mismatches sluice stream vs pandas: as batch (the same bytes)")
                continue
            parts = []
            for col, r in c["features"].items():
                text = f"{col} {r['mismatches']}"
                if r.get("pandas_only_off"):
                    text += (f" (+{r['pandas_only_off']} where pandas is off, "
                             f"max rel err {r['pandas_only_off_max_rel_err']:.1e})")
                parts.append(text)
            print(f"mismatches sluice {mode} vs pandas, {c['rows_sluice']:,} rows: " + ", ".join(parts))
            ok = ok and c["total_mismatches"] == 0 and c["rows_sluice"] == c["rows_pandas"] == n
            for e in c["examples"][:6]:
                print(f"  {e}")
        print(f"float features against an exact computation (Fractions) on "
              f"{args.exact_sample:,} random rows, max relative error sluice / pandas: " + ", ".join(
                  f"{col} {r['exact_sample']['sluice_max_rel_err']:.1e} / "
                  f"{r['exact_sample']['pandas_max_rel_err']:.1e} (sluice exact on "
                  f"{r['exact_sample']['sluice_correctly_rounded']})"
                  for col, r in checks["batch"]["features"].items() if "exact_sample" in r))
        std = checks["batch"]["features"]["std_30d"]
        print(f"std_30d: {std['outside_tolerance']} rows differ by more than {REL_TOL:g} relative "
              f"(largest difference {std['max_rel_diff']:.1e}); of those, pandas is off (sluice "
              f"within {REL_TOL:g} of the exact value) on {std['pandas_only_off']}"
              + (f", pandas' max relative error {std['pandas_only_off_max_rel_err']:.1e}"
                 if std["pandas_only_off"] else ""))
        for col, r in checks["batch"]["features"].items():
            for e in r.get("pandas_only_off_examples", [])[:2]:
                print(f"  pandas off ({col}): txn {e['txn_id']}: sluice {e['sluice']}, pandas {e['pandas']}, "
                      f"exact {e['exact']}")
        b = med["batch"]
        stage_rate = b["feature_stage_events_per_s_per_core"]
        fr = ratios["batch"]["feature_stage"]
        print("targets (batch): "
              f">= {TARGET_EVENTS_PER_CORE:,} events/s per core for the feature stage: "
              f"{'n/a' if stage_rate is None else ('met' if stage_rate >= TARGET_EVENTS_PER_CORE else 'NOT met')}"
              f"; >= {TARGET_RATIO:.0f}x pandas (feature stage): "
              f"{'n/a' if fr is None else ('met' if fr >= TARGET_RATIO else 'NOT met')}"
              f"; < {TARGET_BYTES_PER_KEY:.0f} bytes per live key: "
              f"{'n/a' if b['bytes_per_key'] is None else ('met' if b['bytes_per_key'] < TARGET_BYTES_PER_KEY else 'NOT met')}")

        if args.json:
            for mode in ("batch", "stream"):
                for r in runs[mode]:
                    r["stderr"] = r["stderr"][-3000:]
            result = {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "machine": info, "versions": versions(args.sluice),
                "events": n, "cards": args.cards, "seed": args.seed, "reps": args.reps,
                "pandas_reps": pandas_reps, "input_bytes": os.path.getsize(data),
                "pipeline": os.path.relpath(args.pipeline, ROOT), "sluice": args.sluice,
                "median": med, "ratios": ratios, "runs": runs, "check": checks,
                "sluice_outputs_identical": len(digests) == 1,
                "targets": {"feature_stage_events_per_s_per_core": TARGET_EVENTS_PER_CORE,
                            "ratio": TARGET_RATIO, "bytes_per_key": TARGET_BYTES_PER_KEY},
            }
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2, default=float)
            print(f"wrote {args.json}")
        return 0 if ok else 1
    finally:
        if temporary and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif temporary:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
