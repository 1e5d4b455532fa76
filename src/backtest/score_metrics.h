#pragma once
// How well a score separates the two classes of labelled records, as
// `sluice backtest` reports it: ROC AUC and Gini, the Kolmogorov-Smirnov
// statistic, their curves, and a histogram of the scores by class.
//
// A higher score means "more likely bad"; `bad` marks the adverse class
// (fraud, default) and every other labelled record is good.
//
// - auc = P(score_bad > score_good) + 0.5 * P(score_bad == score_good) over
//   all (bad, good) pairs: the Mann-Whitney U statistic over bad * good, which
//   is also the trapezoid area under the ROC curve through its distinct
//   thresholds. It equals sklearn.metrics.roc_auc_score.
// - ks = max over scores s of |F_bad(s) - F_good(s)|, where F_c(s) is the
//   share of class c with score <= s. It equals the statistic of
//   scipy.stats.ks_2samp(bad_scores, good_scores).
//
// Both are computed from integer counts over the full data and divided once
// at the end, so they stay exact to a rounding for millions of records and do
// not depend on how the curves are downsampled for display.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sluice::backtest {

// One labelled score.
struct ScoredLabel {
  double score;
  bool bad;  // true for the adverse class
};

// A point of the ROC curve: the shares of goods (false positive rate) and of
// bads (true positive rate) with score >= some threshold.
struct RocPoint {
  double fpr, tpr;
  friend bool operator==(const RocPoint&, const RocPoint&) = default;
};

// A point of the KS curve: the shares of goods and of bads with score <= `score`.
struct KsPoint {
  double score, good, bad;
  friend bool operator==(const KsPoint&, const KsPoint&) = default;
};

// The records with low <= score < high (score <= high in the last bin).
struct HistogramBin {
  double low, high;
  uint64_t good, bad;
  friend bool operator==(const HistogramBin&, const HistogramBin&) = default;
};

struct ScoreMetrics {
  uint64_t labelled = 0, bad = 0;
  // All nullopt unless there is at least one bad and one good record.
  std::optional<double> auc;
  std::optional<double> gini;  // 2 * auc - 1
  std::optional<double> ks;
  std::optional<double> ks_score;  // the smallest score where ks is reached
  // From (0, 0) to (1, 1) by decreasing threshold, both rates non-decreasing.
  // Points on a straight segment between their neighbours are dropped (the
  // polyline is unchanged); if more than `max_points` corners remain, a
  // subset is kept that has a point wherever either rate has moved by about
  // 2 / max_points since the previous one, the end points always among them.
  // Empty unless both classes are present.
  std::vector<RocPoint> roc;
  // One point per distinct score, by increasing score, ending at (max, 1, 1);
  // if there are more than `max_points`, a subset spaced by how far the two
  // shares move (as for `roc`) that keeps
  // the first, the last and the point where ks is reached. Empty unless both
  // classes are present.
  std::vector<KsPoint> ks_curve;
  // `bins` equal-width bins from the smallest to the largest score; a single
  // bin when all scores are equal; empty without records.
  std::vector<HistogramBin> histogram;

  friend bool operator==(const ScoreMetrics&, const ScoreMetrics&) = default;
};

// Computes the metrics of `scores` in O(n log n), sorting it by score in place
// (the order of records with equal scores is unspecified).
// REQUIRES: every score is finite (the caller drops nulls and NaNs);
//           scores.size() < 2^32; max_points >= 2.
// bins = 0 leaves the histogram empty.
ScoreMetrics ComputeScoreMetrics(std::vector<ScoredLabel>& scores, size_t max_points = 201,
                                 size_t bins = 20);

}  // namespace sluice::backtest
