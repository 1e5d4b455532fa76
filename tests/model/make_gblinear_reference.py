#!/usr/bin/python3
"""Regenerates the XGBoost gblinear reference models in tests/model/data/.

Run with Debian's interpreter (python3-xgboost, python3-pandas):
    /usr/bin/python3 tests/model/make_gblinear_reference.py
The outputs are committed, so the C++ tests never train anything. The files
have the layout make_reference.py describes (NAME.json, and NAME.csv with the
features, XGBoost's margins, predictions and pred_contribs for the same 250
reference rows).

The models cover each kind of link: logistic (with 20% of the values removed
and a base_score of 0.3, so that missing values and the logit of base_score
are both exercised), identity (regression, base_score the mean of the
target), softmax over 6 classes, and log (count:poisson).
"""

import sys

import numpy as np
import xgboost as xgb

sys.dont_write_bytecode = True  # no __pycache__ beside the committed files
from make_reference import REFERENCE_ROWS, load, write  # noqa: E402


def main():
    _, coded, label = load()
    # The same reference rows as make_reference.py; 20% of the values removed.
    rng = np.random.default_rng(20240611)
    rows = np.sort(rng.choice(len(coded), REFERENCE_ROWS, replace=False))
    holes = coded.mask(np.random.default_rng(4242).random(coded.shape) < 0.2)

    def train(params, x, y, rounds):
        params = dict(params, booster="gblinear", seed=7, nthread=1)
        return xgb.train(params, xgb.DMatrix(x, label=y), rounds)

    write("gblinear_binary", train({"objective": "binary:logistic", "eta": 0.3, "lambda": 1.0,
                                  "base_score": 0.3}, holes, label, 40), holes, rows)

    x_reg = coded.drop(columns=["Amount"])
    mean = float(np.mean(coded["Amount"]))
    write("gblinear_regression", train({"objective": "reg:squarederror", "eta": 0.5,
                                      "base_score": mean}, x_reg, coded["Amount"], 40),
          x_reg, rows)

    known = ~np.isnan(coded["Home"].to_numpy())
    x_multi = coded.drop(columns=["Home"])
    write("gblinear_multiclass", train({"objective": "multi:softprob", "num_class": 6,
                                      "eta": 0.3}, x_multi[known], coded["Home"][known], 30),
          x_multi, rows)

    x_count = coded.drop(columns=["Seniority"])
    write("gblinear_poisson", train({"objective": "count:poisson", "eta": 0.1},
                                  x_count, coded["Seniority"], 30), x_count, rows)
    print("xgboost", xgb.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
