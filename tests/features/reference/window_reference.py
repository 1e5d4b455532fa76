#!/usr/bin/python3
"""Exact reference implementation (oracle) of sluice's windowed aggregates.

This module is the independent definition against which the C++ windowed
features are checked. It is written for clarity and exactness first, speed
second (fine for ~1e5 rows; windows are recomputed per event, so the cost
is O(n * window) for min/max/count_distinct/decayed and O(n) otherwise).

Semantics (the contract; see also /work/shared/PRODUCT.md "Windows")
---------------------------------------------------------------------
* Canonical order: the events sorted by event time with a *stable* sort, so
  events with equal times keep their input (arrival) order.
* ``agg(x) over W by k`` for event e covers the events i with
  key(i) = key(e), e.t - W < i.t <= e.t, and i at or before e in canonical
  order. e itself is included unless ``exclude current``; events with the
  same time as e that come *after* e in canonical order are not included.
  No ``over`` means an unbounded window (every earlier event of the key).
* ``where COND``: only events for which COND is true enter the windows (a
  null COND counts as false). The feature is still computed for *every*
  event, over the window of the events that passed; an event that fails
  COND is not in its own window.
* A key with a null component: the result is null (count() too) and the
  event enters no state. No ``by`` (keys=()) means one global key.
* Nulls in x are ignored by every aggregate.

Aggregates (``W`` = window contents as above, nulls dropped where x is used):
  count()            number of events in W (0 if none)
  count(x)           number of non-null x in W (0 if none)
  count_distinct(x)  number of distinct non-null x in W (0 if none)
  sum(x)             exact sum, correctly rounded for float64 (int64 column:
                     the exact integer, an object Series if it leaves the
                     int64 range); null if no values
  avg(x)             exact mean, correctly rounded; null if no values
  min(x), max(x)     null if no values (strings compare byte-wise)
  variance(x)        sample variance (ddof=1), exact, correctly rounded;
                     null with fewer than 2 values
  stddev(x)          correctly rounded sqrt of the exact sample variance
  first(x), last(x)  the first / last non-null x in W, in canonical order
  previous(x)        the last non-null x strictly before e in canonical
                     order (within W if ``over`` is given; ``exclude current``
                     changes nothing)
  time_since_last()  e.t - t of the last event of the key strictly before e
                     in canonical order (within W if given), in float64
                     seconds (correctly rounded); null if none
  time_since_first() e.t - t of the first event in W (e included unless
                     excluded), float64 seconds; null if W is empty
  decayed_sum(x, H)  sum over W (unbounded unless ``over``) of
                     x_i * 2^(-(e.t - t_i)/H); null if no values
  decayed_avg(x, H)  decayed_sum(x, H) / decayed_sum(1 for each non-null x)
A float result that overflows float64 is null (sluice never yields inf/NaN).

Exactness: sums, means and variances use exact integer arithmetic (every
float64 is an integer multiple of 2^-1074) and one final correctly rounded
division; stddev uses an integer square root with a sticky bit, so it is
correctly rounded too. For the decayed aggregates the only inexact step is
the weight: q = dt/H is rounded to float64, and 2^-q is taken as
2^-floor(q) (exact) times 2.0 ** -(q - floor(q)) (within an ulp); the sums
of the products are then exact and rounded once. So decayed results are
within a few ulps of the real-number value even when every weight would
underflow in float64 (decayed_avg after a long gap); an implementation
that decays a running sum will differ by more than that, so compare
decayed features with a relative tolerance (e.g. 1e-9 of the same
aggregate over |x|).

Python API
----------
  WindowSpec(agg, column, window_ns, keys, where, exclude, half_life_ns)
  compute(df, spec, time_column="ts") -> pd.Series    # the oracle
  pandas_rolling(df, spec, time_column="ts") -> pd.Series   # pandas' view
  brute_force(df, spec, time_column="ts") -> list     # O(n^2), for self-test
  parse_feature("sum(x) over 1h by (k1, k2) where s = 'a' exclude current")
  read_stream_csv(path, time_column="ts", time_format="epoch_ms")
``df`` has the event time as int64 nanoseconds in ``time_column``; null is
NaN (float columns), None/NaN (object columns) or pd.NA (nullable ints).
Results are in the ORIGINAL row order of ``df`` (same index).

CLI
---
  /usr/bin/python3 window_reference.py --self-test
  /usr/bin/python3 window_reference.py --input stream.csv --time-format epoch_ms \\
      --feature "c1h=count() over 1h by k1" \\
      --feature "sx=sum(x) over 30s by (k1, k2) where s = 'a' exclude current" \\
      [--output expected.csv] [--compare-pandas]
Output: a CSV with the first column of the input (the id) and one column
per feature, rows in input order; null is an empty field; floats are
written with Python's repr (shortest round-trip text), so compare numbers,
not texts, with sluice's output.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import sys
import time
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

NS_PER_UNIT = {
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3_600 * 1_000_000_000,
    "d": 86_400 * 1_000_000_000,
    "w": 7 * 86_400 * 1_000_000_000,
    "y": 365 * 86_400 * 1_000_000_000,
}

# agg name -> (takes a column?, takes a half-life?)
AGGS = {
    "count": (None, False),  # None: the column is optional (count() or count(x))
    "sum": (True, False),
    "avg": (True, False),
    "min": (True, False),
    "max": (True, False),
    "variance": (True, False),
    "stddev": (True, False),
    "first": (True, False),
    "last": (True, False),
    "previous": (True, False),
    "count_distinct": (True, False),
    "time_since_last": (False, False),
    "time_since_first": (False, False),
    "decayed_sum": (True, True),
    "decayed_avg": (True, True),
}
# Aggregates whose result is a count (never null except for a null key).
COUNT_AGGS = {"count", "count_distinct"}
# Aggregates that need an int64 or float64 column.
NUMERIC_AGGS = {"sum", "avg", "variance", "stddev", "decayed_sum", "decayed_avg"}
# Aggregates whose result is float64 whatever the column type.
FLOAT_AGGS = {"avg", "variance", "stddev", "time_since_last", "time_since_first",
              "decayed_sum", "decayed_avg"}


@dataclass(frozen=True)
class WindowSpec:
    """One windowed feature.

    agg           one of AGGS
    column        the aggregated column (None for count(), time_since_*)
    window_ns     window length W in ns (> 0), or None for unbounded
    keys          key column names; () = one global key
    where         name of a bool column of df: events where it is not true
                  (false or null) do not enter the windows; None = all enter
    exclude       ``exclude current``
    half_life_ns  H for decayed_sum / decayed_avg
    """
    agg: str
    column: str | None = None
    window_ns: int | None = None
    keys: tuple[str, ...] = ()
    where: str | None = None
    exclude: bool = False
    half_life_ns: int | None = None

    def __post_init__(self) -> None:
        if self.agg not in AGGS:
            raise ValueError(f"unknown aggregate {self.agg!r}")
        needs_col, needs_hl = AGGS[self.agg]
        if needs_col is True and self.column is None:
            raise ValueError(f"{self.agg} needs a column")
        if needs_col is False and self.column is not None:
            raise ValueError(f"{self.agg} takes no column")
        if needs_hl != (self.half_life_ns is not None):
            raise ValueError(f"{self.agg}: half_life_ns {'required' if needs_hl else 'not allowed'}")
        if self.half_life_ns is not None and self.half_life_ns <= 0:
            raise ValueError("half_life_ns must be > 0")
        if self.window_ns is not None and self.window_ns <= 0:
            raise ValueError("window_ns must be > 0")
        object.__setattr__(self, "keys", tuple(self.keys))

    def describe(self) -> str:
        """The feature in pipeline syntax (where shown by column name)."""
        args = self.column or ""
        if self.half_life_ns is not None:
            args += ", " + format_duration(self.half_life_ns)
        text = f"{self.agg}({args})"
        if self.window_ns is not None:
            text += " over " + format_duration(self.window_ns)
        if len(self.keys) == 1:
            text += f" by {self.keys[0]}"
        elif self.keys:
            text += " by (" + ", ".join(self.keys) + ")"
        if self.where:
            text += f" where {self.where}"
        if self.exclude:
            text += " exclude current"
        return text


def _as_spec(spec: WindowSpec | dict) -> WindowSpec:
    return spec if isinstance(spec, WindowSpec) else WindowSpec(**spec)


def parse_duration(text: str) -> int:
    """'500ms', '30s', '15m', '1h', '7d', '2w', '1y' (= 365d) -> nanoseconds."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip())
    if not m:
        raise ValueError(f"invalid duration {text!r}")
    return int(m.group(1)) * NS_PER_UNIT[m.group(2)]


