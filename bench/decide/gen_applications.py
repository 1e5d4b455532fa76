#!/usr/bin/python3
"""Writes a seeded CSV of consumer-loan applications for the decision benchmark.

Run with Debian's interpreter (it needs numpy):

    /usr/bin/python3 bench/decide/gen_applications.py --rows 2000000 --seed 11 --out apps.csv

The same --rows and --seed always give the same bytes. Columns (empty = null):

    app_id           string, unique ("a0000000001")
    amount           float, the amount requested: lognormal around 12,000, most
                     rounded to 100 or 500 as people ask, 15% with cents (refinancing)
    term_months      int, 12 / 24 / 36 / 48 / 60 / 72 / 84
    income           float, monthly income: lognormal by employment; 2.5% empty
                     (not stated), 0 for a share of the unemployed, whole dollars
                     for 60% of the rest, cents otherwise
    debt             float, monthly payments on existing debt; 25% 0, 4% empty
    bureau_score     int, 300..850; about 5% empty (thin file), more for the young
    delinquencies    int, late payments in the last 24 months (Poisson, heavy tail)
    inquiries_6m     int, credit inquiries in the last 6 months
    employment       salaried / self_employed / contract / retired / unemployed
    purpose          debt_consolidation / home_improvement / car / medical /
                     education / business / other
    country          string, ISO code of residence (weighted; a few sanctioned ones)
    age              int, 17..90 (0.2% are 17: minors do apply)
    months_employed  int, empty for the unemployed, half of the retired and 1% more

Round amounts and incomes matter: ratios of round numbers land exactly on
round thresholds (a payment of 350 on an income of 1,000 is a ratio of 0.35),
which is where a rule engine's comparisons are put to the test.
"""

import argparse
import os
import sys

import numpy as np

EMPLOYMENT = ["salaried", "self_employed", "contract", "retired", "unemployed"]
EMPLOYMENT_P = [0.62, 0.12, 0.10, 0.11, 0.05]
INCOME_MEDIAN = [4800.0, 5200.0, 3900.0, 2600.0, 900.0]  # monthly, by employment

PURPOSE = ["debt_consolidation", "home_improvement", "car", "medical", "education", "business",
           "other"]
PURPOSE_P = [0.34, 0.18, 0.20, 0.06, 0.07, 0.05, 0.10]

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "MX", "BR", "IN", "NG", "PH",
             "RU", "IR", "CU", "SY", "KP"]
COUNTRY_P = [0.70, 0.08, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.025, 0.015, 0.015, 0.01, 0.01,
             0.002, 0.001, 0.001, 0.0005, 0.0005]

TERMS = [12, 24, 36, 48, 60, 72, 84]
TERM_P = [0.08, 0.14, 0.30, 0.16, 0.22, 0.06, 0.04]

HEADER = ("app_id,amount,term_months,income,debt,bureau_score,delinquencies,inquiries_6m,"
          "employment,purpose,country,age,months_employed\n")


def generate(rows, seed):
    """Returns the CSV lines (without the header) as a list of strings."""
    rng = np.random.default_rng(seed)
    p = np.array(COUNTRY_P)
    country = rng.choice(len(COUNTRIES), rows, p=p / p.sum())
    employment = rng.choice(len(EMPLOYMENT), rows, p=EMPLOYMENT_P)
    purpose = rng.choice(len(PURPOSE), rows, p=PURPOSE_P)
    term = np.array(TERMS)[rng.choice(len(TERMS), rows, p=TERM_P)]

    age = np.clip(rng.normal(42, 13, rows).round(), 18, 90).astype(np.int64)
    age = np.where(employment == 3, np.maximum(age, 60), age)  # retired
    age = np.where(rng.random(rows) < 0.002, 17, age)

    # Monthly income by employment; some unemployed state 0, some nobody states.
    median = np.array(INCOME_MEDIAN)[employment]
    income = rng.lognormal(np.log(median), 0.45)
    whole = rng.random(rows) < 0.6
    income = np.where(whole, np.round(income), np.round(income, 2))
    income = np.where((employment == 4) & (rng.random(rows) < 0.3), 0.0, income)
    income_null = rng.random(rows) < 0.025

    # Existing monthly debt payments.
    debt = np.round(income * rng.beta(1.6, 6.0, rows), 2)
    debt = np.where(rng.random(rows) < 0.25, 0.0, debt)
    debt = np.where(income_null, np.round(rng.lognormal(6.0, 0.8, rows), 2), debt)
    debt_null = rng.random(rows) < 0.04

    # Amount requested: round numbers mostly.
    amount = rng.lognormal(np.log(12_000), 0.75, rows)
    amount = np.where(purpose == 2, amount * 1.6, amount)            # cars cost more
    amount = np.where(purpose == 3, amount * 0.4, amount)            # medical bills less
    style = rng.random(rows)
    amount = np.where(style < 0.55, np.round(amount / 100) * 100,
                      np.where(style < 0.85, np.round(amount / 500) * 500, np.round(amount, 2)))
    amount = np.clip(amount, 500.0, 150_000.0)

    # Bureau score: lower with delinquencies; thin files for the young.
    delinq = rng.poisson(0.35, rows)
    delinq = np.where(rng.random(rows) < 0.01, rng.integers(3, 12, rows), delinq)
    score = rng.normal(700, 65, rows) - 28 * delinq
    score = np.clip(score.round(), 300, 850).astype(np.int64)
    thin = rng.random(rows) < np.where(age < 25, 0.25, 0.03)
    inquiries = rng.poisson(1.2, rows)
    inquiries = np.where(rng.random(rows) < 0.02, rng.integers(5, 15, rows), inquiries)

    months_employed = np.minimum(rng.exponential(60, rows).astype(np.int64),
                                 np.maximum((age - 16) * 12, 0))
    me_null = ((employment == 4) | ((employment == 3) & (rng.random(rows) < 0.5))
               | (rng.random(rows) < 0.01))

    def text(values, null, fmt):
        out = [fmt(v) for v in values.tolist()]
        for i in np.flatnonzero(null).tolist():
            out[i] = ""
        return out

    money = lambda v: f"{v:.2f}" if v != round(v) else f"{v:.0f}"  # "4800" or "4812.35"
    amount_t = [money(v) for v in amount.tolist()]
    income_t = text(income, income_null, money)
    debt_t = text(debt, debt_null, money)
    score_t = text(score, thin, str)
    me_t = text(months_employed, me_null, str)

    lines = []
    append = lines.append
    for i, (t, d, q, e, pu, c, a) in enumerate(zip(
            term.tolist(), delinq.tolist(), inquiries.tolist(), employment.tolist(),
            purpose.tolist(), country.tolist(), age.tolist())):
        append(f"a{i + 1:010d},{amount_t[i]},{t},{income_t[i]},{debt_t[i]},{score_t[i]},{d},{q},"
               f"{EMPLOYMENT[e]},{PURPOSE[pu]},{COUNTRIES[c]},{a},{me_t[i]}\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    lines = generate(args.rows, args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        f.writelines(lines)
    os.replace(tmp, args.out)  # never leave a half-written file under the final name
    print(f"wrote {args.rows} rows to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
