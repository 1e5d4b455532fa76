#!/usr/bin/python3
"""bench/decide/bench_decide.yaml written by hand in pandas: the decision benchmark's peer.

Run with Debian's interpreter (python3-pandas):

    /usr/bin/python3 bench/decide/pandas_decide.py --input apps.csv --output out.csv \
        [--timings phases.json]

It does the same work as `sluice run bench/decide/bench_decide.yaml`: read the
CSV with typed columns, compute the three ratios, evaluate the 50-row pricing
table (hit policy first: one vectorised mask per row, in row order, a record
keeps the first row that matches), then the 20 ordered rules with np.select
(the first true condition wins, else the default), the outputs each rule sets,
the reason codes (joined by "|") and texts (joined by " | ", values formatted
into the three texts that quote them), and write a CSV with the same columns.

Nulls follow the pipeline's SQL semantics: a comparison with a missing value
is not true, so a rule or a cell whose test involves a null does not match.
NaN comparisons are False in numpy, which gives the same result for every
condition below (`is null` is spelled out with isnan, `not in` only tests
columns that are never null).

--timings writes CPU seconds (time.process_time) of each phase: start-up and
imports, read, features, policy (table, rules, outputs, reasons: what
sluice's decision stage does; its reasons part also apart), write.

Keep this file and bench_decide.yaml in step: run_decide_bench.py checks that
the two agree on every record.
"""

import time

_T_START = time.process_time()  # before the imports: they are part of the cost

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

EMPLOYMENT = ["salaried", "self_employed", "contract", "retired", "unemployed"]
PURPOSE = ["debt_consolidation", "home_improvement", "car", "medical", "education", "business",
           "other"]
BANDS = ["A", "B", "C", "D", "E"]

DTYPES = {
    "app_id": str,
    "amount": np.float64,
    "term_months": np.int64,
    "income": np.float64,
    "debt": np.float64,
    "bureau_score": np.float64,     # nullable integer: NaN when empty
    "delinquencies": np.int64,
    "inquiries_6m": np.int64,
    "employment": pd.CategoricalDtype(EMPLOYMENT),
    "purpose": pd.CategoricalDtype(PURPOSE),
    "country": str,
    "age": np.int64,
    "months_employed": np.float64,  # nullable integer
}

# The pricing table: (row id, bureau_score cell, dti cell, loan_to_income cell, band, rate).
# Cells as in the pipeline: "-" any, "null", "< x", ">= x", "[a..b)".
TABLE = [
    ("lti_extreme", "-", "-", ">= 1.5", "E", 0.2999),
    ("lti_high_low", "< 620", "-", "[0.8..1.5)", "E", 0.2999),
    ("lti_high_mid", "[620..700)", "-", "[0.8..1.5)", "D", 0.2299),
    ("lti_high_dti", ">= 700", ">= 0.43", "[0.8..1.5)", "D", 0.1999),
    ("lti_high_prime", ">= 700", "< 0.43", "[0.8..1.5)", "C", 0.1499),
    ("no_score_no_dti", "null", "null", "-", "E", 0.2999),
    ("thin_file_lti", "null", "-", "[0.5..0.8)", "E", 0.2799),
    ("deep_subprime", "< 540", "-", "-", "E", 0.2999),
    ("subprime_dti", "[540..580)", ">= 0.43", "-", "E", 0.2999),
    ("super_prime", ">= 800", "< 0.20", "< 0.25", "A", 0.0549),
]
_DTI = ["< 0.20", "[0.20..0.35)", "[0.35..0.43)", "[0.43..0.50)", ">= 0.50"]
_GRID = [  # score cell, then (band, rate) per DTI cell
    ("null", [("C", 0.1699), ("C", 0.1799), ("D", 0.2099), ("D", 0.2299), ("E", 0.2799)]),
    ("< 580", [("D", 0.2199), ("D", 0.2299), ("E", 0.2599), ("E", 0.2799), ("E", 0.2999)]),
    ("[580..620)", [("C", 0.1799), ("D", 0.1999), ("D", 0.2199), ("E", 0.2499), ("E", 0.2799)]),
    ("[620..660)", [("C", 0.1499), ("C", 0.1599), ("D", 0.1899), ("D", 0.2099), ("E", 0.2599)]),
    ("[660..700)", [("B", 0.1099), ("B", 0.1199), ("C", 0.1399), ("C", 0.1599), ("D", 0.1999)]),
    ("[700..740)", [("A", 0.0799), ("B", 0.0899), ("B", 0.0999), ("C", 0.1299), ("D", 0.1799)]),
    ("[740..780)", [("A", 0.0649), ("A", 0.0699), ("B", 0.0849), ("C", 0.1149), ("D", 0.1599)]),
    (">= 780", [("A", 0.0599), ("A", 0.0649), ("B", 0.0749), ("B", 0.0999), ("C", 0.1399)]),
]
for _score, _cells in _GRID:
    for _dti, (_band, _rate) in zip(_DTI, _cells):
        TABLE.append((f"row_{len(TABLE) + 1}", _score, _dti, "-", _band, _rate))
