#!/usr/bin/python3
"""Seeded generator of adversarial event streams for windowed-feature parity tests.

Output: CSV with the header ``id,ts,k1,k2,x,y,s``, one event per line:

  id  int64, 1..N in *output* (arrival) order, so it also records arrival order
  ts  event time, epoch milliseconds (int64)
  k1  string key, always present: "k0".."k{K-1}", Zipf-like popularity
  k2  string key from {p, q, r}; empty (= null) with probability --nulls
  x   float64 or empty (= null, probability --nulls): a mix of ordinary
      values (negative ones too), exact repeats (0.1, 0.2, 0.3, 1.0, ...),
      integers, huge (1e12..1e15) and tiny (1e-12..1e-6) magnitudes, so that
      naive floating-point sums cancel and lose digits
  y   int64, never null: mostly small, sometimes close to 2**53 (not exactly
      representable as float64 around there), random sign
  s   string from {a, b, c, d, e}; empty (= null) with probability --nulls

The event times have: runs of exactly equal timestamps, bursts on one key
within a few milliseconds, timestamps snapped to whole seconds (more
collisions), ordinary gaps of seconds to minutes and long gaps (2 hours to
3 days, longer than the usual windows, so windows empty out).

Order of the rows: without --disorder the file is sorted by event time (a
stable sort of the generation order, so equal timestamps keep generation
order). With --disorder D, each event "arrives" at its event time plus a
uniform random delay of 0..D seconds (millisecond resolution) and the rows
are written in arrival order (stable sort), as a stream would deliver them;
some rows then come before rows with a smaller event time.

Everything is determined by the arguments: the same arguments give the same
bytes. Floats are written with Python's repr (shortest text that reads back
to the same double), so parsing them back is exact.

Use ``generate(...)`` from Python or the CLI:

    /usr/bin/python3 tests/features/reference/gen_stream.py \
        --seed 3 --events 20000 --keys 12 --nulls 0.1 --disorder 30 --output stream.csv
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np

# 2026-01-01T00:00:00Z in epoch milliseconds.
START_MS = 1_767_225_600_000
K2_VALUES = ("p", "q", "r")
S_VALUES = ("a", "b", "c", "d", "e")
# Values repeated exactly, including ones whose float sums are not exact.
X_REPEATS = (0.1, 0.2, 0.3, 1.0, 2.5, -0.1, 1e-3, 100.0, 0.7)
HEADER = "id,ts,k1,k2,x,y,s"


def _event_times(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Event times (epoch ms, generation order) and the bursts as (start, stop) ranges.

    Built from a sequence of gaps: 0 (equal timestamp), a few ms, ordinary
    exponential gaps, whole seconds and rare long gaps. Bursts are runs of
    5..40 consecutive events 0..3 ms apart that the caller puts on one key.
    """
    kind = rng.choice(5, size=n, p=[0.22, 0.18, 0.52, 0.06, 0.02])
    gaps = np.zeros(n, dtype=np.int64)
    # kind 0: gap 0, an exactly equal timestamp.
    # kind 1: 1..20 ms.
    m = kind == 1
    gaps[m] = rng.integers(1, 21, size=m.sum())
    # kind 2: ordinary gap, exponential with a 20 s mean.
    m = kind == 2
    gaps[m] = np.round(rng.exponential(20_000.0, size=m.sum())).astype(np.int64)
    # kind 3: whole seconds, 1..120 s.
    m = kind == 3
    gaps[m] = rng.integers(1, 121, size=m.sum()) * 1000
    # kind 4: long gap, 2 hours to 3 days: longer than the test windows.
    m = kind == 4
    gaps[m] = rng.integers(2 * 3_600_000, 3 * 86_400_000, size=m.sum())
    ts = START_MS + np.cumsum(gaps)
    # Snap ~10% of the timestamps down to the whole second: more collisions,
    # and (since snapping moves a time back) generation order is not time order.
    snap = rng.random(n) < 0.10
    ts[snap] = ts[snap] // 1000 * 1000

    bursts: list[tuple[int, int]] = []
    next_free = 0
    for start in np.flatnonzero(rng.random(n) < 0.015).tolist():
        if start < next_free:
            continue  # bursts do not overlap
        stop = min(n, start + int(rng.integers(5, 41)))
        steps = rng.integers(0, 4, size=stop - start)  # 0..3 ms apart: many exact ties
        steps[0] = 0
        ts[start:stop] = ts[start] + np.cumsum(steps)
        bursts.append((start, stop))
        next_free = stop
    return ts, bursts