def format_duration(ns: int) -> str:
    for unit in ("y", "w", "d", "h", "m", "s", "ms"):
        if ns % NS_PER_UNIT[unit] == 0:
            return f"{ns // NS_PER_UNIT[unit]}{unit}"
    return f"{ns}ns"


# --------------------------------------------------------------------------
# Column access helpers


def _column_kind(series: pd.Series) -> str:
    """'float', 'int', 'bool' or 'str' (anything else is compared as Python objects)."""
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    return "str"


def _values(series: pd.Series) -> list:
    """Python values of a column, None for null; ints as int, floats as float."""
    kind = _column_kind(series)
    null = series.isna().to_numpy()
    if kind == "float":
        raw = series.to_numpy(dtype=np.float64).tolist()
    elif kind == "int":
        raw = [int(v) if not n else None for v, n in zip(series.astype(object).tolist(), null)]
    elif kind == "bool":
        raw = [bool(v) if not n else None for v, n in zip(series.astype(object).tolist(), null)]
    else:
        raw = series.astype(object).tolist()
    return [None if n else v for v, n in zip(raw, null)]


def _where_mask(df: pd.DataFrame, where: str | None) -> np.ndarray:
    """True where the event enters the windows; a null condition is false."""
    if where is None:
        return np.ones(len(df), dtype=bool)
    col = df[where]
    return (col.fillna(False).astype(bool)).to_numpy()


def _key_codes(df: pd.DataFrame, keys: Sequence[str]) -> list[int | None]:
    """A small int per distinct key tuple; None when a key component is null."""
    n = len(df)
    if not keys:
        return [0] * n
    cols = [_values(df[k]) for k in keys]
    codes: dict[tuple, int] = {}
    out: list[int | None] = []
    for tup in zip(*cols):
        if any(v is None for v in tup):
            out.append(None)
        else:
            out.append(codes.setdefault(tup, len(codes)))
    return out


def _float_scale(values: Iterable) -> int:
    """E such that every non-null float value times 2**E is an integer."""
    e = 0
    for v in values:
        if v is not None:
            den = v.as_integer_ratio()[1]
            e = max(e, den.bit_length() - 1)
    return e


def _scaled_int(v: float | int, e: int) -> int:
    """v * 2**e as an exact integer (v float or int)."""
    if isinstance(v, int):
        return v << e
    num, den = v.as_integer_ratio()
    return num << (e - (den.bit_length() - 1))


def _div(num: int, den: int) -> float | None:
    """Correctly rounded num/den as float64; None if it overflows."""
    try:
        return num / den  # int / int true division is correctly rounded in CPython
    except OverflowError:
        return None


