#!/usr/bin/python3
"""Decision-stage benchmark: sluice's policies (a 50-row table and 20 rules) against pandas.

    /usr/bin/python3 bench/decide/run_decide_bench.py [--rows 2000000] [--reps 3] [--variants]

Two million loan applications (bench/decide/gen_applications.py, seeded,
generated once into a temporary folder), three ratio features, a 50-row
pricing table (hit policy first) whose band and rate feed 20 ordered rules
with reasons and outputs (bench/decide/bench_decide.yaml), decided by

  * `sluice run bench_decide.yaml -i IN -o OUT --summary S.json`, and
  * pandas 1.5 (bench/decide/pandas_decide.py: the table as one vectorised
    mask per row in row order, the rules with np.select),

each as a child process, --reps times, alternating. For every run: wall time,
CPU time of the child (user + sys, os.wait4), peak resident memory (GNU time's
%M), and for sluice the decision stage's own CPU seconds from its summary
(`stage_cpu_seconds.decisions`: thread CPU time around the decision stage,
which evaluates the conditions, table cells and output values, chooses, and
renders the reason texts; reading and writing CSV are outside it), for pandas
the CPU seconds of its policy code alone (time.process_time around table,
rules, outputs and reasons). Decisions/s per core = records / those seconds.

Then every record of sluice's output is compared with pandas': action, rule
and band exactly, the other outputs, the reasons and the features too (floats
to a relative 1e-12). All sluice outputs of the reps must be the same bytes.

--variants also runs sluice alone on pipelines derived from bench_decide.yaml
(no policies; the table alone; the rules behind a one-row table; texts
without quoted values) to show where the decision stage's time goes.

Exit status: 0 when sluice and pandas agree on every record, 1 when not, 2
when a step failed. The speed target (5M decisions/s per core for the stage)
is reported as met or missed, not an error.
"""

import argparse
import copy
import datetime
import hashlib
import json
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
GENERATOR = os.path.join(HERE, "gen_applications.py")
PANDAS_PEER = os.path.join(HERE, "pandas_decide.py")
GNU_TIME = "/usr/bin/time"

# The children run on one thread each: records/s per core is about one core's work.
CHILD_ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

TARGET_DECISIONS_PER_CORE = 5_000_000  # the decision stage

EXACT_COLUMNS = ["action", "rule", "band"]                # must be equal on every record
STRING_COLUMNS = ["reason_codes", "reason_texts"]         # also checked, exactly
FLOAT_COLUMNS = ["offer_rate", "max_amount", "monthly_payment", "dti", "loan_to_income"]
REL_TOL = 1e-12


# --------------------------------------------------------------------------
# Running children


