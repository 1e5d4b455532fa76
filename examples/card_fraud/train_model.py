#!/usr/bin/python3
"""Trains the card-fraud example's XGBoost model (fraud_model.json).

Run from the project root with Debian's interpreter, after building sluice:
    /usr/bin/python3 examples/card_fraud/train_model.py [--sluice build/release/src/cli/sluice]

1. Generates a training history with generate.py: 300,000 transactions on
   30,000 cards over 30 days, seed 11. The example is evaluated on seed 7
   (README.md), so the model never sees the evaluation data.
2. Computes each transaction's features as they were at its time with
   `sluice features` on a copy of card_fraud.yaml without its models,
   policies and decision (which need the model this script makes).
3. Trains a binary:logistic model, 150 trees of depth 5, on the
   transactions before 2026-01-23 and measures it on the eight days after
   (an out-of-time hold-out: AUC, KS and what a few score cut-offs catch).
   The model saved is the one measured.
4. Writes fraud_model.json next to this script.

The model's inputs carry the pipeline's names, so card_fraud.yaml maps them
by name. They are encoded as sluice encodes them for a model: bools as 0/1,
the `channel` enum as the index of its value in the pipeline's declaration
(pos 0, ecom 1, atm 2), nulls as missing (NaN).

Deterministic: seeded generator and training, one thread; the same XGBoost
gives the same bytes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import xgboost as xgb
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Source fields and features of card_fraud.yaml the model reads.
FEATURES = [
    "amount", "channel", "mcc",
    # velocity
    "card_txn_10m", "card_txn_1h", "card_ecom_1h", "card_small_ecom_10m", "card_merchants_1h",
    "secs_since_last",
    # spend
    "card_amt_1h", "card_amt_24h", "spend_decay_6h",
    # the card's history
    "card_txn_30d", "card_avg_30d", "card_std_30d", "card_max_30d", "amount_vs_avg", "amount_z",
    # where and with whom
    "card_country_30d", "card_countries_24h", "new_country", "card_merchant_30d", "new_merchant",
    "duplicate",
]
CHANNELS = ["pos", "ecom", "atm"]          # card_fraud.yaml's declaration order
BOOLS = ["new_country", "new_merchant", "duplicate"]
HOLDOUT_FROM = pd.Timestamp("2026-01-23T00:00:00Z")
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 5,
    "eta": 0.1,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "min_child_weight": 1,
    "tree_method": "hist",
    "seed": 11,
    "nthread": 1,
}
ROUNDS = 150


def training_pipeline(source: str, target: str) -> None:
    """card_fraud.yaml without what needs the model: source and features only."""
    with open(source, encoding="utf-8") as f:
        pipeline = yaml.safe_load(f)
    for key in ("models", "policies", "decision", "challenger", "reason_codes", "output"):
        pipeline.pop(key, None)
    with open(target, "w", encoding="utf-8") as f:
        yaml.safe_dump(pipeline, f, sort_keys=False, width=200)


def model_inputs(d: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame(index=d.index)
    for c in FEATURES:
        if c == "channel":
            x[c] = d[c].map({v: float(i) for i, v in enumerate(CHANNELS)})
        elif c in BOOLS:
            # sluice writes true/false, or nothing for null; pandas reads a
            # column with empty cells as object.
            x[c] = d[c].map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0})
        else:
            x[c] = d[c].astype("float64")
    return x


def auc_ks(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """AUC (ties count half) and KS, from all records."""
    order = np.argsort(score, kind="mergesort")
    s, yy = score[order], y[order]
    ranks = pd.Series(s).rank(method="average").to_numpy()
    n_bad, n_good = int(yy.sum()), int(len(yy) - yy.sum())
    auc = (ranks[yy == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good)
    last = np.r_[s[1:] != s[:-1], True]                 # last row of each distinct score
    cum_bad = np.cumsum(yy)[last] / n_bad
    cum_good = np.cumsum(1 - yy)[last] / n_good
    return float(auc), float(np.max(np.abs(cum_good - cum_bad)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sluice", default=os.environ.get("SLUICE_BIN",
                                                      os.path.join(ROOT, "build/release/src/cli/sluice")),
                   help="the sluice binary (default: $SLUICE_BIN or build/release/src/cli/sluice)")
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--cards", type=int, default=30_000)
    p.add_argument("--seed", type=int, default=11, help="history seed (the example evaluates seed 7)")
    p.add_argument("--output", default=os.path.join(HERE, "fraud_model.json"))
    p.add_argument("--workdir", help="keep the history and training set here (default: a temporary folder)")
    a = p.parse_args(argv)
    if a.seed == 7:
        p.error("seed 7 is the example's evaluation history; train on another seed")

    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = a.workdir or tmp
        os.makedirs(work, exist_ok=True)
        history = os.path.join(work, "history.csv")
        labels = os.path.join(work, "history_labels.csv")
        pipeline = os.path.join(work, "card_fraud_features.yaml")
        train_csv = os.path.join(work, "train.csv")
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--events", str(a.events),
                        "--cards", str(a.cards), "--seed", str(a.seed), "--days", "30",
                        "--output", history, "--labels", labels], check=True)
        training_pipeline(os.path.join(HERE, "card_fraud.yaml"), pipeline)
        subprocess.run([a.sluice, "features", pipeline, "-i", history, "--labels", labels,
                        "-o", train_csv, "--quiet"], check=True)
        features = pd.read_csv(train_csv)
        raw = pd.read_csv(history, usecols=["txn_id", "amount", "channel", "mcc"])
    d = raw.merge(features, on="txn_id", validate="one_to_one")
    d["ts"] = pd.to_datetime(d["ts"], utc=True)
    x, y = model_inputs(d), d["is_fraud"].to_numpy()
    train = (d["ts"] < HOLDOUT_FROM).to_numpy()
    print(f"training set: {len(d)} transactions, {y.sum()} fraudulent; "
          f"train {train.sum()} ({y[train].sum()} fraud) before {HOLDOUT_FROM:%Y-%m-%d}, "
          f"hold-out {(~train).sum()} ({y[~train].sum()} fraud) after", file=sys.stderr)

    dtrain = xgb.DMatrix(x[train], label=y[train], missing=np.nan, feature_names=FEATURES)
    dtest = xgb.DMatrix(x[~train], label=y[~train], missing=np.nan, feature_names=FEATURES)
    booster = xgb.train(PARAMS, dtrain, num_boost_round=ROUNDS)
    booster.save_model(a.output)

    score = booster.predict(dtest)
    auc, ks = auc_ks(y[~train], score)
    train_auc, _ = auc_ks(y[train], booster.predict(dtrain))
    print(f"AUC: hold-out {auc:.4f} (train {train_auc:.4f}); KS hold-out {ks:.4f}", file=sys.stderr)
    print("hold-out by score cut-off:   flagged   fraud caught   share of fraud   precision",
          file=sys.stderr)
    for cut in (0.9, 0.7, 0.5, 0.3, 0.1, 0.05):
        hit = score >= cut
        caught = int(y[~train][hit].sum())
        print(f"  score >= {cut:<4}            {hit.sum():7d}   {caught:12d}   "
              f"{caught / y[~train].sum():14.1%}   {caught / max(1, hit.sum()):9.1%}", file=sys.stderr)
    gain = booster.get_score(importance_type="total_gain")
    total = sum(gain.values())
    print("inputs by share of total gain: " + ", ".join(
        f"{k} {v / total:.1%}" for k, v in sorted(gain.items(), key=lambda kv: -kv[1])), file=sys.stderr)
    size = os.path.getsize(a.output)
    print(f"wrote {a.output} ({size / 1024:.0f} KiB) in {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