def _sqrt_ratio(p: int, q: int) -> float | None:
    """Correctly rounded sqrt(p / q) for integers p >= 0, q > 0."""
    if p == 0:
        return 0.0
    # Scale by 4**s so that r = isqrt(p * 4**s / q) has at least 55 bits; the
    # true root then lies in [r, r + 1), and r + 1/2 (a sticky bit) stands for
    # any inexact value without changing the rounding to 53 bits.
    s = max(0, (112 - (p.bit_length() - q.bit_length())) // 2 + 1)
    quotient, rem = divmod(p << (2 * s), q)
    r = math.isqrt(quotient)
    exact = rem == 0 and r * r == quotient
    return _div(2 * r + (0 if exact else 1), 1 << (s + 1))


def _seconds(dt_ns: int) -> float:
    """Nanoseconds -> float64 seconds, correctly rounded."""
    return dt_ns / 1_000_000_000


def _decay_weight(dt_ns: int, half_life_ns: int) -> tuple[int, float]:
    """The weight 2^(-dt/H) as (k, w) with weight = w * 2^-k exactly, w in (0.5, 1].

    q = dt/H is rounded to float64 once; k = floor(q) is applied exactly (so
    old events never underflow to 0) and w = 2.0 ** -(q - k) is a float64
    within an ulp of the true power. This is the one inexact step of the
    decayed aggregates: both compute() and brute_force() use it.
    """
    q = dt_ns / half_life_ns
    k = math.floor(q)
    return k, 2.0 ** -(q - k)


def _decayed(terms: list[tuple[float | int, int, float]], avg: bool) -> float | None:
    """Exact sum (or weighted mean) of x * w * 2^-k over terms (x, k, w), rounded once.

    With x = xn / 2^a and w = wn / 2^b, a term is xn*wn / 2^(a+b+k) and its
    weight wn / 2^(b+k): over a common denominator 2^D both sums are exact
    Python ints, and the final division rounds correctly (also to a
    subnormal or 0 when every event is very old).
    """
    parts = []
    for x, k, w in terms:
        xn, xd = x.as_integer_ratio()
        wn, wd = w.as_integer_ratio()
        a, b = xd.bit_length() - 1, wd.bit_length() - 1
        parts.append((xn * wn, a + b + k, wn, b + k))
    d = max(p[1] for p in parts)
    num = sum(p << (d - e) for p, e, _, _ in parts)
    if not avg:
        return _div(num, 1 << d)
    den = sum(wn << (d - e) for _, _, wn, e in parts)
    return _div(num, den)


# --------------------------------------------------------------------------
# The oracle


def compute(df: pd.DataFrame, spec: WindowSpec | dict, time_column: str = "ts") -> pd.Series:
    """The exact value of a windowed feature for every row of df, in df's row order."""
    spec = _as_spec(spec)
    n = len(df)
    ts = df[time_column].to_numpy(dtype=np.int64).tolist()
    member = _where_mask(df, spec.where).tolist()
    codes = _key_codes(df, spec.keys)
    vals = _values(df[spec.column]) if spec.column is not None else [None] * n
    kind = _column_kind(df[spec.column]) if spec.column is not None else "none"
    if spec.agg in NUMERIC_AGGS and kind not in ("int", "float"):
        raise TypeError(f"{spec.agg} needs a numeric column; {spec.column!r} is {kind}")
    exact_sums = kind == "float" and spec.agg in ("sum", "avg", "variance", "stddev")
    scale = _float_scale(vals) if exact_sums else 0

    # Canonical order, then the events of each key in that order.
    order = np.argsort(np.asarray(ts, dtype=np.int64), kind="stable").tolist()
    per_key: dict[int, list[int]] = {}
    for i in order:
        c = codes[i]
        if c is not None:
            per_key.setdefault(c, []).append(i)

    out: list[Any] = [None] * n
    for events in per_key.values():
        _sweep_key(events, ts, member, vals, kind, scale, spec, out)
    return _to_series(out, spec, kind, df.index)


def _sweep_key(events: list[int], ts: list[int], member: list[bool], vals: list, kind: str,
               scale: int, spec: WindowSpec, out: list) -> None:
    """Fill out[i] for the events of one key, given in canonical order.

    mem (row indices), mt (times) and mv (values) list the members, the
    events that passed `where`, in canonical order. For event e, members
    [lo, hi) are its window and [lo, before) the members strictly before it
    (within W). lo, before and hi only move forward as e advances.
    """
    agg, W = spec.agg, spec.window_ns
    mem = [i for i in events if member[i]]
    mt = [ts[i] for i in mem]
    mv = [vals[i] for i in mem]
    m = len(mem)

    # Prefix arrays over members: non-null counts, exact sums of x*2^E and x^2*2^2E.
    nn = [0] * (m + 1)
    for j, v in enumerate(mv):
        nn[j + 1] = nn[j] + (v is not None)
    if agg in ("sum", "avg", "variance", "stddev"):
        s1 = [0] * (m + 1)
        s2 = [0] * (m + 1)
        for j, v in enumerate(mv):
            if v is None:
                s1[j + 1], s2[j + 1] = s1[j], s2[j]
            else:
                iv = _scaled_int(v, scale)
                s1[j + 1], s2[j + 1] = s1[j] + iv, s2[j] + iv * iv
    if agg in ("first", "last", "previous"):
        # next_nn[j]: first non-null member index >= j (m if none);
        # prev_nn[j]: last non-null member index < j (-1 if none).
        next_nn = [m] * (m + 1)
        for j in range(m - 1, -1, -1):
            next_nn[j] = j if mv[j] is not None else next_nn[j + 1]
        prev_nn = [-1] * (m + 1)
        for j in range(m):
            prev_nn[j + 1] = j if mv[j] is not None else prev_nn[j]

    seen = 0  # members at or before the current event
    lo = 0
    for i in events:
        t = ts[i]
        if member[i]:
            seen += 1
            before = seen - 1
        else:
            before = seen
        hi = before if spec.exclude else seen
        if W is not None:
            while lo < m and mt[lo] <= t - W:
                lo += 1
        # lo <= before <= hi here: members from index `seen` on are at or after e (time >= t).

        if agg == "count":
            res: Any = (hi - lo) if spec.column is None else (nn[hi] - nn[lo])
        elif agg in ("sum", "avg", "variance", "stddev"):
            c = nn[hi] - nn[lo]
            s = s1[hi] - s1[lo]
            if agg == "sum":
                res = None if c == 0 else (s if kind == "int" else _div(s, 1 << scale))
            elif agg == "avg":
                res = None if c == 0 else _div(s, c << scale)
            else:
                q = s2[hi] - s2[lo]
                if c < 2:
                    res = None
                else:
                    num, den = c * q - s * s, (c * (c - 1)) << (2 * scale)
                    res = _div(num, den) if agg == "variance" else _sqrt_ratio(num, den)
        elif agg in ("min", "max"):
            present = [v for v in mv[lo:hi] if v is not None]
            res = (min(present) if agg == "min" else max(present)) if present else None
        elif agg == "first":
            j = next_nn[lo]
            res = mv[j] if j < hi else None
        elif agg == "last":
            j = prev_nn[hi]
            res = mv[j] if j >= lo else None
        elif agg == "previous":
            j = prev_nn[before]
            res = mv[j] if j >= lo else None
        elif agg == "count_distinct":
            res = len({v for v in mv[lo:hi] if v is not None})
        elif agg == "time_since_last":
            res = _seconds(t - mt[before - 1]) if before > lo else None
        elif agg == "time_since_first":
            res = _seconds(t - mt[lo]) if hi > lo else None
        elif agg in ("decayed_sum", "decayed_avg"):
            terms = [(mv[j], *_decay_weight(t - mt[j], spec.half_life_ns))
                     for j in range(lo, hi) if mv[j] is not None]
            res = _decayed(terms, agg == "decayed_avg") if terms else None
        else:  # pragma: no cover - WindowSpec validates agg
            raise AssertionError(agg)
        out[i] = res


def _to_series(out: list, spec: WindowSpec, kind: str, index: pd.Index) -> pd.Series:
    """Typed Series: Int64 for counts and int results, float64 (NaN = null), object for strings."""
    agg = spec.agg
    if agg in COUNT_AGGS or (kind == "int" and agg in ("sum", "min", "max", "first", "last", "previous")):
        if all(v is None or -(1 << 63) <= v < (1 << 63) for v in out):
            return pd.Series(pd.array(out, dtype="Int64"), index=index)
        return pd.Series(out, index=index, dtype=object)  # int64 overflow: keep exact ints
    if agg in FLOAT_AGGS or kind == "float":
        return pd.Series([np.nan if v is None else v for v in out], index=index, dtype=np.float64)
    if kind == "bool":
        return pd.Series(pd.array(out, dtype="boolean"), index=index)
    return pd.Series(out, index=index, dtype=object)


# --------------------------------------------------------------------------
# pandas, the way a pandas user would write it

PANDAS_AGGS = {"count", "sum", "avg", "min", "max", "stddev", "variance"}


def pandas_rolling(df: pd.DataFrame, spec: WindowSpec | dict, time_column: str = "ts") -> pd.Series:
    """The same feature with groupby(keys).rolling(W, on=time): count/sum/avg/min/max/stddev/variance.

    Canonical order is a stable sort by time; pandas' time-based rolling window
    for row i covers rows j <= i (by position) with t_j in (t_i - W, t_i] for
    closed='right', which is exactly our window. ``exclude current`` uses
    closed='left' with W - 1ns: rows j < i with t_j >= t_i - W + 1ns, i.e.
    t_j > t_i - W for integer-ns times. Events failing `where` stay in the
    frame with a NaN value, so they get a result but contribute nothing.
    Differences from the oracle are numerical only (pandas adds and removes
    values from running float sums).
    """
    spec = _as_spec(spec)
    if spec.agg not in PANDAS_AGGS:
        raise NotImplementedError(f"pandas_rolling: {spec.agg} has no rolling equivalent here")
    n = len(df)
    t = df[time_column].to_numpy(dtype=np.int64)
    member = _where_mask(df, spec.where)
    if spec.column is None:
        v = np.where(member, 1.0, np.nan)
    else:
        col = pd.to_numeric(df[spec.column], errors="coerce").astype(np.float64).to_numpy()
        v = np.where(member, col, np.nan)
    frame = pd.DataFrame({"t": pd.to_datetime(t, unit="ns"), "v": v})  # index: row position
    for k in spec.keys:
        frame[k] = df[k].to_numpy()
    frame = frame[frame[list(spec.keys)].notna().all(axis=1)] if spec.keys else frame
    frame = frame.sort_values("t", kind="mergesort")  # stable: canonical order

    if spec.window_ns is not None:
        w = spec.window_ns
    else:  # unbounded: a window longer than the whole stream
        w = int(t.max() - t.min()) + 2 if n else 2
    window = pd.Timedelta(w - 1 if spec.exclude else w, unit="ns")
    closed = "left" if spec.exclude else "right"
    if spec.keys:
        roll = frame.groupby(list(spec.keys), sort=False)[["t", "v"]].rolling(window, on="t", closed=closed)
    else:
        roll = frame[["t", "v"]].rolling(window, on="t", closed=closed)
    res = {
        "count": lambda r: r.count(),
        "sum": lambda r: r.sum(),
        "avg": lambda r: r.mean(),
        "min": lambda r: r.min(),
        "max": lambda r: r.max(),
        "stddev": lambda r: r.std(ddof=1),
        "variance": lambda r: r.var(ddof=1),
    }[spec.agg](roll)["v"]
    # groupby-rolling results are indexed by (keys..., row position).
    rows = res.index.get_level_values(-1).to_numpy()
    out = np.full(n, np.nan)
    out[rows] = res.to_numpy(dtype=np.float64)
    if spec.agg == "count":
        out[rows] = np.nan_to_num(out[rows], nan=0.0)  # an empty window counts 0
    return pd.Series(out, index=df.index)


# --------------------------------------------------------------------------
# Brute force: the definition applied literally, O(n^2), with Fractions.


def brute_force(df: pd.DataFrame, spec: WindowSpec | dict, time_column: str = "ts") -> list:
    """Results as a list of Python values (None = null), in df's row order.

    For every event, selects the window by testing every other event against
    the definition, then aggregates with exact rationals (stddev through a
    60-digit Decimal square root). Slow; independent of compute()'s sweep.
    """
    spec = _as_spec(spec)
    n = len(df)
    ts = df[time_column].to_numpy(dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[sorted(range(n), key=lambda i: (int(ts[i]), i))] = np.arange(n)  # canonical position
    member = _where_mask(df, spec.where)
    key_cols = [_values(df[k]) for k in spec.keys]
    keys = list(zip(*key_cols)) if spec.keys else [()] * n
    key_null = np.array([any(v is None for v in kv) for kv in keys], dtype=bool)
    ids: dict[tuple, int] = {}
    key_id = np.array([ids.setdefault(kv, len(ids)) for kv in keys], dtype=np.int64)
    vals = _values(df[spec.column]) if spec.column is not None else [None] * n
    kind = _column_kind(df[spec.column]) if spec.column is not None else "none"
    idx = np.arange(n)
    W = spec.window_ns
    out: list = []
    for e in range(n):
        if key_null[e]:
            out.append(None)
            continue
        cand = (key_id == key_id[e]) & ~key_null & member & (rank <= rank[e])
        if W is not None:
            cand &= ts > ts[e] - W
        strictly_before = cand & (rank < rank[e])
        window = cand & ~((idx == e) if spec.exclude else np.zeros(n, dtype=bool))
        win = sorted(idx[window].tolist(), key=lambda i: rank[i])
        prior = sorted(idx[strictly_before].tolist(), key=lambda i: rank[i])
        xs = [vals[i] for i in win if vals[i] is not None]
        te = int(ts[e])
        agg = spec.agg
        if agg == "count":
            r: Any = len(win) if spec.column is None else len(xs)
        elif agg == "count_distinct":
            r = len(set(xs))
        elif agg == "sum":
            r = None if not xs else (sum(xs) if kind == "int" else _frac_to_float(sum(map(Fraction, xs))))
        elif agg == "avg":
            r = None if not xs else _frac_to_float(sum(map(Fraction, xs)) / len(xs))
        elif agg in ("variance", "stddev"):
            if len(xs) < 2:
                r = None
            else:
                mean = sum(map(Fraction, xs)) / len(xs)
                var = sum((Fraction(x) - mean) ** 2 for x in xs) / (len(xs) - 1)
                if agg == "variance":
                    r = _frac_to_float(var)
                else:
                    with localcontext() as ctx:
                        ctx.prec = 60
                        root = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
                    r = float(root) if math.isfinite(float(root)) else None
        elif agg == "min":
            r = min(xs) if xs else None
        elif agg == "max":
            r = max(xs) if xs else None
        elif agg == "first":
            r = xs[0] if xs else None
        elif agg == "last":
            r = xs[-1] if xs else None
        elif agg == "previous":
            p = [vals[i] for i in prior if vals[i] is not None]
            r = p[-1] if p else None
        elif agg == "time_since_last":
            r = float(Fraction(te - int(ts[prior[-1]]), 10**9)) if prior else None
        elif agg == "time_since_first":
            r = float(Fraction(te - int(ts[win[0]]), 10**9)) if win else None
        elif agg in ("decayed_sum", "decayed_avg"):
            terms = []
            for i in win:
                if vals[i] is not None:
                    k, w = _decay_weight(te - int(ts[i]), spec.half_life_ns)
                    terms.append((Fraction(vals[i]), Fraction(w) / 2**k))
            if not terms:
                r = None
            else:
                num = sum(x * w for x, w in terms)
                den = sum(w for _, w in terms)
                r = _frac_to_float(num if agg == "decayed_sum" else num / den)
        else:  # pragma: no cover
            raise AssertionError(agg)
        out.append(r)
    return out


def _frac_to_float(f: Fraction) -> float | None:
    try:
        return float(f)  # correctly rounded
    except OverflowError:
        return None


# --------------------------------------------------------------------------
# Feature text: "agg(args) [over DUR] [by k | by (k1, k2)] [where COND] [exclude current]"

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<dur>\d+(?:ms|s|m|h|d|w|y)(?![A-Za-z0-9_]))
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*|`[^`]+`)
  | (?P<op><=|>=|<>|!=|==|=|<|>|\(|\)|,|-)
""", re.VERBOSE)


def _tokenize(text: str) -> list[tuple[str, str]]:
    toks, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected character {text[pos]!r} at column {pos + 1} in {text!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            toks.append((m.lastgroup, m.group()))
    return toks


@dataclass(frozen=True)
class Feature:
    """A parsed feature: the spec (its `where` is None) plus the condition text."""
    spec: WindowSpec
    where_text: str | None


def parse_feature(text: str) -> Feature:
    """Parse the windowed-feature syntax of a pipeline file (case-insensitive keywords)."""
    toks = _tokenize(text)
    pos = 0

    def peek(k: int = 0) -> tuple[str, str]:
        return toks[pos + k] if pos + k < len(toks) else ("end", "")

    def take(kind: str | None = None, value: str | None = None) -> str:
        nonlocal pos
        tk, tv = peek()
        if (kind and tk != kind) or (value and tv.lower() != value):
            raise ValueError(f"in {text!r}: expected {value or kind}, found {tv or 'end of text'}")
        pos += 1
        return tv

    agg = take("name").lower()
    take("op", "(")
    args: list[tuple[str, str]] = []
    while peek()[1] != ")":
        args.append(peek())
        take()
        if peek()[1] == ",":
            take()
    take("op", ")")
    column = half_life = None
    for k, v in args:
        if k == "dur":
            half_life = parse_duration(v)
        elif k == "name":
            column = v.strip("`")
        else:
            raise ValueError(f"in {text!r}: unexpected argument {v}")
    window = where_text = None
    keys: list[str] = []
    exclude = False
    if peek()[1].lower() == "over":
        take()
        window = parse_duration(take("dur"))
    if peek()[1].lower() == "by":
        take()
        if peek()[1] == "(":
            take()
            keys.append(take("name").strip("`"))
            while peek()[1] == ",":
                take()
                keys.append(take("name").strip("`"))
            take("op", ")")
        else:
            keys.append(take("name").strip("`"))
    if peek()[1].lower() == "where":
        take()
        start = pos
        while peek()[0] != "end" and not (peek()[1].lower() == "exclude" and peek(1)[1].lower() == "current"):
            pos += 1
        where_text = " ".join(v for _, v in toks[start:pos])
        if not where_text:
            raise ValueError(f"in {text!r}: empty where condition")
    if peek()[1].lower() == "exclude":
        take()
        take("name", "current")
        exclude = True
    if peek()[0] != "end":
        raise ValueError(f"in {text!r}: unexpected {peek()[1]}")
    spec = WindowSpec(agg=agg, column=column, window_ns=window, keys=tuple(keys),
                      exclude=exclude, half_life_ns=half_life)
    return Feature(spec, where_text)


