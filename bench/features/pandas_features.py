#!/usr/bin/python3
"""The eight windowed features of bench_features.yaml, computed with pandas 1.5.

    /usr/bin/python3 bench/features/pandas_features.py --input tx.csv --output out.csv \
        --timings timings.json

The pandas side of bench/features/run_features_bench.py, run as its own
process so that its CPU time and peak memory are its own. Same input (the
columns of examples/card_fraud/generate.py), same features with sluice's
semantics, same output columns (txn_id and the features; null = empty field).

Semantics (sluice's; tests/features/reference/window_reference.py): for event
e, `agg(x) over W by card_id` covers the card's events i with
e.t - W < i.t <= e.t that come at or before e in canonical order (event time,
then file order: a stable sort). pandas' time-based groupby().rolling(W,
closed='right') is exactly that window; `exclude current` is closed='left'
with a window of W - 1ns (rows before e with i.t >= e.t - W + 1ns, i.e.
i.t > e.t - W for integer-nanosecond times).

What a pandas user would write: typed read_csv, to_datetime, one
groupby(card_id).rolling per feature, groupby().shift() for the previous
event. count_distinct over a time window has no pandas idiom (rolling
windows only take numeric columns and numeric aggregates, and rolling.apply
with a Python function over 1M windows takes minutes): it is a plain Python
loop over the rows sorted by (card, time) with a sliding window and a dict
of merchant counts, O(n). That feature is not idiomatic pandas, and its time
is reported on its own ("features_s" per feature in the timings).

Timings (CPU seconds of this process, time.process_time, and wall seconds):
read (read_csv + to_datetime), features (all eight), write (to_csv), and
each feature alone. Python start-up and `import pandas` are outside them
(but inside the process's own CPU time, which the harness measures).
"""

import argparse
import json
import time

T0_WALL = time.perf_counter()
T0_CPU = time.process_time()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

NS = {"h": 3_600 * 10**9, "d": 86_400 * 10**9}
H1, H24, D7, D30 = NS["h"], 24 * NS["h"], 7 * NS["d"], 30 * NS["d"]

FEATURES = ["n_1h", "amt_24h", "avg_30d", "max_7d", "std_30d", "merchants_7d",
            "secs_since_last", "prev_country"]


class Clock:
    """CPU and wall seconds of named phases."""

    def __init__(self):
        self.cpu, self.wall = {}, {}

    def __call__(self, name):
        clock = self

        class _Phase:
            def __enter__(self):
                self.c, self.w = time.process_time(), time.perf_counter()

            def __exit__(self, *exc):
                clock.cpu[name] = clock.cpu.get(name, 0.0) + time.process_time() - self.c
                clock.wall[name] = clock.wall.get(name, 0.0) + time.perf_counter() - self.w

        return _Phase()


def read(path):
    df = pd.read_csv(
        path,
        dtype={"txn_id": str, "ts": str, "card_id": str, "merchant_id": str, "amount": np.float64,
               "country": str, "channel": str, "mcc": np.int64},
        # Only the empty field is null: pandas' default list would read the
        # country code "NA" (Namibia) as missing.
        keep_default_na=False, na_values=[""])
    # ISO-8601 with 'Z': the fast path; tz-naive UTC nanoseconds.
    df["ts"] = pd.to_datetime(df["ts"], utc=True).dt.tz_convert(None)
    return df


def rolling(g, window_ns, closed="right"):
    return g.rolling(pd.Timedelta(window_ns, unit="ns"), on="ts", closed=closed)


def realign(res, n):
    """A groupby-rolling result (index: card_id, row position) as an array in row order.

    (The aggregate is taken on the frame and the column selected after it:
    selecting the column first would index the result by (card_id, ts).)"""
    out = np.full(n, np.nan)
    out[res.index.get_level_values(-1).to_numpy()] = res.to_numpy(dtype=np.float64)
    return out