TABLE_DEFAULT = ("default", "D", 0.2199)
assert len(TABLE) == 50

REASON_TEXTS = {
    "UNDERAGE": "The applicant is under 18",
    "SANCTIONED_COUNTRY": "We cannot lend to residents of this country",
    "INCOME_NOT_VERIFIED": "Income not stated",
    "THIN_FILE": "No credit bureau score",
    "DELINQUENCIES": None,  # "{delinquencies} late payments in the last 24 months"
    "LOW_SCORE": "Credit bureau score too low",
    "RISK_BAND": None,      # "Risk band {risk_band.band}"
    "HIGH_DTI": None,       # "Debt payments would take {dti:.2f} of income"
    "NO_EMPLOYMENT": "No income from employment",
    "CREDIT_SEEKING": "Many recent credit applications",
    "LARGE_AMOUNT": "Amount large for the applicant's profile",
    "SHORT_EMPLOYMENT": "Short time in the current employment",
    "LONG_TERM_AT_AGE": "Long term for a retired applicant",
    "PRIME": "Prime applicant, rate discount",
}


def cell_mask(x, cell):
    """The rows of float array x (NaN = null) that a table cell matches."""
    if cell == "-":
        return np.ones(len(x), dtype=bool)
    if cell == "null":
        return np.isnan(x)
    if cell.startswith("["):  # "[a..b)": a <= x < b
        a, b = cell[1:-1].split("..")
        return (x >= float(a)) & (x < float(b))
    op, v = cell.split()
    return {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[op](
        x, float(v))


def round_half_away(x, digits):
    """sluice's round(x, digits): std::round(x * 10^d) / 10^d (halves away from zero)."""
    s = x * 10.0 ** digits
    t = np.trunc(s)
    return (t + np.where(np.abs(s - t) >= 0.5, np.sign(s), 0.0)) / 10.0 ** digits


def read(path):
    # Only an empty field is null, as in the pipeline.
    return pd.read_csv(path, dtype=DTYPES, keep_default_na=False, na_values=[""])


def features(df):
    amount = df["amount"].to_numpy()
    term = df["term_months"].to_numpy()
    income = df["income"].to_numpy()
    debt = df["debt"].to_numpy()
    monthly_payment = amount / term
    with np.errstate(divide="ignore", invalid="ignore"):
        # nullif(income, 0): a zero income gives null (NaN), as a null one does.
        dti = np.where(income != 0, (np.where(np.isnan(debt), 0.0, debt) + monthly_payment) / income,
                       np.nan)
        income12 = income * 12
        loan_to_income = np.where(income12 != 0, amount / income12, np.nan)
    return monthly_payment, dti, loan_to_income


def policy(df, dti, loan_to_income):
    """The pricing table and the decision.

    Returns the decision's columns, and the CPU seconds spent on the reason
    texts (formatting values into them is a Python loop over the records
    concerned: its share is reported apart).
    """
    score = df["bureau_score"].to_numpy()
    n = len(df)

    # ---- risk_band: hit policy first, rows in order.
    row = np.full(n, -1, dtype=np.int16)
    for r, (_, c_score, c_dti, c_lti, _, _) in enumerate(TABLE):
        m = cell_mask(score, c_score) & cell_mask(dti, c_dti) & cell_mask(loan_to_income, c_lti)
        m &= row < 0
        row[m] = r
    row = np.where(row < 0, len(TABLE), row)  # the default
    band_of_row = np.array([BANDS.index(t[4]) for t in TABLE] + [BANDS.index(TABLE_DEFAULT[1])],
                           dtype=np.int8)
    rate_of_row = np.array([t[5] for t in TABLE] + [TABLE_DEFAULT[2]])
    band = band_of_row[row]
    rate = rate_of_row[row]

    # ---- the decision: 20 ordered rules.
    amount = df["amount"].to_numpy()
    income = df["income"].to_numpy()
    age = df["age"].to_numpy()
    delinq = df["delinquencies"].to_numpy()
    inquiries = df["inquiries_6m"].to_numpy()
    term = df["term_months"].to_numpy()
    months_employed = df["months_employed"].to_numpy()
    employment = df["employment"].cat.codes.to_numpy()
    purpose = df["purpose"].cat.codes.to_numpy()
    country = df["country"]
    emp = {name: i for i, name in enumerate(EMPLOYMENT)}
    pur = {name: i for i, name in enumerate(PURPOSE)}
    A, D, E = (BANDS.index(b) for b in "ADE")

    zero = np.zeros(n)
    rules = [
        # (rule id, condition, action, reason codes, max_amount or None (default))
        ("underage", age < 18, "decline", ["UNDERAGE"], zero),
        ("sanctioned_country", country.isin(["RU", "IR", "CU", "SY", "KP"]).to_numpy(), "decline",
         ["SANCTIONED_COUNTRY"], zero),
        ("nothing_to_verify", (np.isnan(income) | (income == 0)) & np.isnan(score), "decline",
         ["INCOME_NOT_VERIFIED", "THIN_FILE"], zero),
        ("recent_delinquencies", (delinq >= 3) | ((delinq >= 2) & (score < 600)), "decline",
         ["DELINQUENCIES"], zero),
        ("very_low_score", score < 540, "decline", ["LOW_SCORE"], zero),
        ("band_e", band == E, "decline", ["RISK_BAND", "HIGH_DTI"], zero),
        ("unaffordable", dti >= 0.6, "decline", ["HIGH_DTI"], zero),
        ("unemployed_large", (employment == emp["unemployed"]) & (amount > 5000), "decline",
         ["NO_EMPLOYMENT"], zero),
        ("credit_seeking", inquiries >= 6, "review", ["CREDIT_SEEKING"], None),
        ("income_not_stated", np.isnan(income), "review", ["INCOME_NOT_VERIFIED"], None),
        ("thin_file", np.isnan(score), "review", ["THIN_FILE"], np.minimum(amount, 5000)),
        ("band_d_large", (band == D) & (amount > 20000), "review", ["RISK_BAND", "LARGE_AMOUNT"],
         None),
        ("short_self_employment",
         np.isin(employment, [emp["self_employed"], emp["contract"]])
         & (np.isnan(months_employed) | (months_employed < 24)), "review", ["SHORT_EMPLOYMENT"],
         None),
        ("business_large", (purpose == pur["business"]) & (amount > 25000), "review",
         ["LARGE_AMOUNT"], None),
        ("retired_long_term", (employment == emp["retired"]) & (term >= 60)
         & ~np.isin(purpose, [pur["home_improvement"], pur["car"]]), "review",
         ["LONG_TERM_AT_AGE"], None),
        ("foreign_short_tenure", ~country.isin(["US", "CA"]).to_numpy() & (months_employed < 12),
         "review", ["SHORT_EMPLOYMENT"], None),
        ("young_high_lti", (age >= 18) & (age <= 24) & (loan_to_income > 0.5), "approve_reduced",
         ["LARGE_AMOUNT"], round_half_away(income * 6, 2)),
        ("band_d", band == D, "approve_reduced", ["RISK_BAND"], round_half_away(amount * 0.6, 2)),
        ("stretched_dti", dti >= 0.43, "approve_reduced", ["HIGH_DTI"],
         round_half_away(amount * 0.75, 2)),
        ("prime_fast_track", (band == A) & (delinq == 0) & (inquiries <= 2), "approve", ["PRIME"],
         None),
    ]
    default = ("default", None, "approve", [], None)
    # np.select picks the first true condition: a rule number (the default is
    # the last); the strings come from small per-rule arrays afterwards.
    chosen = np.select([r[1] for r in rules], np.arange(len(rules), dtype=np.int8),
                       len(rules)).astype(np.int8)
    outcomes = rules + [default]

    def per_rule(values):
        return np.array(values, dtype=object)[chosen]

    out = {
        "action": per_rule([r[2] for r in outcomes]),
        "rule": per_rule([r[0] for r in outcomes]),
        "band": np.array(BANDS, dtype=object)[band],
    }
    offer_rate = rate.copy()
    prime = chosen == len(rules) - 1
    offer_rate[prime] = rate[prime] - 0.005
    out["offer_rate"] = offer_rate
    max_amount = amount.copy()  # the default's value
    for k, r in enumerate(rules):
        if r[4] is not None:
            sel = chosen == k
            max_amount[sel] = r[4][sel]
    out["max_amount"] = max_amount

    # Reasons: codes are fixed per rule; texts too, except three that quote values.
    t_texts = time.process_time()
    out["reason_codes"] = per_rule(["|".join(r[3]) for r in outcomes])
    texts = per_rule([" | ".join(REASON_TEXTS[c] or "" for c in r[3]) for r in outcomes])
    band_names = np.array(BANDS, dtype=object)

    def dti_text(v):
        return "unknown" if np.isnan(v) else f"{v:.2f}"

    for k, r in enumerate(rules):
        if all(REASON_TEXTS[c] is not None for c in r[3]):
            continue
        idx = np.flatnonzero(chosen == k)
        parts = []
        for c in r[3]:
            if c == "DELINQUENCIES":
                parts.append([f"{d} late payments in the last 24 months" for d in delinq[idx].tolist()])
            elif c == "RISK_BAND":
                parts.append(["Risk band " + b for b in band_names[band[idx]]])
            elif c == "HIGH_DTI":
                parts.append(["Debt payments would take " + dti_text(v) + " of income"
                              for v in dti[idx].tolist()])
            else:
                parts.append([REASON_TEXTS[c]] * len(idx))
        texts[idx] = [" | ".join(p) for p in zip(*parts)]
    out["reason_texts"] = texts
    return out, time.process_time() - t_texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--timings", help="write the CPU seconds of each phase here (JSON)")
    args = parser.parse_args()

    t0 = time.process_time()
    w0 = time.perf_counter()
    df = read(args.input)
    t1 = time.process_time()
    monthly_payment, dti, loan_to_income = features(df)
    t2 = time.process_time()
    decided, texts_cpu_s = policy(df, dti, loan_to_income)
    t3 = time.process_time()
    w3 = time.perf_counter()
    out = pd.DataFrame({"app_id": df["app_id"], "monthly_payment": monthly_payment, "dti": dti,
                        "loan_to_income": loan_to_income, **decided})
    out.to_csv(args.output, index=False)
    t4 = time.process_time()
    w4 = time.perf_counter()
    if args.timings:
        with open(args.timings, "w") as f:
            json.dump({"rows": len(df), "startup_cpu_s": t0 - _T_START, "read_cpu_s": t1 - t0,
                       "features_cpu_s": t2 - t1, "policy_cpu_s": t3 - t2,
                       "policy_reasons_cpu_s": texts_cpu_s, "write_cpu_s": t4 - t3,
                       "compute_wall_s": w3 - w0, "write_wall_s": w4 - w3}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
