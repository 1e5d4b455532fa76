#!/usr/bin/python3
"""Writes a seeded CSV of card-payment-like transactions for the benchmark.

Run with Debian's interpreter (it needs numpy):

    /usr/bin/python3 bench/gen_transactions.py --rows 1000000 --seed 7 --out bench/data/txns.csv

The same --rows and --seed always give the same bytes. Columns:

    txn_id         string, unique ("t0000000001")
    ts             ISO-8601 UTC with milliseconds, non-decreasing, random gaps
    card_id        string; 100k cards (at most rows/10), some far busier than others
    merchant_id    string; 20k merchants
    merchant_name  string; some contain commas or double quotes (quoted in the CSV)
    amount         float, lognormal, 2 decimals
    country        string, weighted list of ISO codes (merchant country)
    ip_country     string, empty (null) for card-present (pos, atm) payments
    channel        pos / ecom / atm
    mcc            int, merchant category code (6011 for every ATM withdrawal)
    card_age_days  int, days since the card was issued
    customer_age   int, empty (null) for about 3% of cards
    prior_disputes int, per card
"""

import argparse
import os
import sys

import numpy as np

COUNTRIES = ["US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "MX", "BR", "IN", "CN", "NG", "RU"]
COUNTRY_WEIGHTS = [0.55, 0.08, 0.06, 0.05, 0.05, 0.04, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.01,
                   0.01]

# Merchant category codes with weights; 6011 (ATM cash) is used for the atm channel only.
MCCS = [5411, 5812, 5541, 5999, 5732, 5311, 4511, 5944, 4829, 5967, 7995, 6051, 5814, 4121]
MCC_WEIGHTS = [0.20, 0.16, 0.12, 0.10, 0.06, 0.08, 0.04, 0.03, 0.03, 0.03, 0.03, 0.02, 0.07, 0.03]
MCC_WORDS = {
    5411: ["Grocery", "Market", "Foods"], 5812: ["Bistro", "Grill", "Kitchen"],
    5541: ["Fuel", "Gas", "Petrol"], 5999: ["Store", "Shop", "Goods"],
    5732: ["Electronics", "Digital", "Gadgets"], 5311: ["Department Store", "Outlet", "Mart"],
    4511: ["Airways", "Air", "Airlines"], 5944: ["Jewelers", "Gold", "Diamonds"],
    4829: ["Money Transfer", "Remit", "Wire"], 5967: ["Direct", "Deals", "Club"],
    7995: ["Casino", "Bet", "Poker"], 6051: ["Crypto", "Coin Exchange", "Tokens"],
    5814: ["Coffee", "Burgers", "Pizza"], 4121: ["Taxi", "Rides", "Cabs"],
}
OWNERS = ["Smith", "Garcia", "Mueller", "Dupont", "Rossi", "Tanaka", "Okafor", "Novak", "Silva",
          "Jones", "Kim", "Nguyen", "Ivanova", "Brown"]

T0_MS = 1709251200000  # 2024-03-01T00:00:00Z


def merchant_names(rng, n, mccs):
    """Names such as 'Garcia Grocery', 'Smith, Jones & Co Casino' or 'Joe's "Best" Pizza'."""
    owner_a = rng.integers(0, len(OWNERS), n)
    owner_b = rng.integers(0, len(OWNERS), n)
    word = rng.integers(0, 3, n)
    style = rng.random(n)
    names = []
    for i in range(n):
        w = MCC_WORDS[int(mccs[i])][word[i]]
        a, b = OWNERS[owner_a[i]], OWNERS[owner_b[i]]
        if style[i] < 0.15:
            names.append(f"{a}, {b} & Co {w}")  # a comma: the field must be quoted
        elif style[i] < 0.20:
            names.append(f'{a}\'s "Best" {w}')  # double quotes, doubled in the CSV
        elif style[i] < 0.30:
            names.append(f"{w.upper()} {a.upper()}")
        elif style[i] < 0.35:
            names.append(f"Bet{a} {w}")
        else:
            names.append(f"{a} {w}")
    return names


def csv_field(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def generate(rows, seed):
    """Returns the CSV lines (without the header) as a list of strings."""
    rng = np.random.default_rng(seed)
    n_cards = max(1, min(100_000, rows // 10))
    n_merchants = max(1, min(20_000, rows // 50))

    # Cards: a per-card activity weight (heavy tail), issue age, holder age, disputes.
    card_weight = rng.pareto(1.5, n_cards) + 0.1
    card_weight /= card_weight.sum()
    card_age0 = rng.integers(0, 3650, n_cards)
    new_cards = rng.random(n_cards) < 0.05
    card_age0 = np.where(new_cards, 0, card_age0)  # issued during the month of data
    card_issue_ms = np.where(new_cards, T0_MS + rng.integers(0, 25 * 86_400_000, n_cards),
                             T0_MS - card_age0 * 86_400_000)
    holder_age = np.clip(rng.normal(44, 15, n_cards).round(), 18, 95).astype(np.int64)
    holder_age_null = rng.random(n_cards) < 0.03
    disputes = np.minimum(rng.poisson(0.15, n_cards), 9)
    disputes[rng.random(n_cards) < 0.002] = rng.integers(4, 9)
    home_country = rng.choice(len(COUNTRIES), n_cards, p=COUNTRY_WEIGHTS)

    # Merchants: category, country, name.
    m_mcc = np.array(MCCS)[rng.choice(len(MCCS), n_merchants, p=np.array(MCC_WEIGHTS) /
                                      sum(MCC_WEIGHTS))]
    m_country = rng.choice(len(COUNTRIES), n_merchants, p=COUNTRY_WEIGHTS)
    m_names = [csv_field(s) for s in merchant_names(rng, n_merchants, m_mcc)]

    # Transactions.
    card = rng.choice(n_cards, rows, p=card_weight)
    gaps = rng.exponential(2600.0, rows).astype(np.int64)  # ~30 days for 1M rows
    ts_ms = T0_MS + np.cumsum(gaps)
    # A card used before it was issued would be odd: shift such issue dates back.
    issue = np.minimum(card_issue_ms[card], ts_ms)
    card_age_days = (ts_ms - issue) // 86_400_000

    channel = rng.choice(3, rows, p=[0.60, 0.32, 0.08])  # pos, ecom, atm
    merchant = rng.integers(0, n_merchants, rows)
    mcc = np.where(channel == 2, 6011, m_mcc[merchant])
    # Mostly domestic: the merchant is in the card's home country 80% of the time.
    domestic = rng.random(rows) < 0.8
    country = np.where(domestic, home_country[card], m_country[merchant])
    # IP country for e-commerce: usually the home country, sometimes elsewhere.
    ip_elsewhere = rng.random(rows) < 0.1
    ip_country = np.where(ip_elsewhere, rng.choice(len(COUNTRIES), rows, p=COUNTRY_WEIGHTS),
                          home_country[card])
    amount = np.round(rng.lognormal(3.6, 1.15, rows), 2)
    amount = np.where(channel == 2, np.round(amount / 20.0 + 1) * 20.0, amount)  # ATM: multiples of 20
    amount = np.maximum(amount, 0.01)

    ts_text = np.datetime_as_string(ts_ms.astype("datetime64[ms]"), unit="ms")
    channels = ["pos", "ecom", "atm"]
    ages = ["" if holder_age_null[c] else str(holder_age[c]) for c in range(n_cards)]

    lines = []
    append = lines.append
    for i, (c, m, ch, cty, ipc, amt, mc, age_d) in enumerate(zip(
            card.tolist(), merchant.tolist(), channel.tolist(), country.tolist(),
            ip_country.tolist(), amount.tolist(), mcc.tolist(), card_age_days.tolist())):
        append(f"t{i + 1:010d},{ts_text[i]}Z,c{c:06d},m{m:05d},{m_names[m]},{amt:.2f},"
               f"{COUNTRIES[cty]},{COUNTRIES[ipc] if ch == 1 else ''},{channels[ch]},{mc},"
               f"{age_d},{ages[c]},{disputes[c]}\n")
    return lines


HEADER = ("txn_id,ts,card_id,merchant_id,merchant_name,amount,country,ip_country,channel,mcc,"
          "card_age_days,customer_age,prior_disputes\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
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