def run_child(argv, label, log_path):
    """Runs argv to completion; wall, user, sys seconds and peak RSS of the child.

    CPU: os.wait4's rusage of the child. Peak memory: GNU time's %M, because a
    child spawned from Python inherits the harness's high-water mark in its
    ru_maxrss (see bench/README.md, batch benchmark); os.wait4's is kept too.
    """
    with open(log_path, "wb") as log, tempfile.NamedTemporaryFile("r") as rss:
        launcher = [GNU_TIME, "-f", "%M", "-o", rss.name] if os.access(GNU_TIME, os.X_OK) else []
        start = time.perf_counter()
        proc = subprocess.Popen(launcher + argv, env=CHILD_ENV, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.stderr.write(f"{label} failed with exit code {code}: {' '.join(argv)}\n")
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


def stage_cpu(summary, stage):
    """A stage's own CPU seconds from a sluice summary, and the key it was found under.

    Known shapes: {"stage_cpu_seconds": {"decisions": s}} (FormatSummaryJson),
    {"decisions_cpu_seconds": s} (RunSummary's field name). None when absent.
    """
    v = summary.get("stage_cpu_seconds")
    if isinstance(v, dict) and isinstance(v.get(stage), (int, float)):
        return float(v[stage]), f"stage_cpu_seconds.{stage}"
    key = f"{stage}_cpu_seconds"
    if isinstance(summary.get(key), (int, float)):
        return float(summary[key]), key
    return None, None


def run_sluice(args, pipeline, data, work, tag):
    out = os.path.join(work, f"sluice_{tag}.csv")
    summary_path = os.path.join(work, f"sluice_{tag}_summary.json")
    log = os.path.join(work, f"sluice_{tag}.log")
    argv = [args.sluice, "run", pipeline, "-i", data, "-o", out, "--summary", summary_path,
            "--quiet"]
    r = run_child(argv, "sluice run", log)
    with open(summary_path) as f:
        summary = json.load(f)
    if summary.get("records_read") != args.rows or summary.get("records_written") != args.rows \
            or summary.get("records_rejected", 0) != 0:
        sys.stderr.write(f"sluice did not write every record: {summary}\n")
        sys.exit(2)
    r["summary"] = summary
    r["decision_stage_cpu_s"], r["decision_stage_from"] = stage_cpu(summary, "decisions")
    r["feature_stage_cpu_s"], _ = stage_cpu(summary, "features")
    r["output_sha256"] = file_digest(out)
    return r


def run_pandas(args, data, work):
    out = os.path.join(work, "pandas.csv")
    timings = os.path.join(work, "pandas_timings.json")
    r = run_child([PYTHON, PANDAS_PEER, "--input", data, "--output", out, "--timings", timings],
                  "pandas", os.path.join(work, "pandas.log"))
    with open(timings) as f:
        r["phases"] = json.load(f)
    if r["phases"]["rows"] != args.rows:
        sys.stderr.write(f"pandas read {r['phases']['rows']} rows, expected {args.rows}\n")
        sys.exit(2)
    return r


# --------------------------------------------------------------------------
# Pipelines derived from bench_decide.yaml (--variants)


def variants(pipeline_path, work):
    """Writes the variant pipelines into `work`; returns [(name, path, what it shows)]."""
    import yaml

    with open(pipeline_path) as f:
        base = yaml.safe_load(f)
    feature_fields = ["app_id", "monthly_payment", "dti", "loan_to_income"]
    out = []

    def write(name, spec, what):
        path = os.path.join(work, f"variant_{name}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(spec, f, sort_keys=False, width=120)
        out.append((name, path, what))

    # Features only: the cost of everything but the decision stage.
    v = copy.deepcopy(base)
    for k in ("policies", "decision", "reason_codes"):
        v.pop(k, None)
    v["output"] = {"fields": feature_fields}
    write("no_policies", v, "reading, features, writing: no decision stage")

    # The 50-row table alone, its band and rate written out.
    v = copy.deepcopy(base)
    v.pop("decision")
    v.pop("reason_codes")
    v["output"] = {"fields": feature_fields + ["risk_band.band", "risk_band.rate"]}
    write("table_only", v, "the 50-row table (3 inputs), no rules")

    # The 20 rules behind a one-row, one-input table: the rules' own cost.
    v = copy.deepcopy(base)
    t = v["policies"][0]["table"]
    t["inputs"] = ["bureau_score"]
    t["rows"] = [["-", "C", "0.1299"]]
    write("rules_trivial_table", v, "the 20 rules behind a 1-row table (band C for everyone)")

    # The full policy with texts that quote no values.
    v = copy.deepcopy(base)
    for code, entry in v["reason_codes"].items():
        if isinstance(entry, dict):
            v["reason_codes"][code] = code.replace("_", " ").capitalize()
    write("plain_texts", v, "the full policy, reason texts without quoted values")
    return out


# --------------------------------------------------------------------------
# Checking sluice against pandas


def compare(sluice_csv, pandas_csv, examples=10):
    """Per column: records that differ, with the first examples."""
    import numpy as np
    import pandas as pd

    a = pd.read_csv(sluice_csv, dtype=str, keep_default_na=False)
    b = pd.read_csv(pandas_csv, dtype=str, keep_default_na=False)
    report = {"rows_sluice": len(a), "rows_pandas": len(b), "columns": {}, "examples": []}
    if list(a.columns) != list(b.columns):
        report["columns_differ"] = {"sluice": list(a.columns), "pandas": list(b.columns)}
    if len(a) != len(b) or not (a["app_id"].to_numpy() == b["app_id"].to_numpy()).all():
        report["row_order_differs"] = True
        b = b.set_index("app_id").reindex(a["app_id"]).reset_index()

    def example(i, col, note=""):
        e = {"app_id": a.at[i, "app_id"], "column": col, "sluice": a.at[i, col],
             "pandas": b.at[i, col] if isinstance(b.at[i, col], str) else "<missing>",
             "sluice_rule": a.at[i, "rule"], "pandas_rule": b.at[i, "rule"]}
        if note:
            e["note"] = note
        return e

    for col in EXACT_COLUMNS + STRING_COLUMNS:
        if col not in b:
            report["columns"][col] = {"mismatches": len(a), "missing_in_pandas": True}
            continue
        differ = (a[col] != b[col].fillna("<missing>")).to_numpy()
        report["columns"][col] = {"mismatches": int(differ.sum())}
        for i in np.flatnonzero(differ)[:examples].tolist():
            report["examples"].append(example(i, col))
    for col in FLOAT_COLUMNS:
        if col not in b:
            report["columns"][col] = {"mismatches": len(a), "missing_in_pandas": True}
            continue
        x, y = a[col], b[col].fillna("<missing>")
        fx = pd.to_numeric(x, errors="coerce").to_numpy(float)
        fy = pd.to_numeric(y, errors="coerce").to_numpy(float)
        bad = (((x != "") & np.isnan(fx)) | ((y != "") & np.isnan(fy))).to_numpy()
        nx, ny = np.isnan(fx), np.isnan(fy)
        both = ~nx & ~ny
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(both & (fx != fy), np.abs(fx - fy) / np.maximum(np.abs(fx), np.abs(fy)),
                           0.0)
        differ = (nx != ny) | bad | (both & (rel > REL_TOL))
        report["columns"][col] = {"mismatches": int(differ.sum()),
                                  "not_bit_identical": int((both & (fx != fy)).sum()),
                                  "max_rel_diff": float(rel.max()) if len(rel) else 0.0}
        for i in np.flatnonzero(differ)[:examples].tolist():
            report["examples"].append(example(i, col))
    report["decisions_differ"] = sum(report["columns"][c]["mismatches"] for c in EXACT_COLUMNS)
    report["total_mismatches"] = sum(r["mismatches"] for r in report["columns"].values())
    ok_rows = report["rows_sluice"] == report["rows_pandas"] and not report.get("row_order_differs")
    report["ok"] = ok_rows and report["total_mismatches"] == 0 and "columns_differ" not in report
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
    except (OSError, subprocess.SubprocessError):
        pass
    v["sluice_binary_sha256"] = file_digest(sluice)
    v["sluice_binary_mtime"] = datetime.datetime.fromtimestamp(
        os.path.getmtime(sluice), datetime.timezone.utc).isoformat(timespec="seconds")
    # Others edit src/ while benchmarks run: the decision code's state, by content.
    h = hashlib.sha256()
    decide = os.path.join(ROOT, "src", "decide")
    for dirpath, _, files in sorted(os.walk(decide)):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, ROOT).encode())
            h.update(file_digest(path).encode())
    v["src_decide_sha256"] = h.hexdigest()
    return v


