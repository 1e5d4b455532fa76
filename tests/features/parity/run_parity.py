#!/usr/bin/python3
"""Parity of sluice's windowed aggregates: batch vs stream vs the exact oracle vs pandas.

For each seed, a stream from tests/features/reference/gen_stream.py (equal
timestamps, bursts, long gaps, nulls, huge and tiny floats, ints near 2^53,
and for some seeds rows out of event-time order by up to 20 s) goes through
one pipeline of windowed features (every aggregate; windows from 500ms to
unbounded; one, two, three or no keys; `where`; `exclude current`;
half-lives from 500ms to 1h):

1. `sluice run` and `sluice stream` (lateness 30s, so no event is late;
   the stream's --batch-size is the default, 7 or 1 depending on the seed)
   must write byte-identical output, in canonical order (a stable sort of
   the input by event time), with no record rejected and none late;
2. every cell of that output must agree with the exact oracle
   (tests/features/reference/window_reference.py, `compute`):
   - counts, integer results and strings exactly; the selections of float
     values (min, max, first, last, previous) exactly too;
   - sum, avg, variance, stddev, time_since_*: within 1e-9 relative;
   - decayed_sum / decayed_avg: within 1e-9 of the same aggregate over |x|
     (the oracle's documented tolerance: a decayed running sum cancels,
     so the error is relative to the magnitudes that went in); results
     below 1e-290 in magnitude need only be below it too (subnormal range);
3. count / sum / avg / min / max / stddev / variance features are also
   compared with pandas' time-based rolling (`pandas_rolling`) where pandas'
   floating-point running sums are accurate: counts, min and max always;
   sum, avg, stddev and variance on the features restricted to moderate
   positive x (`where x between 0.001 and 1000000`). 1e-9 relative, 1e-6
   for stddev and variance.

On a mismatch: the feature, the row id, sluice's and the oracle's values
(the first 10 per seed, and a count per feature), and exit status 1.
Otherwise a summary and exit status 0. Seeds are checked two at a time
(--jobs); in each, both sluice commands run while the oracle computes.
The oracle dominates the time (about 8 s per seed; sluice under ASan takes
about 3 s per command).

Usage (CTest passes the binary):
  /usr/bin/python3 tests/features/parity/run_parity.py --sluice build/.../sluice \\
      --work /tmp/parity [--events 20000] [--seeds 1,2,...] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import gen_stream  # noqa: E402
import window_reference as wr  # noqa: E402

# (seed, keys, disorder in seconds): 8 streams, 12 to 50 keys, half of them out of order.
STREAMS = [
    (1, 12, 0.0),
    (2, 12, 20.0),
    (3, 20, 20.0),
    (4, 30, 0.0),
    (5, 50, 20.0),
    (6, 16, 20.0),
    (7, 40, 0.0),
    (8, 25, 20.0),
]
NULLS = 0.1
# `sluice stream --batch-size` per seed, in turn (None: the default).
STREAM_BATCH_SIZES = [None, 7, None, 1]

MODERATE = "x between 0.001 and 1000000"  # where pandas' running float sums are accurate

# name -> (feature text, compare with pandas). The text is written verbatim into
# the pipeline and parsed by the oracle's parse_feature / eval_condition.
FEATURES: list[tuple[str, str, bool]] = [
    # counts
    ("c_500ms", "count() over 500ms by k1", True),
    ("c_2s_all_keys", "count() over 2s", True),
    ("cx_1h", "count(x) over 1h by (k1, k2)", True),
    ("cs_1d", "count(s) over 1d by k1 where y > 0 exclude current", False),
    ("cdx_30m", "count_distinct(x) over 30m by k1", False),
    ("cds_1d", "count_distinct(s) over 1d by k2", False),
    # sums and means
    ("sx_30s", "sum(x) over 30s by (k1, k2) where s = 'a' exclude current", False),
    ("sy_1h", "sum(y) over 1h by k1", False),
    ("sx_unb", "sum(x) by k1", False),
    ("sm_10m", f"sum(x) over 10m by k1 where {MODERATE}", True),
    ("ax_10m", "avg(x) over 10m by k1 exclude current", False),
    ("ay_1d", "avg(y) over 1d by (k1, k2)", False),
    ("am_1h", f"avg(x) over 1h by (k1, k2) where {MODERATE} exclude current", True),
    # min / max
    ("mnx_1m", "min(x) over 1m by k1", True),
    ("mxy_1h", "max(y) over 1h by k2 where x > 0", True),
    ("mxx_unb", "max(x) by (k1, k2)", True),
    ("mny_5s", "min(y) over 5s by k1 exclude current", True),
    # spread
    ("vx_1h", "variance(x) over 1h by k1", False),
    ("sdx_5m", "stddev(x) over 5m by k1 exclude current", False),
    ("sdy_1d", "stddev(y) over 1d by k1 where s in ('a', 'b') or s is null", False),
    ("sdm_1h", f"stddev(x) over 1h by k1 where {MODERATE}", True),
    ("vm_1d", f"variance(x) over 1d by k2 where {MODERATE} exclude current", True),
    # first / last / previous
    ("fx_1h", "first(x) over 1h by k1", False),
    ("ls_10m", "last(s) over 10m by (k1, k2)", False),
    ("fs_unb", "first(s) by k1 where x is not null", False),
    ("ly_30s", "last(y) over 30s by k1 exclude current", False),
    ("px_unb", "previous(x) by k1", False),
    ("ps_1m", "previous(s) over 1m by (k1, k2)", False),
    # times
    ("tsl_unb", "time_since_last() by k1", False),
    ("tsl_10s", "time_since_last() over 10s by k1 where s = 'b'", False),
    ("tsf_1h", "time_since_first() over 1h by k1 exclude current", False),
    # decayed
    ("ds_1m_1h", "decayed_sum(x, 1m) over 1h by k1", False),
    ("da_10s_1d", "decayed_avg(x, 10s) over 1d by k1 where s != 'c'", False),
    ("dsy_1h_unb", "decayed_sum(y, 1h) by (k1, k2, s) exclude current", False),
    ("da_500ms_1h", "decayed_avg(x, 500ms) over 1h by (k1, k2, s)", False),
]

SCHEMA_TYPES = {"id": "string", "k1": "string", "k2": "string", "x": "float64", "y": "int64",
                "s": "string"}

FLOAT_TOL = 1e-9
DECAYED_TOL = 1e-9
DECAYED_FLOOR = 1e-290
PANDAS_TOL = 1e-9
PANDAS_SPREAD_TOL = 1e-6
SELECTIONS = {"min", "max", "first", "last", "previous"}


def pipeline_yaml() -> str:
    lines = [
        "# Generated by tests/features/parity/run_parity.py: do not edit.",
        "pipeline: window_parity",
        "source:",
        "  schema:",
        "    id: {type: string, id: true}",
        "    ts: {type: timestamp, event_time: true, format: epoch_ms}",
        "    k1: string",
        "    k2: {type: string, nullable: true}",
        "    x:  {type: float64, nullable: true}",
        "    y:  int64",
        "    s:  {type: string, nullable: true}",
        "  lateness: 30s",
        "features:",
    ]
    for name, text, _ in FEATURES:
        lines.append(f"  {name}: {yaml_quote(text)}")
    lines.append("output:")
    lines.append("  fields: [id, " + ", ".join(n for n, _, _ in FEATURES) + "]")
    return "\n".join(lines) + "\n"


def yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Prepared:
    name: str
    text: str
    spec: wr.WindowSpec
    kind: str  # result kind: "int", "float", "str"
    pandas: bool
    scale_spec: wr.WindowSpec | None  # decayed: the same aggregate over |x|


def prepare(df, features) -> list[Prepared]:
    """Parse the features, add their where masks to df, decide each result's kind."""
    out = []
    for name, text, use_pandas in features:
        f = wr.parse_feature(text)
        spec = f.spec
        if f.where_text:
            df[f"__where_{name}"] = wr.eval_condition(df, f.where_text)
            spec = replace(spec, where=f"__where_{name}")
        col_kind = {"x": "float", "y": "int", "s": "str", None: None}[spec.column]
        if spec.agg in wr.COUNT_AGGS:
            kind = "int"
        elif spec.agg in wr.FLOAT_AGGS:
            kind = "float"
        else:
            kind = col_kind
        scale = None
        if spec.agg in ("decayed_sum", "decayed_avg"):
            abs_col = f"__abs_{spec.column}"
            if abs_col not in df:
                df[abs_col] = df[spec.column].abs()
            scale = replace(spec, column=abs_col)
        out.append(Prepared(name, text, spec, kind, use_pandas, scale))
    return out


