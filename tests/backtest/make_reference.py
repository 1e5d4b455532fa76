#!/usr/bin/python3
"""Writes the reference cases of score_metrics_test.cc under reference/.

Run with Debian's /usr/bin/python3 (numpy, scikit-learn, scipy):

    /usr/bin/python3 tests/backtest/make_reference.py

Every case is seeded, so a rerun writes the same files. reference/expected.csv
holds one case a line: its input, the counts, sklearn's roc_auc_score and the
statistic of scipy's ks_2samp(bad scores, good scores), plus the smallest score
where KS is reached (computed exactly here, since scipy's statistic_location
is not necessarily the smallest). The input is either a CSV file under
reference/ (score,bad) or `generate:KIND:N:SEED`, rows that the test rebuilds
with the same SplitMix64 stream as generate() below, so that big cases need no
committed data.
"""

import math
import os
import sys
from fractions import Fraction

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "reference")
MASK = (1 << 64) - 1


def splitmix64(seed, count):
    state = seed & MASK
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def generate(kind, n, seed):
    """Rows from one SplitMix64 draw each: bad when draw % 100 < 5; the score
    from the draw's high bits, shifted up for bads, with only exact double
    operations so that C++ rebuilds the same values.
      ties:     14 bits, in steps of 2^-14: about 19k distinct scores.
      distinct: 52 bits, in steps of 2^-52: practically all distinct."""
    scores, bad = [], []
    for r in splitmix64(seed, n):
        b = r % 100 < 5
        if kind == "ties":
            s = float((r >> 50) + (3000 if b else 0)) / 16384.0
        elif kind == "distinct":
            s = math.ldexp(float((r >> 12) + ((1 << 50) if b else 0)), -52)
        else:
            raise ValueError(kind)
        scores.append(s)
        bad.append(b)
    return np.array(scores, dtype=np.float64), np.array(bad, dtype=bool)


def sigmoid_scores(rng, n, bad_rate, lift):
    bad = rng.random(n) < bad_rate
    z = rng.normal(size=n) + lift * bad
    return 1.0 / (1.0 + np.exp(-z)), bad


def exact_auc_ks(scores, bad):
    """Mann-Whitney AUC and KS with its smallest location, in exact integers."""
    order = np.argsort(scores, kind="stable")
    s, b = scores[order], bad[order]
    bads, goods = int(b.sum()), int((~b).sum())
    twice_u = 0
    goods_le = bads_le = 0
    best, best_score = -1, None
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        gb = int(b[i:j].sum())
        gg = (j - i) - gb
        twice_u += gb * (2 * goods_le + gg)
        goods_le += gg
        bads_le += gb
        gap = abs(bads_le * goods - goods_le * bads)
        if gap > best:
            best, best_score = gap, float(s[i])
        i = j
    pairs = bads * goods
    return Fraction(twice_u, 2 * pairs), Fraction(best, pairs), best_score


def cases():
    rng = np.random.default_rng(20240611)
    s, b = sigmoid_scores(rng, 2000, 0.05, 1.5)
    yield "random_5pct", s, b, "random_5pct.csv"
    s, b = sigmoid_scores(rng, 2000, 0.05, 1.0)
    yield "heavy_ties", np.round(s, 1), b, "heavy_ties.csv"
    # Logit scale: negative and positive scores, a few huge in magnitude.
    b = rng.random(500) < 0.3
    s = rng.normal(size=500) * 3.0 + 0.8 * b
    s[:6] = [-1e300, 1e300, -5e-324, 5e-324, 0.0, -0.0]
    yield "logits", s, b, "logits.csv"
    b = np.arange(40) % 4 == 0
    yield "all_equal", np.full(40, 0.5), b, "all_equal.csv"
    s = np.linspace(0.0, 1.0, 30)
    yield "separated", s, s > 0.7, "separated.csv"
    yield "inverted", s, s < 0.2, "inverted.csv"
    yield "tiny", np.array([0.8, 0.2]), np.array([True, False]), "tiny.csv"
    yield "tiny_tied", np.array([0.5, 0.5]), np.array([True, False]), "tiny_tied.csv"
    # KS reached at 0.1 and again at 0.3 (a good and a bad tie there): 0.1 is reported.
    s, b = np.array([0.1, 0.3, 0.3, 0.5]), np.array([False, False, True, True])
    yield "ks_plateau", s, b, "ks_plateau.csv"
    s = rng.random(20)
    yield "only_goods", s, np.zeros(20, dtype=bool), "only_goods.csv"
    yield "only_bads", s, np.ones(20, dtype=bool), "only_bads.csv"
    for kind, seed in (("ties", 7), ("distinct", 11)):
        s, b = generate(kind, 200_000, seed)
        yield f"big_{kind}", s, b, f"generate:{kind}:200000:{seed}"


def main():
    lines = [
        "# Written by make_reference.py (numpy %s, scikit-learn %s, scipy %s); rerun it, do not edit."
        % (np.__version__, sklearn.__version__, scipy.__version__),
        "# auc: sklearn.metrics.roc_auc_score; ks: scipy.stats.ks_2samp(bad, good).statistic;",
        "# ks_score: smallest score where ks is reached. Empty when a class is missing.",
        "case,input,labelled,bad,auc,ks,ks_score",
    ]
    for name, scores, bad, source in cases():
        n, nb = len(scores), int(bad.sum())
        auc = ks = ks_score = ""
        if 0 < nb < n:
            sk_auc = roc_auc_score(bad.astype(int), scores)
            sp_ks = scipy.stats.ks_2samp(scores[bad], scores[~bad]).statistic
            exact_auc, exact_ks, ks_score = exact_auc_ks(scores, bad)
            # The two references must agree with exact arithmetic before the C++ test trusts them.
            assert abs(sk_auc - float(exact_auc)) < 1e-13, (name, sk_auc, exact_auc)
            assert abs(sp_ks - float(exact_ks)) < 1e-13, (name, sp_ks, exact_ks)
            auc, ks, ks_score = repr(float(sk_auc)), repr(float(sp_ks)), repr(ks_score)
        lines.append(",".join([name, source, str(n), str(nb), auc, ks, ks_score]))
        if not source.startswith("generate:"):
            with open(os.path.join(OUT, source), "w") as f:
                f.write("score,bad\n")
                for s, b in zip(scores, bad):
                    f.write("%r,%d\n" % (float(s), int(b)))
        print(f"{name}: n={n} bad={nb} auc={auc or '-'} ks={ks or '-'}", file=sys.stderr)
    with open(os.path.join(OUT, "expected.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