def median(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise_sluice(runs, n):
    m = {k: median(runs, k) for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib",
                                      "decision_stage_cpu_s", "feature_stage_cpu_s")}
    m["records_per_s_per_core"] = n / m["cpu_s"]
    m["records_per_s_wall"] = n / m["wall_s"]
    d = m["decision_stage_cpu_s"]
    m["decisions_per_s_per_core"] = n / d if d else None  # (near 0 without policies)
    m["ns_per_decision"] = d / n * 1e9 if d else None
    m["decision_stage_share_of_cpu"] = d / m["cpu_s"] if d else None
    m["decision_stage_from"] = runs[0]["decision_stage_from"]
    m["cores_used"] = m["cpu_s"] / m["wall_s"]
    return m


def summarise_pandas(runs, n):
    m = {k: median(runs, k) for k in ("wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib")}
    for k in ("startup_cpu_s", "read_cpu_s", "features_cpu_s", "policy_cpu_s",
              "policy_reasons_cpu_s", "write_cpu_s"):
        m[k] = statistics.median(r["phases"][k] for r in runs)
    m["policy_without_reasons_cpu_s"] = statistics.median(
        r["phases"]["policy_cpu_s"] - r["phases"]["policy_reasons_cpu_s"] for r in runs)
    m["records_per_s_per_core"] = n / m["cpu_s"]
    m["records_per_s_wall"] = n / m["wall_s"]
    m["policy_decisions_per_s_per_core"] = n / m["policy_cpu_s"]
    m["ns_per_decision"] = m["policy_cpu_s"] / n * 1e9
    m["cores_used"] = m["cpu_s"] / m["wall_s"]
    return m


