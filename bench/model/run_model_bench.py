#!/usr/bin/python3
"""Model-scoring benchmark: sluice against libxgboost, both models, one thread.

Trains the models if bench/data/ lacks them, builds model_bench
(build/bench, Release, -DSLUICE_BUILD_BENCH=ON), runs it on each model,
prints a table with the ratios against the targets and writes
bench/results/model.json. Exit status: 0 when sluice's answers equal
XGBoost's (probabilities and contributions within --tolerance), 1 when they
do not, 2 when a step failed. Missing a speed target is reported, not an
error.

Run from anywhere with Debian's interpreter:
  /usr/bin/python3 bench/model/run_model_bench.py
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "bench", "data")
MODELS = (("small", "model_small.json", "150 trees, depth 6"),
          ("deep", "model_deep.json", "400 trees, depth 10"))
ROWS = os.path.join(DATA, "model_rows.f32")
TARGETS = {"batch": 2.0, "single": 10.0, "shap": 2.0}


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=7, help="batch and single-record repetitions")
    ap.add_argument("--single-calls", type=int, default=20000)
    ap.add_argument("--shap-rows", type=int, default=2000, help="TreeSHAP rows, small model")
    ap.add_argument("--shap-rows-deep", type=int, default=200,
                    help="TreeSHAP rows, deep model (about 0.1 s per row for both sides together)")
    ap.add_argument("--shap-reps", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="a model_bench to run instead of build/bench's (implies "
                    "--no-build), e.g. one built from another commit for a before/after")
    ap.add_argument("--kernel", choices=("scalar", "avx2", "avx512"),
                    help="sluice's tree-walk kernel (SLUICE_MODEL_KERNEL); default: the fastest "
                    "the processor runs")
    ap.add_argument("--tolerance", type=float, default=1e-5,
                    help="largest accepted |sluice - XGBoost| (probabilities, contributions)")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "model.json"))
    args = ap.parse_args()

    try:
        if not all(os.path.exists(os.path.join(DATA, m[1])) for m in MODELS) or not os.path.exists(ROWS):
            run(["/usr/bin/python3", os.path.join(ROOT, "bench", "model", "train_models.py")])
        if not args.no_build and not args.binary:
            run(["cmake", "-S", ".", "-B", "build/bench", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                 "-DSLUICE_BUILD_BENCH=ON"], stdout=subprocess.DEVNULL)
            run(["ninja", "-C", "build/bench", "model_bench"], stdout=subprocess.DEVNULL)
        binary = args.binary or os.path.join(ROOT, "build", "bench", "bench", "model", "model_bench")
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop("SLUICE_MODEL_KERNEL", None)
        if args.kernel:
            env["SLUICE_MODEL_KERNEL"] = args.kernel
        results = {}
        for key, file, _ in MODELS:
            shap_rows = args.shap_rows_deep if key == "deep" else args.shap_rows
            out = run([binary, "--model", os.path.join(DATA, file), "--rows", ROWS,
                       "--reps", str(args.reps), "--single-calls", str(args.single_calls),
                       "--shap-rows", str(shap_rows), "--shap-reps", str(args.shap_reps)],
                      env=env, stdout=subprocess.PIPE, text=True)
            results[key] = json.loads(out.stdout)
    except (subprocess.CalledProcessError, OSError, json.JSONDecodeError) as e:
        print(f"run_model_bench: {e}", file=sys.stderr)
        return 2

    summary = {}
    lines = []
    ok = True
    for key, _, label in MODELS:
        r = results[key]
        rows = r["rows"]
        b = r["batch"]
        xgb_batch_name = min(("xgboost_dmatrix", "xgboost_dense"), key=lambda n: b[n]["cpu_s_median"])
        s = r["single"]
        xs = s["xgboost"][s["xgboost_fastest"]]
        sh = r["shap"]
        m = {
            "batch_rows_per_cpu_s": {"sluice": rows / b["sluice"]["cpu_s_median"],
                                     "xgboost": rows / b[xgb_batch_name]["cpu_s_median"],
                                     "xgboost_call": xgb_batch_name},
            "batch_rows_per_wall_s": {"sluice": rows / b["sluice"]["wall_s_median"],
                                      "xgboost": rows / b[xgb_batch_name]["wall_s_median"]},
            "single_p50_us": {"sluice": s["sluice"]["p50_ns"] / 1e3, "xgboost": xs["p50_ns"] / 1e3},
            "single_p99_us": {"sluice": s["sluice"]["p99_ns"] / 1e3, "xgboost": xs["p99_ns"] / 1e3},
            "single_p999_us": {"sluice": s["sluice"]["p999_ns"] / 1e3, "xgboost": xs["p999_ns"] / 1e3},
            "shap_us_per_row_cpu": {"sluice": sh["sluice"]["cpu_s_median"] / sh["rows"] * 1e6,
                                    "xgboost": sh["xgboost"]["cpu_s_median"] / sh["rows"] * 1e6},
            "shap_us_per_row_wall": {"sluice": sh["sluice"]["wall_s_median"] / sh["rows"] * 1e6,
                                     "xgboost": sh["xgboost"]["wall_s_median"] / sh["rows"] * 1e6},
        }
        m["batch_rows_per_cpu_s"]["ratio"] = m["batch_rows_per_cpu_s"]["sluice"] / m["batch_rows_per_cpu_s"]["xgboost"]
        m["batch_rows_per_wall_s"]["ratio"] = m["batch_rows_per_wall_s"]["sluice"] / m["batch_rows_per_wall_s"]["xgboost"]
        for k in ("single_p50_us", "single_p99_us", "single_p999_us", "shap_us_per_row_cpu", "shap_us_per_row_wall"):
            m[k]["ratio"] = m[k]["xgboost"] / m[k]["sluice"]
        m["targets"] = {
            "batch": {"target": TARGETS["batch"], "ratio": m["batch_rows_per_cpu_s"]["ratio"]},
            "single_p50": {"target": TARGETS["single"], "ratio": m["single_p50_us"]["ratio"]},
            "single_p99": {"target": TARGETS["single"], "ratio": m["single_p99_us"]["ratio"]},
            "shap": {"target": TARGETS["shap"], "ratio": m["shap_us_per_row_cpu"]["ratio"]},
        }
        for t in m["targets"].values():
            t["met"] = t["ratio"] >= t["target"]
        c = r["check"]
        same = (c["max_abs_diff_probability"] <= args.tolerance
                and c["max_abs_diff_contribution"] <= args.tolerance)
        ok = ok and same
        summary[key] = m

        lines.append(f"\n{key}: {label}, {rows} rows "
                     f"(XGBoost {r['xgboost_version']}, threads in process: {r['process']['threads']}, "
                     f"sluice kernel: {r['process'].get('sluice_scoring_kernel', 'not reported')})")
        lines.append(f"  {'measure':<34} {'sluice':>12} {'xgboost':>12} {'ratio':>7} {'target':>7}")
        def row(name, d, fmt, target=None):
            t = "" if target is None else (f"{target:.0f}x " + ("ok" if d["ratio"] >= target else "MISS"))
            lines.append(f"  {name:<34} {fmt(d['sluice']):>12} {fmt(d['xgboost']):>12} "
                         f"{d['ratio']:>6.2f}x {t:>7}")
        krows = lambda v: f"{v / 1e3:,.0f}k"
        us = lambda v: f"{v:,.2f}"
        row("batch rows/s per CPU-s", m["batch_rows_per_cpu_s"], krows, TARGETS["batch"])
        row("batch rows/s (wall)", m["batch_rows_per_wall_s"], krows)
        row("single record p50 us", m["single_p50_us"], us, TARGETS["single"])
        row("single record p99 us", m["single_p99_us"], us, TARGETS["single"])
        row("single record p99.9 us", m["single_p999_us"], us)
        row("TreeSHAP us/row (CPU)", m["shap_us_per_row_cpu"], us, TARGETS["shap"])
        row("TreeSHAP us/row (wall)", m["shap_us_per_row_wall"], us)
        lines.append(f"  XGBoost batch call: {xgb_batch_name}; single record: {s['xgboost_fastest']}")
        lines.append("  other XGBoost single-record calls, p50 us: " + "; ".join(
            f"{n}: {v['p50_ns'] / 1e3:.2f}" for n, v in s["xgboost"].items() if n != s["xgboost_fastest"]))
        lines.append(f"  check: max |diff| probability {c['max_abs_diff_probability']:.3g}, margin "
                     f"{c['max_abs_diff_margin']:.3g} ({c['margins_bit_equal']} of {rows} bit-equal), "
                     f"contribution {c['max_abs_diff_contribution']:.3g} over {sh['rows']} rows; "
                     f"{'same' if same else 'DIFFERENT'}")
        p = r["process"]
        lines.append(f"  process: user {p['user_s']:.1f} s, sys {p['sys_s']:.1f} s, peak RSS "
                     f"{p['peak_rss_mib']:.0f} MiB (model in memory: sluice {p['rss_sluice_model_mib']:.1f} "
                     f"MiB, XGBoost {p['rss_xgboost_model_mib']:.1f} MiB)")
        if "sluice_load_cpu_s" in p:
            lines.append(f"  load CPU s: sluice {p['sluice_load_cpu_s']:.3f} (TreeSHAP tables "
                         f"{p['sluice_contribution_table_mib']:.1f} MiB), XGBoost "
                         f"{p['xgboost_load_cpu_s']:.3f}")
    print("\n".join(lines))

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results, "w") as f:
        json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "machine": {"node": platform.node(), "cpus": os.cpu_count(),
                               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                            if l.startswith("model name")), "?"),
                               "kernel": platform.release(),
                               "loadavg_at_end": os.getloadavg()},
                   "commit": commit, "args": vars(args), "summary": summary, "runs": results},
                  f, indent=1)
    print(f"\nwrote {os.path.relpath(args.results, ROOT)}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
