#!/usr/bin/python3
"""Trains the credit example's XGBoost model from credit_data.csv.

Run with Debian's interpreter (python3-xgboost, python3-pandas):
    /usr/bin/python3 examples/credit/train_model.py
Writes credit_model.json (the model sluice scores) and
credit_model_reference.csv (XGBoost's own margins, probabilities and the
inputs with the largest positive contributions, for every application, to
check sluice against).

The model's inputs carry the pipeline's names. Enums are encoded as sluice
encodes them for a model: the index of the value in the pipeline's
declaration order (credit.yaml), missing as NaN. The ratios are computed as
the pipeline's features compute them (a zero or missing income gives a
missing ratio).
"""
import os

import numpy as np
import pandas as pd
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
ENUMS = {
    "Home": ["rent", "owner", "parents", "priv", "other", "ignore"],
    "Marital": ["married", "widow", "single", "separated", "divorced"],
    "Records": ["no", "yes"],
    "Job": ["fixed", "freelance", "partime", "others"],
}
FEATURES = ["Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses",
            "Income", "Assets", "Debt", "Amount", "Price", "loan_to_price",
            "payment_to_income", "debt_to_income"]


def model_inputs(d):
    x = pd.DataFrame(index=d.index)
    for c in ["Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount",
              "Price"]:
        x[c] = d[c].astype("float64")
    for c, values in ENUMS.items():
        x[c] = d[c].map({v: float(i) for i, v in enumerate(values)})
    income = d["Income"].astype("float64").where(d["Income"] != 0)
    monthly_payment = d["Amount"] / d["Time"]
    x["loan_to_price"] = d["Amount"] / d["Price"].where(d["Price"] != 0)
    x["payment_to_income"] = monthly_payment / income
    x["debt_to_income"] = d["Debt"].fillna(0) / income
    return x[FEATURES]


def main():
    d = pd.read_csv(os.path.join(HERE, "credit_data.csv"), keep_default_na=False,
                    na_values=["NA", ""])
    x = model_inputs(d)
    y = (d["Status"] == "bad").astype(int)
    model = xgb.XGBClassifier(n_estimators=150, max_depth=4, learning_rate=0.05,
                              subsample=0.9, colsample_bytree=0.9, random_state=42,
                              tree_method="hist", n_jobs=1)
    model.fit(x, y)
    booster = model.get_booster()
    booster.save_model(os.path.join(HERE, "credit_model.json"))
    dm = xgb.DMatrix(x, missing=np.nan)
    # The inputs that pushed each score up the most (TreeSHAP), strongest
    # first, ties in input order: what `top(risk, k)` gives as reasons.
    contribs = booster.predict(dm, pred_contribs=True)[:, :len(FEATURES)]
    top = []
    for row in contribs:
        order = sorted(range(len(FEATURES)), key=lambda i: (-row[i], i))
        top.append(";".join(FEATURES[i] for i in order if row[i] > 0))
    ref = pd.DataFrame({
        "app_id": d["app_id"],
        "margin": booster.predict(dm, output_margin=True),
        "score": booster.predict(dm),
        "top_inputs": top,
    })
    ref.to_csv(os.path.join(HERE, "credit_model_reference.csv"), index=False,
               float_format="%.9g")


if __name__ == "__main__":
    main()