def count_distinct_window(card_codes, t_ns, values, window_ns):
    """count_distinct(values) over W by card, rows already in (card, time) order.

    A sliding window per card: `lo` is the first row still inside
    (t > t_i - W), `counts` the multiset of values in [lo, i].
    """
    n = len(values)
    out = np.zeros(n, dtype=np.int64)
    cards = card_codes.tolist()
    ts = t_ns.tolist()
    vals = values.tolist()
    counts = {}
    lo = 0
    prev_card = None
    for i in range(n):
        c = cards[i]
        if c != prev_card:
            counts.clear()
            lo = i
            prev_card = c
        v = vals[i]
        counts[v] = counts.get(v, 0) + 1
        limit = ts[i] - window_ns
        while ts[lo] <= limit:
            u = vals[lo]
            k = counts[u] - 1
            if k:
                counts[u] = k
            else:
                del counts[u]
            lo += 1
        out[i] = len(counts)
    return out


def features(df, clock):
    n = len(df)
    out = pd.DataFrame({"txn_id": df["txn_id"]})
    g = df[["card_id", "ts", "amount"]].groupby("card_id", sort=False)

    with clock("n_1h"):
        out["n_1h"] = realign(rolling(g, H1).count()["amount"], n).astype(np.int64)
    with clock("amt_24h"):
        out["amt_24h"] = realign(rolling(g, H24).sum()["amount"], n)
    with clock("avg_30d"):  # exclude current: closed='left', W - 1ns
        out["avg_30d"] = realign(rolling(g, D30 - 1, closed="left").mean()["amount"], n)
    with clock("max_7d"):
        out["max_7d"] = realign(rolling(g, D7).max()["amount"], n)
    with clock("std_30d"):
        out["std_30d"] = realign(rolling(g, D30).std(ddof=1)["amount"], n)
    with clock("merchants_7d"):
        # Not idiomatic pandas (see the module docstring): rows in (card, time)
        # order, a Python sliding window, back to row order.
        order = np.lexsort((np.arange(n), df["ts"].to_numpy(), df["card_id"].to_numpy()))
        codes, _ = pd.factorize(df["card_id"])
        mcodes, _ = pd.factorize(df["merchant_id"])
        t_ns = df["ts"].to_numpy().view(np.int64)
        res = np.empty(n, dtype=np.int64)
        res[order] = count_distinct_window(codes[order], t_ns[order], mcodes[order], D7)
        out["merchants_7d"] = res
    with clock("secs_since_last"):
        dt = g["ts"].diff().to_numpy().view(np.int64)  # NaT -> int64 min
        prev_in_window = (dt != np.iinfo(np.int64).min) & (dt < D30)
        out["secs_since_last"] = np.where(prev_in_window, dt / 1e9, np.nan)
    with clock("prev_country"):
        prev = df.groupby("card_id", sort=False)["country"].shift(1)
        out["prev_country"] = prev.where(prev_in_window, None)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--timings", required=True)
    a = p.parse_args()
    start_cpu, start_wall = time.process_time() - T0_CPU, time.perf_counter() - T0_WALL

    clock = Clock()
    with clock("read"):
        df = read(a.input)
    # Canonical order is a stable sort by time; the generator writes rows in
    # that order already. If not, sort (stable) and put the results back.
    sorted_input = bool(df["ts"].is_monotonic_increasing)
    with clock("features"):
        work = df if sorted_input else df.sort_values("ts", kind="mergesort").reset_index(drop=True)
        out = features(work, clock)
        if not sorted_input:
            out.index = df.sort_values("ts", kind="mergesort").index
            out = out.sort_index()
    with clock("write"):
        out.to_csv(a.output, index=False, float_format=None)

    per_feature = {f: clock.cpu[f] for f in FEATURES}
    result = {
        "rows": len(df), "sorted_input": sorted_input,
        "startup_cpu_s": start_cpu, "startup_wall_s": start_wall,  # interpreter + imports
        "read_cpu_s": clock.cpu["read"], "read_wall_s": clock.wall["read"],
        "features_cpu_s": clock.cpu["features"], "features_wall_s": clock.wall["features"],
        "write_cpu_s": clock.cpu["write"], "write_wall_s": clock.wall["write"],
        "read_features_cpu_s": clock.cpu["read"] + clock.cpu["features"],
        "per_feature_cpu_s": per_feature,
    }
    with open(a.timings, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