def _x_values(rng: np.random.Generator, n: int) -> list[str]:
    """Text of the x column: adversarial float64 values (no null here)."""
    kind = rng.choice(7, size=n, p=[0.35, 0.20, 0.15, 0.10, 0.08, 0.07, 0.05])
    x = np.empty(n, dtype=np.float64)
    # 0: ordinary, 2 decimals, either sign.
    m = kind == 0
    x[m] = np.round(rng.normal(0.0, 100.0, size=m.sum()), 2)
    # 1: positive amount-like, lognormal, 2 decimals.
    m = kind == 1
    x[m] = np.round(rng.lognormal(3.0, 1.0, size=m.sum()), 2)
    # 2: exact repeats from a small pool.
    m = kind == 2
    x[m] = np.asarray(X_REPEATS)[rng.integers(0, len(X_REPEATS), size=m.sum())]
    # 3: integers stored as floats (incl. 0).
    m = kind == 3
    x[m] = rng.integers(-50, 51, size=m.sum()).astype(np.float64)
    # 4: huge magnitudes, random sign: 1e12..1e15.
    m = kind == 4
    x[m] = rng.choice([-1.0, 1.0], size=m.sum()) * 10.0 ** rng.uniform(12, 15, size=m.sum())
    # 5: tiny magnitudes, random sign: 1e-12..1e-6.
    m = kind == 5
    x[m] = rng.choice([-1.0, 1.0], size=m.sum()) * 10.0 ** rng.uniform(-12, -6, size=m.sum())
    # 6: full-precision random doubles in [-1, 1).
    m = kind == 6
    x[m] = rng.uniform(-1.0, 1.0, size=m.sum())
    x[x == 0.0] = 0.0  # never write "-0.0"
    return [repr(v) for v in x.tolist()]


def _y_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """The y column: int64, mostly small, ~1% near +-2**53 (random sign)."""
    y = rng.integers(-1000, 1001, size=n, dtype=np.int64)
    big = rng.random(n) < 0.01
    near = (1 << 53) + rng.integers(-1000, 1001, size=big.sum(), dtype=np.int64)
    y[big] = near * rng.choice(np.array([-1, 1], dtype=np.int64), size=big.sum())
    return y


def generate(seed: int = 1, events: int = 10_000, keys: int = 8, nulls: float = 0.1,
             disorder: float = 0.0) -> str:
    """Return the whole CSV text (header included) for these arguments."""
    if events < 0 or keys < 1 or not 0.0 <= nulls <= 1.0 or disorder < 0:
        raise ValueError("need events >= 0, keys >= 1, 0 <= nulls <= 1, disorder >= 0")
    rng = np.random.default_rng(seed)
    n = events
    ts, bursts = _event_times(rng, n)

    # k1: Zipf-like popularity; every event of a burst gets the burst's first key.
    weights = 1.0 / np.arange(1, keys + 1)
    k1 = rng.choice(keys, size=n, p=weights / weights.sum())
    for start, stop in bursts:
        k1[start:stop] = k1[start]

    k2 = rng.integers(0, len(K2_VALUES), size=n)
    k2_null = rng.random(n) < nulls
    x_text = _x_values(rng, n)
    x_null = rng.random(n) < nulls
    y = _y_values(rng, n)
    s = rng.integers(0, len(S_VALUES), size=n)
    s_null = rng.random(n) < nulls

    # Output order: by event time, or by arrival time = event time + delay.
    if disorder > 0:
        delay = rng.integers(0, int(round(disorder * 1000)) + 1, size=n)
        order = np.argsort(ts + delay, kind="stable")
    else:
        order = np.argsort(ts, kind="stable")

    out = io.StringIO()
    out.write(HEADER + "\n")
    ts_l, k1_l, k2_l, y_l, s_l = ts.tolist(), k1.tolist(), k2.tolist(), y.tolist(), s.tolist()
    k2n, xn, sn = k2_null.tolist(), x_null.tolist(), s_null.tolist()
    for row_id, i in enumerate(order.tolist(), start=1):
        out.write(f"{row_id},{ts_l[i]},k{k1_l[i]},"
                  f"{'' if k2n[i] else K2_VALUES[k2_l[i]]},"
                  f"{'' if xn[i] else x_text[i]},{y_l[i]},"
                  f"{'' if sn[i] else S_VALUES[s_l[i]]}\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--keys", type=int, default=8, help="number of distinct k1 values")
    p.add_argument("--nulls", type=float, default=0.1,
                   help="probability that k2, x and s are each null (empty)")
    p.add_argument("--disorder", type=float, default=0.0,
                   help="max arrival delay in seconds; 0 = output sorted by event time")
    p.add_argument("--output", "-o", default="-", help="output file; '-' = stdout")
    a = p.parse_args(argv)
    text = generate(a.seed, a.events, a.keys, a.nulls, a.disorder)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