def parse_cell(text: str, kind: str):
    if text == "":
        return None
    if kind == "int":
        return int(text)
    if kind == "float":
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"non-finite float {text!r}")
        return v
    return text


def py_values(series) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in wr._series_values(series)]


def rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def run_sluice(sluice: str, args: list[str], log: str) -> subprocess.Popen:
    with open(log, "wb") as f:
        return subprocess.Popen([sluice] + args, stdout=f, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, what: str, log: str) -> str | None:
    """None if the process exited with status 0, else a message with the end of its log."""
    rc = proc.wait()
    if rc == 0:
        return None
    with open(log, "rb") as f:
        tail = f.read().decode("utf-8", "replace")[-3000:]
    return f"{tail}\n{what} exited with status {rc} (log {log})"


@dataclass
class SeedResult:
    seed: int
    line: str = ""
    fatal: str | None = None
    rows: int = 0
    cells_oracle: int = 0
    cells_pandas: int = 0
    mismatches: int = 0
    shown: list = field(default_factory=list)  # the first mismatch messages
    per_feature: dict = field(default_factory=dict)  # feature -> mismatch count
    worst: dict = field(default_factory=dict)  # feature -> max error (oracle)
    worst_pandas: dict = field(default_factory=dict)


SHOW_PER_SEED = 10


