#!/usr/bin/python3
"""bench/pipeline.yaml written by hand in pandas: the benchmark's reference peer.

Run with Debian's interpreter (python3-pandas):

    /usr/bin/python3 bench/pandas_peer.py --input bench/data/txns.csv --output out.csv

It does the same work as `sluice run bench/pipeline.yaml`: read the CSV with
typed columns, compute the same features vectorised, choose the action with
np.select (ordered rules, the first that matches wins, else the default),
attach the reason codes (joined by "|") and texts (joined by " | "), and
write a CSV with the same columns.

Nulls follow the pipeline's SQL semantics: a comparison with a missing value
is not true, so a rule whose condition involves a null does not match
(NaN comparisons are False in numpy, which gives the same result for every
condition below; `coalesce`/`is null` are spelled out where the pipeline uses them).

Keep this file and bench/pipeline.yaml in step: bench/run_bench.py checks that
the two agree on the action of every row.
"""

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

DTYPES = {
    "txn_id": str,
    "card_id": str,
    "merchant_id": str,
    "merchant_name": str,
    "amount": np.float64,
    "country": str,
    "ip_country": str,
    "channel": pd.CategoricalDtype(["pos", "ecom", "atm"]),
    "mcc": np.int64,
    "card_age_days": np.int64,
    "customer_age": np.float64,  # nullable integer: NaN when empty
    "prior_disputes": np.int64,
}

REASON_TEXTS = {
    "REPEATED_DISPUTES": "The card holder has disputed many payments before",
    "GAMBLING_MERCHANT": "Gambling merchant",
    "FOREIGN_MERCHANT": "Merchant outside the card's usual region",
    "NIGHT_TIME": "Payment between midnight and 6am UTC",
    "HIGH_AMOUNT": "Amount well above usual, for this kind of payment",
    "NEW_CARD": "The card was issued less than 30 days ago",
    "IP_COUNTRY_MISMATCH": "The buyer's IP address is in another country than the merchant",
    "MANY_RISK_SIGNALS": "Several risk signals at once",
    "LARGE_CASH": "Large cash withdrawal",
    "YOUNG_HIGH_SPEND": "Young card holder spending fast for the card's age",
    "AGE_UNKNOWN": "Card holder's age is not on file",
    "MONEY_TRANSFER": "Large money transfer or crypto purchase at the weekend",
}


def read(path):
    # Only an empty field is null, as in the pipeline (pandas would otherwise
    # also read "NA", "null", "NaN"... as missing).
    df = pd.read_csv(path, dtype=DTYPES, keep_default_na=False, na_values=[""])
    # Parsing the timestamps after reading takes the ISO-8601 fast path; read_csv's
    # parse_dates=["ts"] gives the same values but is several times slower in pandas 1.5.
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def features(df):
    """The pipeline's `features:` section, column by column."""
    amount = df["amount"].to_numpy()
    card_age = df["card_age_days"].to_numpy()
    customer_age = df["customer_age"].to_numpy()
    ts = df["ts"].dt
    out = pd.DataFrame({"txn_id": df["txn_id"]})
    out["amount_log"] = np.log1p(amount)
    txn_hour = ts.hour.to_numpy()
    out["txn_hour"] = txn_hour
    night = txn_hour < 6
    out["night"] = night
    weekend = ts.dayofweek.to_numpy() >= 5  # pandas: Monday = 0; sluice: ISO, Monday = 1
    out["weekend"] = weekend
    foreign = ~df["country"].isin(["US", "CA"]).to_numpy()
    out["foreign"] = foreign
    ip_country = df["ip_country"]
    ip_mismatch = (ip_country.notna() & (ip_country != df["country"])).to_numpy()
    out["ip_mismatch"] = ip_mismatch
    mcc = df["mcc"].to_numpy()
    high_risk_mcc = np.isin(mcc, [7995, 6051, 4829, 5967])
    out["high_risk_mcc"] = high_risk_mcc
    name = df["merchant_name"].str.lower()
    gambling_name = (name.str.contains("casino", regex=False) | name.str.startswith("bet")).to_numpy()
    out["gambling_name"] = gambling_name
    new_card = card_age < 30
    out["new_card"] = new_card
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = np.where(card_age != 0, amount / card_age, np.nan)  # nullif(card_age_days, 0)
    out["spend_per_card_day"] = spend
    age_band = np.select([np.isnan(customer_age), customer_age < 25, customer_age >= 65],
                         ["unknown", "young", "senior"], "adult")
    out["age_band"] = age_band
    prior_disputes = df["prior_disputes"].to_numpy()
    risk_points = (2 * foreign + night + 3 * high_risk_mcc + 2 * new_card + 2 * ip_mismatch +
                   np.minimum(prior_disputes, 3)).astype(np.int64)
    out["risk_points"] = risk_points

    channel = df["channel"].cat.codes.to_numpy()  # pos 0, ecom 1, atm 2
    rules = [
        # (rule id, condition, action, reason codes)
        ("repeat_disputer", prior_disputes >= 4, "decline", ["REPEATED_DISPUTES"]),
        ("gambling_abroad_at_night", gambling_name & foreign & night, "decline",
         ["GAMBLING_MERCHANT", "FOREIGN_MERCHANT", "NIGHT_TIME"]),
        ("large_on_new_card", new_card & (amount > 800), "decline", ["HIGH_AMOUNT", "NEW_CARD"]),
        ("ecom_ip_mismatch", (channel == 1) & ip_mismatch & (amount > 300), "review",
         ["IP_COUNTRY_MISMATCH", "HIGH_AMOUNT"]),
        ("high_risk_points", risk_points >= 6, "review", ["MANY_RISK_SIGNALS"]),
        ("large_cash_withdrawal", (channel == 2) & (amount > 600), "review", ["LARGE_CASH"]),
        ("young_fast_spender", (age_band == "young") & (spend > 5), "review", ["YOUNG_HIGH_SPEND"]),
        ("unknown_age_large", np.isnan(customer_age) & (amount > 500), "review",
         ["AGE_UNKNOWN", "HIGH_AMOUNT"]),
        ("weekend_money_transfer", weekend & np.isin(mcc, [4829, 6051]) & (amount > 1000),
         "review", ["MONEY_TRANSFER"]),
    ]
    # The first rule that matches decides; np.select picks the first true
    # condition. It picks a rule number here (the default is the last), and the
    # text columns take their strings from small per-rule arrays: selecting the
    # strings themselves would build 1M-row fixed-width unicode arrays, several
    # times slower.
    default = ("default", None, "approve", [])
    chosen = np.select([r[1] for r in rules], np.arange(len(rules), dtype=np.int8),
                       len(rules)).astype(np.int8)
    outcomes = rules + [default]

    def column(values):
        return np.array(values, dtype=object)[chosen]

    out["action"] = column([r[2] for r in outcomes])
    out["rule"] = column([r[0] for r in outcomes])
    out["reason_codes"] = column(["|".join(r[3]) for r in outcomes])
    out["reason_texts"] = column([" | ".join(REASON_TEXTS[c] for c in r[3]) for r in outcomes])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--timings", help="write the time of each phase here (JSON)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    df = read(args.input)
    t1 = time.perf_counter()
    out = features(df)
    t2 = time.perf_counter()
    out.to_csv(args.output, index=False)
    t3 = time.perf_counter()
    if args.timings:
        with open(args.timings, "w") as f:
            json.dump({"rows": len(df), "read_s": t1 - t0, "compute_s": t2 - t1,
                       "write_s": t3 - t2}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
