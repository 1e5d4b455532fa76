#!/usr/bin/python3
"""Trains the two models of the scoring benchmark and writes the rows to score.

Seeded and deterministic: a synthetic credit-like dataset of 19 float
features (a few skewed, a few integer-coded, some with missing values),
a label from a non-linear score plus noise, then two binary:logistic
boosters, saved by XGBoost as JSON:

  bench/data/model_small.json   150 trees, max_depth 6
  bench/data/model_deep.json    400 trees, max_depth 10
  bench/data/model_rows.f32     --rows rows to score (a fresh draw, not the
                                training rows), row-major float32, 19 values
                                per row, NaN = missing, little-endian

Run with Debian's interpreter: /usr/bin/python3 bench/model/train_models.py
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

NUM_FEATURES = 19
FEATURE_NAMES = [
    "amount_log", "income", "expenses", "assets", "debt", "age", "seniority",
    "time_months", "price", "amount_vs_income", "card_txn_1h", "card_amt_24h",
    "secs_since_last", "merchant_risk", "home", "marital", "job", "records",
    "hour",
]


def draw(rng, n):
    """n rows of the synthetic features, float32, NaN for missing."""
    x = np.empty((n, NUM_FEATURES), dtype=np.float64)
    x[:, 0] = rng.normal(4.0, 1.2, n)                       # amount_log
    x[:, 1] = rng.lognormal(4.8, 0.6, n)                    # income
    x[:, 2] = rng.gamma(3.0, 20.0, n)                       # expenses
    x[:, 3] = np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(8.0, 1.5, n))
    x[:, 4] = np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(7.0, 1.0, n))
    x[:, 5] = rng.integers(18, 80, n)                       # age
    x[:, 6] = rng.integers(0, 40, n)                        # seniority
    x[:, 7] = rng.choice([12, 24, 36, 48, 60], n)           # time_months
    x[:, 8] = x[:, 0] * 300 + rng.lognormal(6.5, 0.5, n)    # price
    x[:, 9] = np.exp(x[:, 0]) / x[:, 1]                     # amount_vs_income
    x[:, 10] = rng.poisson(1.5, n)                          # card_txn_1h
    x[:, 11] = rng.lognormal(5.0, 1.3, n)                   # card_amt_24h
    x[:, 12] = rng.exponential(20000.0, n)                  # secs_since_last
    x[:, 13] = rng.beta(2.0, 8.0, n)                        # merchant_risk
    x[:, 14] = rng.integers(0, 6, n)                        # home
    x[:, 15] = rng.integers(0, 5, n)                        # marital
    x[:, 16] = rng.integers(0, 4, n)                        # job
    x[:, 17] = rng.integers(0, 2, n)                        # records
    x[:, 18] = rng.integers(0, 24, n)                       # hour

    logit = (
        -2.0
        + 0.8 * (x[:, 0] - 4.0)
        - 0.004 * (x[:, 1] - 120)
        + 0.01 * (x[:, 2] - 60)
        - 0.3 * np.log1p(x[:, 3]) / 8
        + 0.4 * (x[:, 4] > 2000)
        - 0.03 * (x[:, 5] - 40) + 0.0008 * (x[:, 5] - 40) ** 2
        - 0.05 * x[:, 6]
        + 0.01 * (x[:, 7] - 36)
        + 1.2 * np.tanh(x[:, 9] - 0.5)
        + 0.35 * x[:, 10] * (x[:, 13] > 0.25)
        + 0.2 * np.log1p(x[:, 11]) * (x[:, 18] < 6)
        - 0.15 * np.log1p(x[:, 12] / 600)
        + 3.0 * x[:, 13]
        + 0.3 * (x[:, 14] == 2) - 0.2 * (x[:, 15] == 1)
        + 0.5 * (x[:, 16] == 3) + 1.1 * x[:, 17]
        + 0.6 * np.sin(x[:, 18] / 24 * 2 * np.pi)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.7, n))))).astype(np.float32)

    # Missing values: a few percent in seven features, as unreported or
    # not-yet-available fields would be.
    for col, rate in ((1, 0.03), (3, 0.08), (4, 0.05), (8, 0.02), (11, 0.10), (12, 0.06), (16, 0.04)):
        x[rng.random(n) < rate, col] = np.nan
    return x.astype(np.float32), y


MODELS = (
    ("model_small.json", 150, 6),
    ("model_deep.json", 400, 10),
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    ap.add_argument("--train-rows", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=100_000, help="rows to score")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--nthread", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    rng = np.random.default_rng(args.seed)
    x_train, y_train = draw(rng, args.train_rows)
    x_score, _ = draw(rng, args.rows)
    dtrain = xgb.DMatrix(x_train, label=y_train, missing=np.nan, feature_names=FEATURE_NAMES)

    for name, trees, depth in MODELS:
        start = time.perf_counter()
        params = {
            "objective": "binary:logistic",
            "max_depth": depth,
            "eta": 0.05,
            "subsample": 0.8,
            "colsample_bytree": 0.9,
            "min_child_weight": 1,
            "tree_method": "hist",
            "seed": args.seed,
            "nthread": args.nthread,
        }
        booster = xgb.train(params, dtrain, num_boost_round=trees)
        path = os.path.join(args.out_dir, name)
        booster.save_model(path)
        dump = json.loads(booster.save_raw("json"))
        nodes = [int(t["tree_param"]["num_nodes"])
                 for t in dump["learner"]["gradient_booster"]["model"]["trees"]]
        print(f"{path}: {trees} trees, max_depth {depth}, {sum(nodes)} nodes "
              f"({sum(nodes) / len(nodes):.0f} per tree), {time.perf_counter() - start:.1f} s",
              file=sys.stderr)

    rows_path = os.path.join(args.out_dir, "model_rows.f32")
    np.ascontiguousarray(x_score, dtype="<f4").tofile(rows_path)
    print(f"{rows_path}: {args.rows} rows x {NUM_FEATURES} features, "
          f"{np.isnan(x_score).mean() * 100:.1f}% missing", file=sys.stderr)


if __name__ == "__main__":
    main()