def fmt_rate(v):
    return f"{v:,.0f}" if v else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reps", type=int, default=3, help="runs of each side (median taken)")
    parser.add_argument("--sluice", default=os.path.join(ROOT, "build/helper-bench/src/cli/sluice"))
    parser.add_argument("--pipeline", default=os.path.join(HERE, "bench_decide.yaml"))
    parser.add_argument("--variants", action="store_true",
                        help="also run sluice on derived pipelines (where the stage's time goes)")
    parser.add_argument("--work-dir", help="where the input and outputs go (default: a new temporary "
                        "folder, removed at the end unless --keep); an input already there is reused")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench/results/decide.json"),
                        help="write the results (every run, the check) here; '' for none")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if not os.access(args.sluice, os.X_OK):
        parser.error(f"no sluice binary at {args.sluice}: build it with\n"
                     f"  cmake -S {ROOT} -B {ROOT}/build/helper-bench -G Ninja "
                     f"-DCMAKE_BUILD_TYPE=Release && nice cmake --build {ROOT}/build/helper-bench "
                     "--target sluice\nor pass --sluice")

    temporary = args.work_dir is None
    work = tempfile.mkdtemp(prefix="sluice-decide-bench-") if temporary else args.work_dir
    os.makedirs(work, exist_ok=True)
    try:
        n = args.rows
        data = os.path.join(work, f"apps_{n}_s{args.seed}.csv")
        if not os.path.exists(data):
            print(f"generating {n:,} applications (seed {args.seed}) into {data} ...", flush=True)
            t0 = time.perf_counter()
            subprocess.run([PYTHON, GENERATOR, "--rows", str(n), "--seed", str(args.seed),
                            "--out", data], check=True, capture_output=True)
            print(f"  {time.perf_counter() - t0:.1f} s, {os.path.getsize(data) / 2**20:.0f} MiB",
                  flush=True)
        subprocess.run([args.sluice, "check", args.pipeline], check=True, capture_output=True)
        warm_page_cache(data)

        runs = {"sluice": [], "pandas": []}
        for rep in range(args.reps):  # alternate: a noisy minute hits both sides
            s = run_sluice(args, args.pipeline, data, work, "full")
            s["rep"] = rep
            runs["sluice"].append(s)
            p = run_pandas(args, data, work)
            p["rep"] = rep
            runs["pandas"].append(p)
            print(f"rep {rep + 1}: sluice wall {s['wall_s']:.2f} cpu {s['cpu_s']:.2f} "
                  f"(decisions {s['decision_stage_cpu_s'] or float('nan'):.3f}) "
                  f"rss {s['max_rss_mib']:.0f} MiB; pandas wall {p['wall_s']:.2f} cpu {p['cpu_s']:.2f} "
                  f"(policy {p['phases']['policy_cpu_s']:.2f}) rss {p['max_rss_mib']:.0f} MiB",
                  flush=True)

        variant_runs = {}
        if args.variants:
            for name, path, what in variants(args.pipeline, work):
                subprocess.run([args.sluice, "check", path], check=True, capture_output=True)
                vr = []
                for rep in range(args.reps):
                    r = run_sluice(args, path, data, work, f"variant_{name}")
                    r["rep"] = rep
                    r.pop("summary", None)
                    vr.append(r)
                m = summarise_sluice(vr, n)
                if name == "no_policies":  # no stage: its few microseconds give no rate
                    m["decisions_per_s_per_core"] = m["ns_per_decision"] = None
                variant_runs[name] = {"what": what, "runs": vr, "median": m}
                m = variant_runs[name]["median"]
                print(f"variant {name}: cpu {m['cpu_s']:.2f}, decisions "
                      f"{m['decision_stage_cpu_s'] or 0:.3f} s ({what})", flush=True)

        digests = {r["output_sha256"] for r in runs["sluice"]}
        print("checking sluice's output against pandas' ...", flush=True)
        check = compare(os.path.join(work, "sluice_full.csv"), os.path.join(work, "pandas.csv"))

        med = {"sluice": summarise_sluice(runs["sluice"], n),
               "pandas": summarise_pandas(runs["pandas"], n)}
        s, p = med["sluice"], med["pandas"]
        ratios = {
            # pandas CPU seconds / sluice CPU seconds for the same records.
            "decision_stage_vs_pandas_policy": (p["policy_cpu_s"] / s["decision_stage_cpu_s"]
                                                if s["decision_stage_cpu_s"] else None),
            "end_to_end_vs_pandas_process": p["cpu_s"] / s["cpu_s"],
            "peak_rss_pandas_over_sluice": p["max_rss_mib"] / s["max_rss_mib"],
        }
        stage_rate = s["decisions_per_s_per_core"]
        target = {"decisions_per_s_per_core": TARGET_DECISIONS_PER_CORE,
                  "measured": stage_rate,
                  "met": None if stage_rate is None else stage_rate >= TARGET_DECISIONS_PER_CORE}

        # ---- the table
        info = machine_info()
        print()
        print(f"{n:,} loan applications (seed {args.seed}, {os.path.getsize(data) / 2**20:.0f} MiB "
              f"CSV); 3 features, a 50-row table (first hit), 20 ordered rules; {args.reps} reps "
              f"each, alternating, medians; {info['cpus_usable']} usable CPUs, "
              f"load {info['loadavg'][0]:.1f}")
        print(f"{'':18} {'stage dec/s/core':>17} {'stage CPU s':>11} {'e2e rec/s/core':>15} "
              f"{'CPU s':>7} {'wall s':>7} {'peak RSS MiB':>12}")
        stage_s = f"{s['decision_stage_cpu_s']:.3f}" if s["decision_stage_cpu_s"] else "n/a"
        print(f"{'sluice run':18} {fmt_rate(stage_rate):>17} {stage_s:>11} "
              f"{fmt_rate(s['records_per_s_per_core']):>15} {s['cpu_s']:7.2f} {s['wall_s']:7.2f} "
              f"{s['max_rss_mib']:12.0f}")
        print(f"{'pandas 1.5':18} {fmt_rate(p['policy_decisions_per_s_per_core']):>17} "
              f"{p['policy_cpu_s']:11.3f} {fmt_rate(p['records_per_s_per_core']):>15} "
              f"{p['cpu_s']:7.2f} {p['wall_s']:7.2f} {p['max_rss_mib']:12.0f}")
        if s["decision_stage_cpu_s"] is None:
            print("sluice's summary has no decision-stage CPU time: end-to-end figures only")
        else:
            print(f"sluice decision stage: {s['ns_per_decision']:.0f} ns per record, "
                  f"{100 * s['decision_stage_share_of_cpu']:.0f}% of the run's CPU "
                  f"(summary '{s['decision_stage_from']}'); features "
                  f"{s['feature_stage_cpu_s'] or 0:.3f} s")
        print(f"pandas phases (median CPU s): start-up + imports {p['startup_cpu_s']:.2f}, read "
              f"{p['read_cpu_s']:.2f}, features {p['features_cpu_s']:.3f}, policy "
              f"{p['policy_cpu_s']:.3f} (of which reason codes and texts {p['policy_reasons_cpu_s']:.3f}, "
              f"a Python loop for the texts that quote values), write {p['write_cpu_s']:.2f}")
        dr = ratios["decision_stage_vs_pandas_policy"]
        print("sluice / pandas per CPU second: decision stage vs pandas' policy code "
              f"{'n/a' if dr is None else f'{dr:.1f}x'}; end to end "
              f"{ratios['end_to_end_vs_pandas_process']:.1f}x; peak memory "
              f"1/{ratios['peak_rss_pandas_over_sluice']:.1f}")
        print(f"pandas' policy without the reasons (table, rules, outputs): "
              f"{p['policy_without_reasons_cpu_s']:.3f} CPU s, "
              f"{fmt_rate(n / p['policy_without_reasons_cpu_s'])} decisions/s per core")
        if variant_runs:
            print("sluice variants (median; decisions/s per core of the stage):")
            for name, v in variant_runs.items():
                m = v["median"]
                has_stage = name != "no_policies"
                rate = fmt_rate(m["decisions_per_s_per_core"]) if has_stage else "-"
                print(f"  {name:20} stage {m['decision_stage_cpu_s'] or 0:6.3f} s {rate:>12}/s, "
                      f"CPU {m['cpu_s']:5.2f} s: {v['what']}")
        print(f"target: >= {TARGET_DECISIONS_PER_CORE:,} decisions/s per core for the decision "
              f"stage: " + ("n/a" if target["met"] is None else
                            f"{'met' if target['met'] else 'MISSED'} ({fmt_rate(stage_rate)})"))

        # ---- agreement
        print(f"sluice outputs: {len(digests)} distinct over {args.reps} runs"
              f"{'' if len(digests) == 1 else ' (THEY DIFFER)'}")
        print(f"records compared: {check['rows_sluice']:,} sluice, {check['rows_pandas']:,} pandas; "
              "mismatches: " + ", ".join(f"{c} {r['mismatches']}" for c, r in check["columns"].items()))
        for e in check["examples"][:10]:
            print(f"  {e}")
        ok = check["ok"] and len(digests) == 1

        if args.json:
            for r in runs["sluice"]:
                r["summary"].pop("reasons", None)
            result = {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "machine": info, "versions": versions(args.sluice),
                "rows": n, "seed": args.seed, "reps": args.reps, "input_bytes": os.path.getsize(data),
                "pipeline": os.path.relpath(args.pipeline, ROOT), "sluice": args.sluice,
                "median": med, "ratios": ratios, "target": target, "runs": runs,
                "variants": variant_runs, "check": check,
                "sluice_outputs_identical": len(digests) == 1,
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