def check_seed(job: tuple) -> SeedResult:
    """Generate one stream, run sluice both ways and compare everything; never raises on a mismatch."""
    sluice, work, pipeline, events, (seed, keys, disorder), batch_size = job
    res = SeedResult(seed)
    t_seed = time.time()
    tag = f"seed{seed}"

    def mismatch(feature: str, msg: str) -> None:
        res.mismatches += 1
        res.per_feature[feature] = res.per_feature.get(feature, 0) + 1
        if len(res.shown) < SHOW_PER_SEED:
            res.shown.append(f"MISMATCH {tag} {msg}")

    inp = os.path.join(work, f"{tag}.csv")
    with open(inp, "w", encoding="utf-8", newline="") as f:
        f.write(gen_stream.generate(seed=seed, events=events, keys=keys, nulls=NULLS,
                                    disorder=disorder))
    out_run = os.path.join(work, f"{tag}.run.csv")
    out_stream = os.path.join(work, f"{tag}.stream.csv")
    for path in (out_run, out_stream, out_run + ".rejects.jsonl", out_stream + ".rejects.jsonl"):
        if os.path.exists(path):
            os.remove(path)
    # Both sluice runs go in the background while the oracle computes.
    log_run, log_stream = out_run + ".log", out_stream + ".log"
    proc_run = run_sluice(sluice, ["run", pipeline, "-i", inp, "-o", out_run, "-q"], log_run)
    stream_args = ["stream", pipeline, "-i", inp, "-o", out_stream, "-q",
                   "--summary", out_stream + ".summary.json"]
    if batch_size:
        stream_args += ["--batch-size", str(batch_size)]
    proc_stream = run_sluice(sluice, stream_args, log_stream)

    df = wr.read_stream_csv(inp, time_column="ts", time_format="epoch_ms", types=SCHEMA_TYPES)
    feats = prepare(df, FEATURES)
    oracle = {ft.name: py_values(wr.compute(df, ft.spec)) for ft in feats}
    pandas_vals = {ft.name: wr.pandas_rolling(df, ft.spec).to_numpy() for ft in feats if ft.pandas}
    t_oracle = time.time() - t_seed

    res.fatal = (finish(proc_run, f"sluice run ({tag})", log_run)
                 or finish(proc_stream, f"sluice stream ({tag})", log_stream))
    if res.fatal:
        return res

    # 1. Stream output == batch output, byte for byte; nothing rejected, nothing late.
    with open(out_run, "rb") as f:
        run_bytes = f.read()
    with open(out_stream, "rb") as f:
        stream_bytes = f.read()
    if run_bytes != stream_bytes:
        rl, sl = run_bytes.split(b"\n"), stream_bytes.split(b"\n")
        n = min(len(rl), len(sl))
        first = next((i for i in range(n) if rl[i] != sl[i]), n)
        res.fatal = (f"MISMATCH {tag}: `sluice stream` output differs from `sluice run` output "
                     f"({len(sl)} vs {len(rl)} lines); first difference at line {first + 1}:\n"
                     f"  run:    {rl[first] if first < len(rl) else b'<end>'!r}\n"
                     f"  stream: {sl[first] if first < len(sl) else b'<end>'!r}")
        return res
    for path in (out_run + ".rejects.jsonl", out_stream + ".rejects.jsonl"):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path, encoding="utf-8", errors="replace") as f:
                res.fatal = f.read()[:2000] + f"\n{tag}: records were rejected or late ({path})"
            return res
    try:
        with open(out_stream + ".summary.json", encoding="utf-8") as f:
            late = json.load(f).get("records_late")
    except (OSError, ValueError) as e:
        late = f"unreadable summary ({e})"
    if late != 0:
        res.fatal = f"{tag}: `sluice stream` summary records_late is {late}, expected 0"
        return res

    # 2. Canonical order (a stable sort by event time), then every cell against the oracle.
    rows = list(csv.reader(io.StringIO(run_bytes.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    expected_header = ["id"] + [ft.name for ft in feats]
    if header != expected_header:
        res.fatal = f"{tag}: output header {header} != {expected_header}"
        return res
    ids = df["id"].tolist()
    order = np.argsort(df["ts"].to_numpy(), kind="stable").tolist()
    canon_ids = [ids[i] for i in order]
    out_ids = [r[0] for r in body]
    if out_ids != canon_ids:
        bad = next((i for i, (u, v) in enumerate(zip(out_ids, canon_ids)) if u != v),
                   min(len(out_ids), len(canon_ids)))
        res.fatal = (f"{tag}: output is not in canonical order: {len(out_ids)} rows, "
                     f"{len(canon_ids)} expected; first difference at output row {bad + 1}")
        return res
    res.rows = len(body)

    for c, ft in enumerate(feats, start=1):
        want_all = oracle[ft.name]
        scale_all = None  # decayed: the same aggregate over |x|, computed when first needed
        pd_all = pandas_vals.get(ft.name)
        spread = ft.spec.agg in ("stddev", "variance")
        for out_row, src in enumerate(order):
            text = body[out_row][c]
            rid = body[out_row][0]
            where = f"{ft.name} [{ft.text}] id={rid}"
            try:
                got = parse_cell(text, ft.kind)
            except ValueError as e:
                mismatch(ft.name, f"{where}: unreadable value {text!r} ({e})")
                continue
            want = want_all[src]
            res.cells_oracle += 1
            ok, err = compare(ft, got, want, None)
            if not ok and ft.scale_spec is not None and got is not None and want is not None:
                if scale_all is None:
                    scale_all = py_values(wr.compute(df, ft.scale_spec))
                ok, err = compare(ft, got, want, scale_all[src])
            if err is not None:
                res.worst[ft.name] = max(res.worst.get(ft.name, 0.0), err)
            if not ok:
                extra = f" (same aggregate over |x|: {scale_all[src]!r})" if scale_all else ""
                mismatch(ft.name, f"{where}: sluice {text!r}, oracle {fmt(want)}{extra}")
            if pd_all is not None:
                res.cells_pandas += 1
                pv = float(pd_all[src])
                tol = PANDAS_SPREAD_TOL if spread else PANDAS_TOL
                if got is None or math.isnan(pv):
                    okp = got is None and math.isnan(pv)
                else:
                    e = rel(float(got), pv)
                    res.worst_pandas[ft.name] = max(res.worst_pandas.get(ft.name, 0.0), e)
                    okp = e <= tol
                if not okp:
                    mismatch(ft.name, f"{where}: sluice {text!r}, pandas rolling {pv!r} "
                                      f"(oracle {fmt(want)}), tolerance {tol}")
    if res.mismatches == 0:  # keep the files of a failing seed only (about 12 MB a seed)
        for path in (inp, out_run, out_stream):
            os.remove(path)
    res.line = (f"{tag}: {events} events, {keys} keys, disorder {disorder:g}s, stream batch size "
                f"{batch_size or 'default'}: stream == run ({len(run_bytes)} bytes), canonical "
                f"order, {res.mismatches} mismatches; oracle+pandas {t_oracle:.1f}s, "
                f"total {time.time() - t_seed:.1f}s")
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", required=True, help="the sluice binary")
    p.add_argument("--work", required=True, help="folder for streams, pipeline and outputs")
    p.add_argument("--events", type=int, default=20000)
    p.add_argument("--seeds", default="", help="comma-separated subset of the seeds (default: all)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="seeds checked in parallel (default: 2)")
    a = p.parse_args(argv)

    t_start = time.time()
    os.makedirs(a.work, exist_ok=True)
    pipeline = os.path.join(a.work, "parity.yaml")
    with open(pipeline, "w", encoding="utf-8") as f:
        f.write(pipeline_yaml())
    check = subprocess.run([a.sluice, "check", pipeline], capture_output=True, text=True)
    if check.returncode != 0:
        print(check.stdout + check.stderr)
        print(f"FAIL: sluice check {pipeline} exited with status {check.returncode}")
        return 1

    wanted = {int(s) for s in a.seeds.split(",") if s.strip()}
    jobs = [(a.sluice, a.work, pipeline, a.events, stream, STREAM_BATCH_SIZES[i % len(STREAM_BATCH_SIZES)])
            for i, stream in enumerate(STREAMS) if not wanted or stream[0] in wanted]
    if not jobs:
        print(f"FAIL: no seed among {a.seeds}")
        return 1
    if a.jobs > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
            results = list(pool.imap(check_seed, jobs))
    else:
        results = [check_seed(j) for j in jobs]

    failed = False
    mismatches = rows = cells_oracle = cells_pandas = 0
    per_feature: dict[str, int] = {}
    worst: dict[str, float] = {}
    worst_pandas: dict[str, float] = {}
    for r in results:
        if r.fatal:
            print(f"FAIL seed{r.seed}:\n{r.fatal}")
            failed = True
            continue
        for msg in r.shown:
            print(msg)
        if r.mismatches > len(r.shown):
            print(f"(seed{r.seed}: {r.mismatches - len(r.shown)} more mismatches not shown)")
        print(r.line)
        mismatches += r.mismatches
        rows += r.rows
        cells_oracle += r.cells_oracle
        cells_pandas += r.cells_pandas
        for k, v in r.per_feature.items():
            per_feature[k] = per_feature.get(k, 0) + v
        for k, v in r.worst.items():
            worst[k] = max(worst.get(k, 0.0), v)
        for k, v in r.worst_pandas.items():
            worst_pandas[k] = max(worst_pandas.get(k, 0.0), v)

    print()
    print("per feature, the largest error seen: against the oracle (relative; selections exact;"
          " decayed relative to the same aggregate over |x| where the value itself is off),"
          " against pandas (relative):")
    for name, text, _ in FEATURES:
        line = f"  {name:13} {text:78} oracle {worst.get(name, 0.0):.1e}"
        if name in worst_pandas:
            line += f"  pandas {worst_pandas[name]:.1e}"
        if name in per_feature:
            line += f"  {per_feature[name]} MISMATCHES"
        print(line)
    print(f"summary: {len(jobs)} seeds, {rows} rows, {len(FEATURES)} features, "
          f"{cells_oracle} cells compared with the oracle and {cells_pandas} with pandas, "
          f"{mismatches} mismatches; {time.time() - t_start:.1f}s")
    if failed or mismatches:
        print("FAILED")
        return 1
    print("PASSED")
    return 0


def fmt(v) -> str:
    return "null" if v is None else repr(v)


def compare(ft: Prepared, got, want, scale) -> tuple[bool, float | None]:
    """(equal within tolerance, the error measured) for one cell."""
    if got is None or want is None:
        return got is None and want is None, None
    if ft.kind in ("int", "str"):
        return type(got) is type(want) and got == want, None
    want = float(want)
    if ft.spec.agg in SELECTIONS:
        return got == want, rel(got, want)
    if ft.spec.agg in ("decayed_sum", "decayed_avg") and scale is not None:
        # Relative to the same aggregate over |x| (>= |want|): the oracle's tolerance.
        # Below DECAYED_FLOOR (deep in double's subnormal range, where the decay
        # factors of sluice's running sums underflow) only the magnitude counts:
        # the documented limit (docs/windows.md).
        if scale < DECAYED_FLOOR:
            return abs(got) < DECAYED_FLOOR, abs(got - want)
        err = abs(got - want) / scale if scale else (0.0 if got == want else math.inf)
        return err <= DECAYED_TOL, err
    err = rel(got, want)
    return err <= FLOAT_TOL, err


if __name__ == "__main__":
    sys.exit(main())
