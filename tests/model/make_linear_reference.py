#!/usr/bin/python3
"""Fits scikit-learn's LogisticRegression on examples/credit/credit_data.csv and
writes the model as a sluice linear-model JSON file plus sklearn's margins and
probabilities for the first 50 rows, for tests/model/linear_model_test.cc.
Run: /usr/bin/python3 tests/model/make_linear_reference.py"""
import csv
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "examples", "credit", "credit_data.csv")
COLUMNS = ["Seniority", "Time", "Age", "Expenses", "Amount", "Price"]

rows = list(csv.DictReader(open(DATA)))
x = np.array([[float(r[c]) for c in COLUMNS] for r in rows])
y = np.array([1 if r["Status"] == "bad" else 0 for r in rows])
model = LogisticRegression(max_iter=5000).fit(x, y)
spec = {
    "intercept": float(model.intercept_[0]),
    "coefficients": {c: float(v) for c, v in zip(COLUMNS, model.coef_[0])},
    "link": "logistic",
}
with open(os.path.join(HERE, "data", "credit_logistic.json"), "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")
with open(os.path.join(HERE, "data", "credit_logistic_reference.csv"), "w") as f:
    f.write(",".join(COLUMNS) + ",margin,probability\n")
    margins = model.decision_function(x[:50])
    probs = model.predict_proba(x[:50])[:, 1]
    for row, m, p in zip(x[:50], margins, probs):
        f.write(",".join(repr(v) for v in row) + f",{m!r},{p!r}\n")
