#!/usr/bin/python3
"""Seeded, deterministic generator of realistic card transactions with fraud labels.

    /usr/bin/python3 examples/card_fraud/generate.py --events 200000 --cards 20000 \
        --output transactions.csv --labels labels.csv

Output (transactions), one row per transaction, columns in this order:
  txn_id       string, unique: t0000001, ... numbered in event-time order
  ts           event time, ISO-8601 UTC with milliseconds: 2026-01-03T12:34:56.789Z
               (card-present and ATM terminals report whole seconds: .000)
  card_id      string: c000001, ...
  merchant_id  string: m00001, ...
  amount       > 0, two decimals
  country      2-letter country of the merchant (where the transaction happens)
  channel      pos | ecom | atm
  mcc          int, the merchant category code
Labels: txn_id,is_fraud (0/1), one line per transaction, in the same order.

Row order: sorted by event time (ties: generation order), or with
--disorder D in *arrival* order: each row arrives at its event time plus a
uniform random delay of 0..D seconds, so some rows come after rows with a
later event time, as a stream would deliver them. txn_id follows event time,
so with --disorder the ids are not in file order.

The model
  * Cards have a home country, a typical amount (lognormal) and a spread,
    a channel mix (pos/ecom/atm, Dirichlet), favourite merchants (6 shops, 4
    web merchants, 2 ATMs near home) used most of the time, and an activity
    weight (lognormal, plus 2% very active cards), so most cards have a few
    transactions and some have hundreds. Local time-of-day profile per home
    country (quiet nights).
  * Merchants have a country and a category (MCC) that fixes their channel;
    web merchants are in the home country or in a few hub countries.
  * 3% of cards travel: during a 2-10 day trip their card-present and ATM
    transactions happen in another country at unknown merchants (legitimate
    "new country" activity).
  * 0.3% of legitimate transactions are submitted twice: same card, merchant,
    amount and timestamp (exactly equal times on one card).
  * Fraud (about --fraud-rate of all rows, default 0.7%): episodes on a
    small share of cards. An episode is a burst of several transactions a
    minute or so apart, mostly in a country new to the card, at merchants
    the card never used, with amounts several times the card's usual:
      - card-not-present (70%): ecom, electronics / money transfer / digital
        goods / gift cards; 60% start with 1-3 "card testing" charges of
        0.50-4.99 within the same two seconds;
      - cloned card (30%): pos purchases (electronics, jewelry, department
        stores) and ATM withdrawals in the new country, minutes apart.
    15% of episodes happen in the card's home country.

Determinism: the output depends only on the arguments (numpy's PCG64 with
--seed; times and amounts are integers, written as fixed-point text, never
through float formatting), so the same arguments give the same bytes with
the same numpy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

import numpy as np

# (code, share of cards, UTC offset in hours used for the local day profile)
CARD_COUNTRIES = [
    ("US", 0.30, -5), ("GB", 0.10, 0), ("DE", 0.10, 1), ("FR", 0.09, 1), ("ES", 0.07, 1),
    ("IT", 0.07, 1), ("NL", 0.05, 1), ("CA", 0.05, -5), ("BR", 0.04, -3), ("IN", 0.04, 5),
    ("PL", 0.03, 1), ("SE", 0.02, 1), ("AU", 0.02, 10), ("MX", 0.02, -6),
]
# Countries with merchants but no cards: web hubs and common fraud destinations.
OTHER_COUNTRIES = ["IE", "LU", "RO", "NG", "VN", "ID", "PH", "TR", "CN", "UA"]
ECOM_HUBS = ["US", "GB", "IE", "NL", "LU"]
# Where fraud happens when it is abroad (weights).
FRAUD_DESTINATIONS = [("RO", 0.14), ("NG", 0.10), ("TR", 0.10), ("CN", 0.10), ("VN", 0.08),
                      ("ID", 0.08), ("PH", 0.08), ("UA", 0.07), ("BR", 0.07), ("MX", 0.06),
                      ("US", 0.06), ("GB", 0.06)]
# Where legitimate travellers go (weights).
TRAVEL_DESTINATIONS = [("ES", 0.18), ("IT", 0.15), ("FR", 0.15), ("US", 0.14), ("GB", 0.10),
                       ("DE", 0.07), ("NL", 0.05), ("MX", 0.05), ("PL", 0.03), ("SE", 0.03),
                       ("AU", 0.02), ("CA", 0.03)]

POS, ECOM, ATM = 0, 1, 2
CHANNELS = ["pos", "ecom", "atm"]
# (name, mcc, channel, weight within the channel, amount factor vs the card's typical amount)
CATEGORIES = [
    ("grocery", 5411, POS, 0.24, 1.0),
    ("restaurant", 5812, POS, 0.15, 1.1),
    ("fast_food", 5814, POS, 0.13, 0.35),
    ("fuel", 5541, POS, 0.10, 1.4),
    ("transit", 4111, POS, 0.08, 0.15),
    ("clothing", 5651, POS, 0.08, 1.8),
    ("pharmacy", 5912, POS, 0.07, 0.7),
    ("department_store", 5311, POS, 0.07, 1.6),
    ("electronics", 5732, POS, 0.04, 4.0),
    ("hotel", 7011, POS, 0.03, 4.5),
    ("jewelry", 5944, POS, 0.01, 6.0),
    ("marketplace", 5399, ECOM, 0.32, 1.2),
    ("digital_media", 5815, ECOM, 0.20, 0.3),
    ("rideshare", 4121, ECOM, 0.14, 0.6),
    ("clothing_online", 5691, ECOM, 0.12, 1.5),
    ("electronics_online", 5732, ECOM, 0.10, 3.5),
    ("airline", 4511, ECOM, 0.05, 9.0),
    ("games_gift_cards", 5816, ECOM, 0.04, 0.8),
    ("money_transfer", 4829, ECOM, 0.03, 3.0),
    ("atm", 6011, ATM, 1.00, 2.5),
]
CAT_MCC = np.array([c[1] for c in CATEGORIES], dtype=np.int64)
CAT_CHANNEL = np.array([c[2] for c in CATEGORIES], dtype=np.int64)
CAT_FACTOR = np.array([c[4] for c in CATEGORIES], dtype=np.float64)
CAT_INDEX = {c[0]: i for i, c in enumerate(CATEGORIES)}
# Local-time hourly activity profile (relative weights, hour 0..23).
HOUR_PROFILE = np.array([0.4, 0.25, 0.15, 0.1, 0.1, 0.2, 0.6, 1.5, 2.5, 3.0, 3.2, 3.5,
                         4.2, 4.0, 3.6, 3.5, 3.8, 4.3, 4.5, 4.0, 3.2, 2.4, 1.5, 0.8])

MS_PER_DAY = 86_400_000


def _channel_cat_probs(channel: int) -> tuple[np.ndarray, np.ndarray]:
    """Category indices of a channel and their probabilities."""
    idx = np.flatnonzero(CAT_CHANNEL == channel)
    w = np.array([CATEGORIES[i][3] for i in idx])
    return idx, w / w.sum()


class Merchants:
    """Merchants laid out so that the merchants of (country, category) are contiguous."""

    def __init__(self, rng: np.random.Generator, n_target: int, countries: list[str], shares: np.ndarray):
        n_cat = len(CATEGORIES)
        cat_w = np.array([c[3] for c in CATEGORIES])
        # Channel shares of a country's merchants, then category shares inside a channel.
        chan_share = np.array([0.68, 0.24, 0.08])
        channel_total = np.array([cat_w[CAT_CHANNEL == c].sum() for c in CAT_CHANNEL])
        per_cat_share = cat_w / channel_total * chan_share[CAT_CHANNEL]
        counts = np.maximum(1, np.round(np.outer(shares, per_cat_share) * n_target)).astype(np.int64)
        self.counts = counts                                   # [country, category]
        self.offsets = np.concatenate([[0], np.cumsum(counts.ravel())[:-1]]).reshape(counts.shape)
        self.n = int(counts.sum())
        self.country = np.repeat(np.repeat(np.arange(len(countries)), n_cat), counts.ravel())
        self.category = np.repeat(np.tile(np.arange(n_cat), len(countries)), counts.ravel())
        # Shuffle the ids so that merchant ids do not reveal country and category.
        self.id_of = rng.permutation(self.n)

    def pick(self, rng: np.random.Generator, country: np.ndarray, category: np.ndarray) -> np.ndarray:
        """A uniformly random merchant (internal index) of each (country, category)."""
        size = self.counts[country, category]
        return self.offsets[country, category] + (rng.random(len(country)) * size).astype(np.int64)


def _choose(rng: np.random.Generator, idx: np.ndarray, p: np.ndarray, size: int) -> np.ndarray:
    return idx[rng.choice(len(idx), size=size, p=p)]


def generate(events: int, cards: int, seed: int, start: dt.datetime, days: int,
             fraud_rate: float = 0.007) -> dict[str, np.ndarray]:
    """Arrays of the events in generation order (legitimate rows first, then fraud)."""
    rng = np.random.default_rng(seed)
    period_ms = days * MS_PER_DAY
    start_ms = (start - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)
    countries = [c[0] for c in CARD_COUNTRIES] + OTHER_COUNTRIES
    cidx = {c: i for i, c in enumerate(countries)}
    card_share = np.array([c[1] for c in CARD_COUNTRIES])
    merchant_share = np.concatenate([card_share, np.full(len(OTHER_COUNTRIES), 0.004)])
    merchant_share = merchant_share / merchant_share.sum()
    offsets_h = np.array([c[2] for c in CARD_COUNTRIES] + [0] * len(OTHER_COUNTRIES))

    M = Merchants(rng, max(2000, cards // 5), countries, merchant_share)

    # ---- cards
    K = cards
    home = rng.choice(len(CARD_COUNTRIES), size=K, p=card_share / card_share.sum())
    typical = np.exp(rng.normal(np.log(30.0), 0.55, size=K))        # typical amount
    spread = rng.uniform(0.35, 0.7, size=K)                          # lognormal sigma
    mix = rng.dirichlet([6.0, 3.0, 0.6], size=K)                     # pos, ecom, atm
    activity = np.exp(rng.normal(0.0, 1.0, size=K))
    activity[rng.random(K) < 0.02] *= 8.0                            # very active cards
    p_fav = rng.uniform(0.6, 0.92, size=K)
    pos_cats, pos_p = _channel_cat_probs(POS)
    ecom_cats, ecom_p = _channel_cat_probs(ECOM)
    atm_cat = CAT_INDEX["atm"]
    fav_pos = M.pick(rng, np.repeat(home, 6), _choose(rng, pos_cats, pos_p, K * 6)).reshape(K, 6)
    hubs = np.array([cidx[c] for c in ECOM_HUBS])
    ecom_country = np.where(rng.random(K * 4) < 0.65, np.repeat(home, 4),
                            hubs[rng.integers(0, len(hubs), K * 4)])
    fav_ecom = M.pick(rng, ecom_country, _choose(rng, ecom_cats, ecom_p, K * 4)).reshape(K, 4)
    fav_atm = M.pick(rng, np.repeat(home, 2), np.full(K * 2, atm_cat)).reshape(K, 2)
    favs = {POS: fav_pos, ECOM: fav_ecom, ATM: fav_atm}

    # Trips: 3% of cards spend 2-10 days abroad.
    trip_dest_codes = np.array([cidx[c] for c, _ in TRAVEL_DESTINATIONS])
    trip_dest_p = np.array([w for _, w in TRAVEL_DESTINATIONS])
    traveller = rng.random(K) < 0.03
    trip_country = trip_dest_codes[rng.choice(len(trip_dest_codes), size=K,
                                              p=trip_dest_p / trip_dest_p.sum())]
    same = trip_country == home                      # going "abroad" to the home country:
    position = np.full(len(countries), 0)            # take the next destination instead
    position[trip_dest_codes] = np.arange(len(trip_dest_codes))
    trip_country[same] = trip_dest_codes[(position[trip_country[same]] + 1) % len(trip_dest_codes)]
    trip_start = start_ms + rng.integers(0, max(1, days - 2), size=K) * MS_PER_DAY
    trip_end = trip_start + rng.integers(2, 11, size=K) * MS_PER_DAY

    # ---- fraud episodes (sizes first, so that the total is exact)
    n_fraud = int(round(fraud_rate * events))
    sizes: list[int] = []
    total = 0
    while total < n_fraud:
        sizes.append(int(3 + rng.poisson(3.0)))   # 3..~12 transactions, mean 6
        total += sizes[-1]
    if sizes:
        sizes[-1] -= total - n_fraud             # the last episode is cut to the exact total
    n_ep = len(sizes)
    n_legit = events - n_fraud
    n_retry = int(round(0.003 * n_legit))
    n_base = n_legit - n_retry

    # ---- legitimate transactions
    card = rng.choice(K, size=n_base, p=activity / activity.sum())
    u = rng.random(n_base)
    cm = np.cumsum(mix[card], axis=1)
    channel = (u >= cm[:, 0]).astype(np.int64) + (u >= cm[:, 1])
    channel = np.minimum(channel, ATM)
    merchant = np.empty(n_base, dtype=np.int64)
    use_fav = rng.random(n_base) < p_fav[card]
    # Favourite j is picked with probability decreasing in j (u^2 skews to 0).
    fav_u = rng.random(n_base) ** 2
    for ch, fav in favs.items():
        m = (channel == ch) & use_fav
        merchant[m] = fav[card[m], (fav_u[m] * fav.shape[1]).astype(np.int64)]
    m = (channel == POS) & ~use_fav
    merchant[m] = M.pick(rng, home[card[m]], _choose(rng, pos_cats, pos_p, int(m.sum())))
    m = (channel == ECOM) & ~use_fav
    cc = np.where(rng.random(int(m.sum())) < 0.65, home[card[m]],
                  hubs[rng.integers(0, len(hubs), int(m.sum()))])
    merchant[m] = M.pick(rng, cc, _choose(rng, ecom_cats, ecom_p, int(m.sum())))
    m = (channel == ATM) & ~use_fav
    merchant[m] = M.pick(rng, home[card[m]], np.full(int(m.sum()), atm_cat))

    # Local time of day from the profile, moved to UTC with the home offset.
    day = rng.integers(0, days, size=n_base)
    hour = rng.choice(24, size=n_base, p=HOUR_PROFILE / HOUR_PROFILE.sum())
    sec = rng.integers(0, 3600, size=n_base)
    ms = np.where(channel == ECOM, rng.integers(0, 1000, size=n_base), 0)
    local = day * MS_PER_DAY + hour * 3_600_000 + sec * 1000 + ms - offsets_h[home[card]] * 3_600_000
    ts = start_ms + np.mod(local, period_ms)

    # Travellers: card-present and ATM transactions during the trip happen abroad.
    abroad = traveller[card] & (channel != ECOM) & (ts >= trip_start[card]) & (ts < trip_end[card])
    cat_abroad = np.where(channel[abroad] == ATM, atm_cat, _choose(rng, pos_cats, pos_p, int(abroad.sum())))
    merchant[abroad] = M.pick(rng, trip_country[card[abroad]], cat_abroad)

    cat = M.category[merchant]
    log_amt = np.log(typical[card]) + np.log(CAT_FACTOR[cat]) + spread[card] * rng.standard_normal(n_base)
    cents = np.clip(np.round(np.exp(log_amt) * 100), 50, 2_000_000).astype(np.int64)
    atm = channel == ATM
    cents[atm] = np.maximum(1, np.round(cents[atm] / 2000)) * 2000   # ATMs: multiples of 20.00

    # Duplicate submissions: exact copies (same timestamp) of random rows.
    dup = rng.integers(0, n_base, size=n_retry)
    card = np.concatenate([card, card[dup]])
    merchant = np.concatenate([merchant, merchant[dup]])
    ts = np.concatenate([ts, ts[dup]])
    cents = np.concatenate([cents, cents[dup]])

    # ---- fraud
    ep_card_p = np.sqrt(activity) / np.sqrt(activity).sum()
    ep_card = rng.choice(K, size=n_ep, p=ep_card_p, replace=n_ep > K // 4)
    dest_codes = np.array([cidx[c] for c, _ in FRAUD_DESTINATIONS])
    dest_p = np.array([w for _, w in FRAUD_DESTINATIONS])
    ep_country = dest_codes[rng.choice(len(dest_codes), size=n_ep, p=dest_p / dest_p.sum())]
    clash = ep_country == home[ep_card]
    ep_country[clash] = cidx["RO"]                      # never "abroad" at home
    domestic = rng.random(n_ep) < 0.15
    ep_country[domestic] = home[ep_card[domestic]]
    cnp = rng.random(n_ep) < 0.70                        # card not present (ecom) vs cloned card
    testing = cnp & (rng.random(n_ep) < 0.60)
    first_day = min(days - 1, max(0, int(days * 0.1)))
    # Episode starts at a whole second (terminals report whole seconds; web rows add ms below).
    lo_ms = first_day * MS_PER_DAY
    ep_start = start_ms + rng.integers(lo_ms, max(lo_ms + 1, period_ms - 2 * 3_600_000), size=n_ep) // 1000 * 1000

    sizes_a = np.array(sizes, dtype=np.int64)
    f_ep = np.repeat(np.arange(n_ep), sizes_a)           # episode of each fraud row
    f_pos = np.arange(n_fraud) - np.repeat(np.cumsum(sizes_a) - sizes_a, sizes_a)   # position in episode
    n_test = np.where(testing, rng.integers(1, 4, size=n_ep), 0)
    is_test = f_pos < np.minimum(n_test[f_ep], sizes_a[f_ep] - 1)
    f_cnp = cnp[f_ep]
    # Gaps: card testing 0-1 s (often the same second); then about a minute
    # online, a few minutes between shops for a cloned card.
    gap_s = np.where(is_test, rng.integers(0, 2, size=n_fraud),
                     np.round(rng.exponential(np.where(f_cnp, 70.0, 240.0))).astype(np.int64) + 1)
    gap_s[f_pos == 0] = 0
    ep_first = np.cumsum(sizes_a) - sizes_a             # index of each episode's first row
    elapsed = np.cumsum(gap_s)
    offs = elapsed - np.repeat(elapsed[ep_first] if n_ep else [], sizes_a)   # seconds since episode start
    f_ts = ep_start[f_ep] + offs * 1000
    # Web charges carry milliseconds; card-testing charges of an episode fire at
    # the same millisecond, so a gap of 0 s gives exactly equal timestamps.
    ep_ms = rng.integers(0, 1000, size=n_ep)
    f_ts = f_ts + np.where(f_cnp, np.where(is_test, ep_ms[f_ep], rng.integers(0, 1000, size=n_fraud)), 0)
    f_ts = np.minimum(f_ts, start_ms + period_ms - 1)
    f_card = ep_card[f_ep]
    # Categories: risky web merchants, or shops and ATMs for a cloned card.
    cnp_cats = np.array([CAT_INDEX[c] for c in ("electronics_online", "money_transfer", "digital_media",
                                                "games_gift_cards", "marketplace")])
    cnp_p = np.array([0.35, 0.2, 0.15, 0.15, 0.15])
    cp_cats = np.array([CAT_INDEX[c] for c in ("electronics", "jewelry", "department_store", "atm")])
    cp_p = np.array([0.35, 0.15, 0.2, 0.3])
    f_cat = np.where(f_cnp, _choose(rng, cnp_cats, cnp_p, n_fraud), _choose(rng, cp_cats, cp_p, n_fraud))
    f_cat[is_test] = CAT_INDEX["digital_media"]
    f_merchant = M.pick(rng, ep_country[f_ep], f_cat)
    # Card testing: all test charges of an episode at one merchant.
    first_test = np.flatnonzero(is_test & (f_pos == 0))
    test_merchant = np.zeros(n_ep, dtype=np.int64)
    test_merchant[f_ep[first_test]] = f_merchant[first_test]
    f_merchant[is_test] = test_merchant[f_ep[is_test]]
    mult = rng.uniform(3.0, 12.0, size=n_fraud)
    f_cents = np.round(typical[f_card] * np.maximum(CAT_FACTOR[f_cat], 1.5) * mult * 100).astype(np.int64)
    f_cents = np.clip(f_cents, 2000, 1_500_000)
    f_atm = f_cat == atm_cat
    f_cents[f_atm] = np.clip(np.round(f_cents[f_atm] / 2000) * 2000, 10000, 100000)
    f_cents[is_test] = rng.integers(50, 500, size=int(is_test.sum()))

    return {
        "ts": np.concatenate([ts, f_ts]),
        "card": np.concatenate([card, f_card]),
        "merchant": np.concatenate([merchant, f_merchant]),
        "cents": np.concatenate([cents, f_cents]),
        "fraud": np.concatenate([np.zeros(len(ts), dtype=np.int8), np.ones(n_fraud, dtype=np.int8)]),
        "merchant_country": M.country,
        "merchant_category": M.category,
        "merchant_id_of": M.id_of,
        "countries": np.array(countries),
        "n_episodes": np.array(n_ep),
        "n_retry": np.array(n_retry),
    }


def _fixed2(cents: np.ndarray) -> list[str]:
    """Amounts in cents -> '12.34' (integer arithmetic only)."""
    return [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]


def _ids(prefix: str, values: np.ndarray, count: int, min_width: int) -> list[str]:
    width = max(min_width, len(str(count)))
    return [f"{prefix}{v:0{width}d}" for v in values.tolist()]


def write(g: dict[str, np.ndarray], output: str, labels: str, fmt: str, disorder: float,
          cards: int, seed: int) -> dict[str, int]:
    """Order the rows, number them and write both files; returns a few counts."""
    ts = g["ts"]
    n = len(ts)
    by_time = np.argsort(ts, kind="stable")                 # event-time order, ties by generation
    txn_no = np.empty(n, dtype=np.int64)
    txn_no[by_time] = np.arange(1, n + 1)
    if disorder > 0:
        # A separate stream of random numbers, so --disorder changes only the order.
        delay = np.random.default_rng([seed, 1]).integers(0, int(round(disorder * 1000)) + 1, size=n)
        order = np.argsort(ts + delay, kind="stable")
    else:
        order = by_time

    ts_o, card_o, merch_o = ts[order], g["card"][order], g["merchant"][order]
    txn_ids = _ids("t", txn_no[order], n, 7)
    ts_text = [s + "Z" for s in np.datetime_as_string(ts_o.astype("datetime64[ms]"), unit="ms").tolist()]
    card_ids = _ids("c", card_o + 1, cards, 6)
    merch_ids = _ids("m", g["merchant_id_of"][merch_o] + 1, len(g["merchant_id_of"]), 5)
    amounts = _fixed2(g["cents"][order])
    country = g["countries"][g["merchant_country"][merch_o]].tolist()
    cat = g["merchant_category"][merch_o]
    channel = np.array(CHANNELS)[CAT_CHANNEL[cat]].tolist()
    mcc = CAT_MCC[cat].tolist()
    fraud = g["fraud"][order].tolist()

    cols = zip(txn_ids, ts_text, card_ids, merch_ids, amounts, country, channel, mcc)
    with open(output, "w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            f.write("txn_id,ts,card_id,merchant_id,amount,country,channel,mcc\n")
            f.writelines(f"{a},{b},{c},{d},{e},{f_},{g_},{h}\n" for a, b, c, d, e, f_, g_, h in cols)
        else:
            f.writelines(f'{{"txn_id":"{a}","ts":"{b}","card_id":"{c}","merchant_id":"{d}",'
                         f'"amount":{e},"country":"{f_}","channel":"{g_}","mcc":{h}}}\n'
                         for a, b, c, d, e, f_, g_, h in cols)
    with open(labels, "w", encoding="utf-8", newline="") as f:
        f.write("txn_id,is_fraud\n")
        f.writelines(f"{t},{y}\n" for t, y in zip(txn_ids, fraud))

    key = card_o.astype(np.int64) * (1 << 42) + ts_o   # (card, ms) pairs
    return {
        "rows": n,
        "fraud": int(g["fraud"].sum()),
        "episodes": int(g["n_episodes"]),
        "duplicates": int(g["n_retry"]),
        "same_ms_on_card": int(n - len(np.unique(key))),
        "out_of_order": int((np.diff(ts_o) < 0).sum()),
        "cards_used": int(len(np.unique(card_o))),
        "merchants": int(len(g["merchant_id_of"])),
    }


def _parse_start(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate realistic card transactions with fraud labels.")
    p.add_argument("--events", type=int, default=200_000, help="number of transactions")
    p.add_argument("--cards", type=int, default=20_000, help="number of cards")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="2026-01-01T00:00:00Z", help="start of the period (UTC)")
    p.add_argument("--days", type=int, default=30, help="length of the period in days")
    p.add_argument("--output", default="transactions.csv")
    p.add_argument("--labels", default="labels.csv", help="txn_id,is_fraud (always CSV)")
    p.add_argument("--disorder", type=float, default=0.0,
                   help="max arrival delay in seconds; 0 = rows sorted by event time")
    p.add_argument("--format", choices=["csv", "jsonl"],
                   help="output format; default: from the output's extension, else csv")
    p.add_argument("--fraud-rate", type=float, default=0.007, help="share of fraudulent rows")
    a = p.parse_args(argv)
    if a.events < 1 or a.cards < 1 or a.days < 1 or a.disorder < 0 or not 0 <= a.fraud_rate < 0.5:
        p.error("need events >= 1, cards >= 1, days >= 1, disorder >= 0, 0 <= fraud-rate < 0.5")
    fmt = a.format or ("jsonl" if a.output.endswith((".jsonl", ".ndjson")) else "csv")

    t0 = time.time()
    g = generate(a.events, a.cards, a.seed, _parse_start(a.start), a.days, a.fraud_rate)
    t1 = time.time()
    stats = write(g, a.output, a.labels, fmt, a.disorder, a.cards, a.seed)
    t2 = time.time()
    print(f"{stats['rows']} transactions on {stats['cards_used']} of {a.cards} cards, "
          f"{stats['merchants']} merchants -> {a.output} ({fmt}), labels -> {a.labels}", file=sys.stderr)
    print(f"fraud: {stats['fraud']} rows ({100 * stats['fraud'] / stats['rows']:.2f}%) in "
          f"{stats['episodes']} episodes; duplicate submissions: {stats['duplicates']}; "
          f"rows sharing (card, ms) with an earlier row: {stats['same_ms_on_card']}; "
          f"rows out of event-time order: {stats['out_of_order']}", file=sys.stderr)
    print(f"time: generate {t1 - t0:.1f}s, write {t2 - t1:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