def eval_condition(df: pd.DataFrame, text: str) -> np.ndarray:
    """Evaluate a `where` condition to a bool mask (null -> False).

    Supported: comparisons (= == != <> < <= > >=) between columns and
    literals (numbers, 'strings', true, false), IS [NOT] NULL, [NOT] IN (...),
    [NOT] BETWEEN a AND b, NOT, AND, OR, parentheses; SQL three-valued logic.
    """
    toks = _tokenize(text)
    pos = 0
    n = len(df)
    KW = {"and", "or", "not", "is", "null", "in", "between", "true", "false"}

    def peek() -> tuple[str, str]:
        return toks[pos] if pos < len(toks) else ("end", "")

    def kw(word: str) -> bool:
        nonlocal pos
        if peek()[0] == "name" and peek()[1].lower() == word:
            pos += 1
            return True
        return False

    def expect(v: str) -> None:
        nonlocal pos
        if peek()[1] != v:
            raise ValueError(f"where {text!r}: expected {v!r}, found {peek()[1] or 'end'}")
        pos += 1

    # A truth vector is a list of True / False / None.
    def t_and(a, b):
        return [False if (x is False or y is False) else (None if (x is None or y is None) else True)
                for x, y in zip(a, b)]

    def t_or(a, b):
        return [True if (x is True or y is True) else (None if (x is None or y is None) else False)
                for x, y in zip(a, b)]

    def t_not(a):
        return [None if x is None else not x for x in a]

    def operand() -> list:
        nonlocal pos
        k, v = peek()
        neg = False
        if v == "-":
            pos += 1
            neg = True
            k, v = peek()
        pos += 1
        if k == "num":
            num: Any = float(v) if re.search(r"[.eE]", v) else int(v)
            return [-num if neg else num] * n
        if k == "str":
            return [v[1:-1].replace("''", "'")] * n
        if k == "name" and v.lower() in ("true", "false"):
            return [v.lower() == "true"] * n
        if k == "name" and v.lower() == "null":
            return [None] * n
        if k == "name" and v.lower() not in KW:
            return _values(df[v.strip("`")])
        raise ValueError(f"where {text!r}: expected a value, found {v or 'end'}")

    def compare(a, op, b):
        f = {"=": lambda x, y: x == y, "==": lambda x, y: x == y, "!=": lambda x, y: x != y,
             "<>": lambda x, y: x != y, "<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
             ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}[op]
        return [None if (x is None or y is None) else bool(f(x, y)) for x, y in zip(a, b)]

    def predicate() -> list:
        nonlocal pos
        if peek()[1] == "(":
            pos += 1
            r = disjunction()
            expect(")")
            return r
        left = operand()
        k, v = peek()
        if k == "op" and v in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            pos += 1
            return compare(left, v, operand())
        if kw("is"):
            negate = kw("not")
            if not kw("null"):
                raise ValueError(f"where {text!r}: expected null after is")
            r = [x is None for x in left]
            return [not x for x in r] if negate else r
        negate = kw("not")
        if kw("in"):
            expect("(")
            items = [operand()]
            while peek()[1] == ",":
                pos += 1
                items.append(operand())
            expect(")")
            r = [False] * n
            for item in items:
                r = t_or(r, compare(left, "=", item))
            return t_not(r) if negate else r
        if kw("between"):
            lo_v = operand()
            if not kw("and"):
                raise ValueError(f"where {text!r}: expected and after between")
            hi_v = operand()
            r = t_and(compare(left, ">=", lo_v), compare(left, "<=", hi_v))
            return t_not(r) if negate else r
        if negate:
            raise ValueError(f"where {text!r}: expected in or between after not")
        if all(isinstance(x, bool) or x is None for x in left):
            return left  # a bool column or literal on its own
        raise ValueError(f"where {text!r}: expected a comparison, found {v or 'end'}")

    def negation() -> list:
        if kw("not"):
            return t_not(negation())
        return predicate()

    def conjunction() -> list:
        r = negation()
        while kw("and"):
            r = t_and(r, negation())
        return r

    def disjunction() -> list:
        r = conjunction()
        while kw("or"):
            r = t_or(r, conjunction())
        return r

    result = disjunction()
    if peek()[0] != "end":
        raise ValueError(f"where {text!r}: unexpected {peek()[1]}")
    return np.array([x is True for x in result], dtype=bool)


