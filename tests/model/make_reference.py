#!/usr/bin/python3
"""Regenerates the XGBoost reference models and predictions in tests/model/data/.

Run with Debian's interpreter (python3-xgboost, python3-sklearn, python3-pandas):
    /usr/bin/python3 tests/model/make_reference.py
The outputs are committed, so the C++ tests never train anything.

For each model NAME it writes:
  NAME.json  the model, as written by Booster.save_model("NAME.json")
  NAME.csv   one line per reference row: the features the model was given
             (float32, empty = missing), then XGBoost's margins
             (output_margin=True), its transformed predictions and its
             pred_contribs=True values, group by group.
"""

import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
CSV = os.path.join(ROOT, "examples", "credit", "credit_data.csv")
ENUMS = ["Home", "Marital", "Records", "Job"]
NUMBERS = ["Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"]
REFERENCE_ROWS = 250


def load():
    raw = pd.read_csv(CSV)
    label = (raw["Status"] == "bad").astype(np.float32)
    coded = pd.DataFrame(index=raw.index)
    for c in ["Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses",
              "Income", "Assets", "Debt", "Amount", "Price"]:
        if c in ENUMS:
            cat = pd.Categorical(raw[c], categories=sorted(raw[c].dropna().unique()))
            coded[c] = np.where(cat.codes < 0, np.nan, cat.codes).astype(np.float32)
        else:
            coded[c] = raw[c].astype(np.float32)
    return raw, coded, label


def fmt(v):
    v = float(v)
    return "" if np.isnan(v) else repr(float(np.float32(v)))


def write(name, booster, frame, rows, categorical=False):
    path = os.path.join(DATA, name + ".json")
    booster.save_model(path)
    sample = frame.iloc[rows]
    dm = xgb.DMatrix(sample, enable_categorical=categorical)
    margin = booster.predict(dm, output_margin=True)
    pred = booster.predict(dm)
    contribs = booster.predict(dm, pred_contribs=True)
    n = len(rows)
    margin = margin.reshape(n, -1)
    pred = pred.reshape(n, -1)
    contribs = contribs.reshape(n, -1)
    feats = sample.copy()
    for c in feats.columns:
        if str(feats[c].dtype) == "category":
            feats[c] = feats[c].cat.codes.astype(np.float32).where(feats[c].cat.codes >= 0)
    feats = feats.to_numpy(dtype=np.float32)
    nf = feats.shape[1]
    groups = margin.shape[1]
    header = list(sample.columns)
    header += ["margin%d" % g for g in range(groups)]
    header += ["pred%d" % g for g in range(pred.shape[1])]
    header += ["contrib%d_%s" % (g, f) for g in range(groups)
               for f in list(sample.columns) + ["bias"]]
    assert contribs.shape[1] == groups * (nf + 1)
    with open(os.path.join(DATA, name + ".csv"), "w") as out:
        out.write(",".join(header) + "\n")
        for i in range(n):
            vals = list(feats[i]) + list(margin[i]) + list(pred[i]) + list(contribs[i])
            out.write(",".join(fmt(v) for v in vals) + "\n")
    size = os.path.getsize(path)
    print("%-20s %3d rounds  %7d bytes" % (name, booster.num_boosted_rounds(), size))
    assert size < 1_100_000, name + ".json is too big"


def main():
    os.makedirs(DATA, exist_ok=True)
    raw, coded, label = load()
    rng = np.random.default_rng(20240611)
    rows = np.sort(rng.choice(len(coded), REFERENCE_ROWS, replace=False))

    def train(params, x, y, rounds):
        params = dict(params, seed=7, nthread=1)
        return xgb.train(params, xgb.DMatrix(x, label=y), rounds)

    binary = {"objective": "binary:logistic", "eta": 0.3, "tree_method": "hist"}
    write("binary_shallow", train(dict(binary, max_depth=3), coded, label, 30), coded, rows)
    write("binary_deep", train(dict(binary, max_depth=6, eta=0.1), coded, label, 100), coded,
          rows)

    x_reg = coded.drop(columns=["Amount"])
    write("regression", train({"objective": "reg:squarederror", "max_depth": 5,
                               "tree_method": "hist"}, x_reg, coded["Amount"], 40), x_reg, rows)

    # Home as the class: six values; rows where it is missing are dropped.
    known = ~np.isnan(coded["Home"].to_numpy())
    x_multi = coded.drop(columns=["Home"])
    model = train({"objective": "multi:softprob", "num_class": 6, "max_depth": 4,
                   "tree_method": "hist"}, x_multi[known], coded["Home"][known], 15)
    write("multiclass", model, x_multi, rows)

    # 20% of the values removed at random, and a base_score away from 0.5.
    holes = coded.mask(rng.random(coded.shape) < 0.2)
    write("missing", train(dict(binary, max_depth=4, base_score=0.3), holes, label, 30), holes,
          rows)

    cats = coded.copy()
    for c in ENUMS:
        cats[c] = pd.Categorical(raw[c], categories=sorted(raw[c].dropna().unique()))
    model = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4,
                       "max_cat_to_onehot": 1, "seed": 7, "nthread": 1},
                      xgb.DMatrix(cats, label=label, enable_categorical=True), 30)
    write("categorical", model, cats, rows, categorical=True)

    write("dart", train(dict(binary, booster="dart", max_depth=4, rate_drop=0.2, skip_drop=0.0),
                        coded, label, 30), coded, rows)

    x_count = coded.drop(columns=["Seniority"])
    write("poisson", train({"objective": "count:poisson", "max_depth": 4, "tree_method": "hist"},
                           x_count, coded["Seniority"], 30), x_count, rows)
    print("xgboost", xgb.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