# --------------------------------------------------------------------------
# Reading streams

_INT_RE = re.compile(r"[+-]?\d+")


def read_stream_csv(source: str | io.TextIOBase, time_column: str = "ts", time_format: str = "epoch_ms",
                    types: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV into typed columns; the time column becomes int64 nanoseconds.

    Empty fields (quoted or not) are null. Column types are taken from `types` (int64,
    float64, string) or inferred: int64 if every non-empty field is an
    integer, float64 if every one parses as a float, else string. Floats are
    parsed with Python's float(), which is correctly rounded.
    time_format: epoch_s, epoch_ms, epoch_us, epoch_ns (decimal text, a
    fraction is allowed) or iso8601.
    """
    raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False)
    types = dict(types or {})
    df = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        texts = raw[col].tolist()
        if col == time_column:
            df[col] = _parse_times(texts, time_format)
            continue
        present = [t for t in texts if t != ""]
        typ = types.get(col)
        if typ is None:
            if present and all(_INT_RE.fullmatch(t.strip()) for t in present):
                typ = "int64"
            else:
                try:
                    [float(t) for t in present]
                    typ = "float64" if present else "string"
                except ValueError:
                    typ = "string"
        if typ == "int64":
            df[col] = pd.array([int(t) if t != "" else None for t in texts], dtype="Int64")
            if not df[col].isna().any():
                df[col] = df[col].astype(np.int64)
        elif typ == "float64":
            df[col] = np.array([float(t) if t != "" else np.nan for t in texts], dtype=np.float64)
        elif typ == "string":
            df[col] = pd.Series([t if t != "" else None for t in texts], dtype=object, index=raw.index)
        else:
            raise ValueError(f"unknown type {typ!r} for column {col!r}")
    return df


def _parse_times(texts: list[str], time_format: str) -> np.ndarray:
    if time_format == "iso8601":
        parsed = pd.to_datetime(pd.Series(texts), utc=True)
        return parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    mult = {"epoch_s": 10**9, "epoch_ms": 10**6, "epoch_us": 10**3, "epoch_ns": 1}[time_format]
    out = []
    for t in texts:
        d = Decimal(t.strip()) * mult
        if d != d.to_integral_value():
            raise ValueError(f"timestamp {t!r} is finer than a nanosecond")
        out.append(int(d))
    return np.array(out, dtype=np.int64)


# --------------------------------------------------------------------------
# Self-test


def _same(a: Any, b: Any) -> bool:
    """Exact equality of two results: same Python type and value, or both null."""
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


def _series_values(s: pd.Series) -> list:
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in s.astype(object)]


def _check(cond: bool, msg: str, failures: list[str]) -> None:
    if not cond:
        failures.append(msg)


def _hand_cases(failures: list[str]) -> int:
    """Small cases checked against values worked out by hand."""
    S = 10**9
    df = pd.DataFrame({
        "ts": np.array([0, 10, 10, 10, 5, 70, 10], dtype=np.int64) * S,
        "k": [ "A", "A", "A", "B", "A", "A", None],
        "x": [1.0, 2.0, np.nan, 5.0, 4.0, 8.0, 3.0],
    })
    # Canonical order: rows 0 (t0), 4 (t5), 1, 2, 3, 6 (t10, input order), 5 (t70).
    cases = [
        ("count() over 60s by k", [1, 3, 4, 1, 2, 1, None]),
        ("count(x) over 60s by k", [1, 3, 3, 1, 2, 1, None]),
        ("sum(x) over 60s by k", [1.0, 7.0, 7.0, 5.0, 5.0, 8.0, None]),
        ("sum(x) over 60s by k exclude current", [None, 5.0, 7.0, None, 1.0, None, None]),
        ("count() over 60s by k exclude current", [0, 2, 3, 0, 1, 0, None]),
        ("previous(x) by k", [None, 4.0, 2.0, None, 1.0, 2.0, None]),
        ("previous(x) over 60s by k", [None, 4.0, 2.0, None, 1.0, None, None]),
        ("time_since_last() by k", [None, 5.0, 0.0, None, 5.0, 60.0, None]),
        ("time_since_first() over 60s by k", [0.0, 10.0, 10.0, 0.0, 5.0, 0.0, None]),
        ("first(x) over 1h by k", [1.0, 1.0, 1.0, 5.0, 1.0, 1.0, None]),
        ("last(x) over 1h by k", [1.0, 2.0, 2.0, 5.0, 4.0, 8.0, None]),
        ("count() over 1h by k where x > 1", [0, 2, 2, 1, 1, 3, None]),
        ("max(x) over 1h", [1.0, 4.0, 4.0, 5.0, 4.0, 8.0, 5.0]),
        ("count_distinct(k) over 1h", [1, 1, 1, 2, 1, 2, 2]),
        ("decayed_sum(x, 5s) by k", [1.0, 2.0 + 4.0 / 2 + 1.0 / 4, 2.0 + 4.0 / 2 + 1.0 / 4, 5.0,
                                      4.0 + 0.5, 8.0 + 2.0 / 2**12 + 4.0 / 2**13 + 1.0 / 2**14, None]),
        ("variance(x) over 1h by k", [None, 7 / 3, 7 / 3, None, 4.5, 9.583333333333334, None]),
    ]
    # Weights far below float64's range: 2^-4990 .. 2^-5000 (no underflow in the oracle).
    far = pd.DataFrame({"ts": np.array([0, 10, 5000], dtype=np.int64) * S,
                        "k": ["A"] * 3, "x": [1.0, 3.0, np.nan]})
    avg_far = (3.0 + 2.0**-10) / (1.0 + 2.0**-10)  # the common factor 2^-4990 cancels
    cases_far = [
        ("decayed_avg(x, 1s) by k", [1.0, avg_far, avg_far]),
        ("decayed_sum(x, 1s) by k", [1.0, 3.0 + 2.0**-10, 0.0]),  # (3 + 2^-10) * 2^-4990 underflows to 0
    ]
    for text, expected in cases_far:
        got = _series_values(compute(far, parse_feature(text).spec))
        _check(got == expected, f"hand case {text!r} (underflow): got {got}, expected {expected}",
               failures)
    for text, expected in cases:
        f = parse_feature(text)
        d = df
        if f.where_text:
            d = df.assign(_w=eval_condition(df, f.where_text))
            f = Feature(replace(f.spec, where="_w"), None)
        got = _series_values(compute(d, f.spec))
        ok = len(got) == len(expected) and all(
            (g is None and e is None)
            or (g is not None and e is not None and math.isclose(g, e, rel_tol=1e-15))
            for g, e in zip(got, expected))
        _check(ok, f"hand case {text!r}: got {got}, expected {expected}", failures)
    return len(cases) + len(cases_far)


def _self_test_specs() -> list[WindowSpec]:
    """Every aggregate x a set of variants covering window sizes, keys, where, exclude."""
    ms = NS_PER_UNIT["ms"]
    variants = [  # (window, keys, where, exclude)
        (30_000 * ms, ("k1",), None, False),
        (15 * 60_000 * ms, ("k1", "k2"), None, True),
        (None, ("k1",), "w_s", False),
        (1_000 * ms, ("k1",), "w_x", True),
        (3_600_000 * ms, ("k1", "k2"), "w_s", False),
        (3_600_000 * ms, (), None, True),
        (500 * ms, ("k1",), None, False),
    ]
    columns = {  # agg -> columns it is tried on
        "count": [None, "x", "m", "s"], "count_distinct": ["x", "s"],
        "sum": ["x", "y", "m"], "avg": ["x", "y", "m"],
        "variance": ["x", "y", "m"], "stddev": ["x", "y", "m"],
        "min": ["x", "y", "m", "s"], "max": ["x", "y", "m", "s"],
        "first": ["x", "s"], "last": ["x", "s"], "previous": ["x", "s"],
        "time_since_last": [None], "time_since_first": [None],
        "decayed_sum": ["x", "m"], "decayed_avg": ["x", "m"],
    }
    specs = []
    for agg, cols in columns.items():
        for col in cols:
            for w, keys, where, exclude in variants:
                # 1h half-life: the brute force's Fractions stay small (the
                # hand cases cover weights far below float64's range).
                hl = 3_600_000 * ms if agg.startswith("decayed") else None
                specs.append(WindowSpec(agg, col, w, keys, where, exclude, hl))
    return specs


def _self_test_frame(seed: int, events: int) -> pd.DataFrame:
    """A gen_stream stream (read back through read_stream_csv) plus helper columns."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gen_stream  # noqa: E402  (sibling module)
    text = gen_stream.generate(seed=seed, events=events, keys=5, nulls=0.15, disorder=20)
    df = read_stream_csv(io.StringIO(text), time_column="ts", time_format="epoch_ms")
    rng = np.random.default_rng(seed)
    # m: moderate positive amounts with nulls, where pandas' float sums stay accurate.
    m = np.round(rng.lognormal(3.0, 1.0, size=len(df)), 2)
    m[rng.random(len(df)) < 0.1] = np.nan
    df["m"] = m
    df["w_s"] = eval_condition(df, "s in ('a', 'b') or s is null")
    df["w_x"] = eval_condition(df, "x > 0")
    return df


def self_test(seed: int = 11, events: int = 1000, verbose: bool = True) -> bool:
    """Oracle vs hand-worked cases, vs brute force (everything) and vs pandas rolling."""
    t0 = time.time()
    failures: list[str] = []
    say = print if verbose else (lambda *a, **k: None)

    n_hand = _hand_cases(failures)
    say(f"hand-worked cases: {n_hand} features checked")

    df = _self_test_frame(seed, events)
    ts = df["ts"].to_numpy()
    order = np.argsort(ts, kind="stable")
    ties = int((np.diff(ts[order]) == 0).sum())
    out_of_order = int((np.diff(ts) < 0).sum())
    long_gaps = int((np.diff(ts[order]) > 2 * 3_600 * 10**9).sum())
    say(f"stream: {len(df)} events, {df['k1'].nunique()} k1 keys, {ties} equal-time pairs, "
        f"{out_of_order} rows out of time order, {long_gaps} gaps > 2h, "
        "nulls: " + ", ".join(f"{c} {int(df[c].isna().sum())}" for c in ("k2", "x", "s")))

    # 1. Oracle vs brute force, every aggregate and variant.
    specs = _self_test_specs()
    n_vals = 0
    for spec in specs:
        got = _series_values(compute(df, spec))
        want = brute_force(df, spec)
        n_vals += len(want)
        bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if not _same(g, w)]
        _check(not bad, f"brute force: {spec.describe()}: {len(bad)} rows differ, first {bad[:3]}", failures)
    say(f"oracle vs brute force O(n^2): {len(specs)} features, {n_vals} values, "
        f"{'all equal' if not any(f.startswith('brute') for f in failures) else 'DIFFERENCES'} "
        f"(exact equality)")

    # 2. Oracle vs pandas rolling on the moderate column m: must agree.
    worst: dict[str, float] = {}
    n_pandas = 0
    for spec in specs:
        if spec.agg not in PANDAS_AGGS or spec.column not in (None, "m"):
            continue
        n_pandas += 1
        exact = compute(df, spec).astype(np.float64).to_numpy()
        pd_vals = pandas_rolling(df, spec).to_numpy()
        tol = 1e-6 if spec.agg in ("stddev", "variance") else 1e-9
        err = _rel_err(exact, pd_vals)
        worst[spec.agg] = max(worst.get(spec.agg, 0.0), err)
        _check(err <= tol, f"pandas: {spec.describe()}: relative error {err:.3g} > {tol}", failures)
    say(f"oracle vs pandas rolling (column m, {n_pandas} features): max relative error per aggregate: "
        + ", ".join(f"{a} {e:.1e}" for a, e in sorted(worst.items())))

    # 3. For information: pandas on the adversarial columns x (huge/tiny floats) and y (~2**53 ints).
    info: dict[tuple[str, str], float] = {}
    for spec in specs:
        if spec.agg in PANDAS_AGGS and spec.column in ("x", "y"):
            exact = compute(df, spec).astype(np.float64).to_numpy()
            err = _rel_err(exact, pandas_rolling(df, spec).to_numpy())
            info[spec.column, spec.agg] = max(info.get((spec.column, spec.agg), 0.0), err)
    say("for information (not checked), pandas on the adversarial columns, max relative error:")
    for col, what in (("x", "floats from 1e-12 to 1e15, both signs"), ("y", "int64 near +-2**53")):
        errs = [f"{a} {e:.1e}" for (c, a), e in sorted(info.items()) if c == col]
        say(f"  {col} ({what}): " + ", ".join(errs))

    say(f"self-test {'PASSED' if not failures else 'FAILED'} in {time.time() - t0:.1f}s")
    for f in failures:
        say("FAIL: " + f)
    return not failures


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Max relative difference; a null on one side only counts as infinite."""
    na, nb = np.isnan(a), np.isnan(b)
    if (na != nb).any():
        return math.inf
    m = ~na
    if not m.any():
        return 0.0
    diff = np.abs(a[m] - b[m])
    scale = np.maximum(np.abs(a[m]), np.abs(b[m]))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(diff == 0, 0.0, diff / scale)
    return float(rel.max())


# --------------------------------------------------------------------------
# CLI


def _format(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Exact reference values of windowed features.")
    p.add_argument("--self-test", action="store_true", help="run the self-test and exit")
    p.add_argument("--seed", type=int, default=11, help="self-test stream seed")
    p.add_argument("--events", type=int, default=1000, help="self-test stream length")
    p.add_argument("--input", "-i", help="input CSV")
    p.add_argument("--time-column", default="ts")
    p.add_argument("--time-format", default="epoch_ms",
                   choices=["epoch_s", "epoch_ms", "epoch_us", "epoch_ns", "iso8601"])
    p.add_argument("--type", action="append", default=[], metavar="COL=TYPE",
                   help="column type override: int64, float64 or string")
    p.add_argument("--feature", "-f", action="append", default=[], metavar="NAME=EXPR",
                   help="a windowed feature, e.g. \"c=count() over 1h by k1\"")
    p.add_argument("--output", "-o", default="-", help="output CSV ('-' = stdout)")
    p.add_argument("--compare-pandas", action="store_true",
                   help="also print, per feature, the max relative difference from pandas rolling")
    a = p.parse_args(argv)

    if a.self_test:
        return 0 if self_test(seed=a.seed, events=a.events) else 1
    if not a.input or not a.feature:
        p.error("--input and at least one --feature are required (or --self-test)")

    types = dict(t.split("=", 1) for t in a.type)
    df = read_stream_csv(a.input, a.time_column, a.time_format, types)
    names, results = [], []
    for item in a.feature:
        name, _, expr = item.partition("=")
        feat = parse_feature(expr)
        spec = feat.spec
        if feat.where_text:
            df[f"__where_{name}"] = eval_condition(df, feat.where_text)
            spec = replace(spec, where=f"__where_{name}")
        t0 = time.time()
        res = compute(df, spec, a.time_column)
        msg = f"{name}: {expr.strip()} ({time.time() - t0:.2f}s)"
        if a.compare_pandas:
            if spec.agg in PANDAS_AGGS and (spec.column is None or _column_kind(df[spec.column]) != "str"):
                theirs = pandas_rolling(df, spec, a.time_column).to_numpy()
                err = _rel_err(res.astype(np.float64).to_numpy(), theirs)
                msg += f"; pandas max relative difference {err:.3g}"
            else:
                msg += "; no pandas equivalent"
        print(msg, file=sys.stderr)
        names.append(name.strip())
        results.append(_series_values(res))

    id_col = df.columns[0]
    ids = _series_values(df[id_col]) if id_col != a.time_column else list(range(1, len(df) + 1))
    f = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8", newline="")
    try:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([id_col] + names)
        for r, ident in enumerate(ids):
            w.writerow([_format(ident)] + [_format(col[r]) for col in results])
    finally:
        if f is not sys.stdout:
            f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
