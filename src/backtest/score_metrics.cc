#include "backtest/score_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/check.h"

namespace sluice::backtest {
namespace {

// The records that share one distinct score.
struct ScoreGroup {
  double score;
  uint64_t good, bad;
};

// Counts of goods and bads at or past some threshold.
struct Counts {
  uint64_t good, bad;
};

// REQUIRES: `sorted` is sorted by score.
std::vector<ScoreGroup> GroupByScore(const std::vector<ScoredLabel>& sorted) {
  std::vector<ScoreGroup> groups;
  for (const ScoredLabel& s : sorted) {
    if (groups.empty() || groups.back().score != s.score) groups.push_back({s.score, 0, 0});
    (s.bad ? groups.back().bad : groups.back().good) += 1;
  }
  return groups;
}

// num / den, rounded once: long double holds every count below 2^64 exactly
// on x86-64 (and more on targets with a wider long double).
double Ratio(uint64_t num, uint64_t den) {
  return static_cast<double>(static_cast<long double>(num) / static_cast<long double>(den));
}

// Indices of at most `max_points` of the points `at` (cumulative counts,
// non-decreasing in both), in increasing order: the first, the last, `keep`
// (< at.size()) if given, and in between every point where the share of
// goods or the share of bads has moved by at least 2 / (max_points - 3)
// since the last point kept. Spacing by movement rather than by index keeps
// the curve's shape where it changes (a rare class crowds into few of many
// distinct scores), and bounds the count: each such point adds at least that
// much to the sum of the two shares, which goes from 0 to 2.
std::vector<size_t> PickByMovement(const std::vector<Counts>& at, uint64_t goods, uint64_t bads,
                                   size_t max_points, std::optional<size_t> keep) {
  const size_t n = at.size();
  std::vector<size_t> picks;
  if (n <= max_points) {
    picks.resize(n);
    for (size_t i = 0; i < n; ++i) picks[i] = i;
    return picks;
  }
  if (keep) SLUICE_CHECK_LT(*keep, n);
  const double step = max_points > 3 ? 2.0 / static_cast<double>(max_points - 3) : 2.0;
  auto share = [](uint64_t part, uint64_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
  };
  picks.push_back(0);
  for (size_t i = 1; i + 1 < n; ++i) {
    const Counts& last = at[picks.back()];
    const bool moved = share(at[i].good - last.good, goods) >= step ||
                       share(at[i].bad - last.bad, bads) >= step;
    if (moved || (keep && i == *keep)) picks.push_back(i);
  }
  picks.push_back(n - 1);
  // The bound above leaves room for the first, the last and `keep`; rounding
  // of `step` cannot add more than a point or two, dropped here if needed.
  while (picks.size() > max_points) {
    // Never the ends; `keep` only when nothing else is left to drop.
    size_t drop = picks.size() - 2;
    if (keep && picks[drop] == *keep && drop > 1) --drop;
    picks.erase(picks.begin() + static_cast<long>(drop));
  }
  return picks;
}

// True when `b` lies on the straight segment from `a` to `c` (the three are
// ordered along a monotone curve, so collinear means between).
bool OnSegment(const Counts& a, const Counts& b, const Counts& c) {
  // Differences are at most 2^32 each, so the products fit.
  return (b.good - a.good) * (c.bad - a.bad) == (b.bad - a.bad) * (c.good - a.good);
}

// The ROC curve's corners by decreasing threshold, from (0, 0) to (goods, bads).
std::vector<Counts> RocCorners(const std::vector<ScoreGroup>& groups) {
  std::vector<Counts> corners = {{0, 0}};
  Counts at{0, 0};
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    at.good += g->good;
    at.bad += g->bad;
    // Every earlier triple is already a corner, so one drop restores that.
    if (corners.size() >= 2 && OnSegment(corners[corners.size() - 2], corners.back(), at)) {
      corners.pop_back();
    }
    corners.push_back(at);
  }
  return corners;
}

std::vector<HistogramBin> Histogram(const std::vector<ScoredLabel>& sorted, size_t bins) {
  std::vector<HistogramBin> histogram;
  if (sorted.empty() || bins == 0) return histogram;
  const double lo = sorted.front().score;
  const double hi = sorted.back().score;
  if (lo == hi) bins = 1;
  // std::lerp is exact at both ends, monotone in t, and does not overflow
  // when the scores span more than the largest double.
  histogram.resize(bins);
  for (size_t b = 0; b < bins; ++b) {
    histogram[b].low = std::lerp(lo, hi, static_cast<double>(b) / static_cast<double>(bins));
    histogram[b].good = histogram[b].bad = 0;
  }
  for (size_t b = 0; b + 1 < bins; ++b) histogram[b].high = histogram[b + 1].low;
  histogram.back().high = hi;
  // Walking the sorted scores against the stored edges puts a score equal to
  // an edge in the bin that starts there, whatever the rounding of the edges.
  size_t b = 0;
  for (const ScoredLabel& s : sorted) {
    while (b + 1 < bins && s.score >= histogram[b + 1].low) ++b;
    (s.bad ? histogram[b].bad : histogram[b].good) += 1;
  }
  return histogram;
}

}  // namespace

ScoreMetrics ComputeScoreMetrics(std::vector<ScoredLabel>& scores, size_t max_points, size_t bins) {
  SLUICE_CHECK_LE(size_t{2}, max_points);
  // Below 2^32 records every product of two counts fits in 64 bits.
  SLUICE_CHECK_LT(scores.size(), size_t{1} << 32);
  ScoreMetrics m;
  m.labelled = scores.size();
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i].score)) {
      internal::CheckFailed(__FILE__, __LINE__, "std::isfinite(score)",
                            fmt::format("(record {} has score {})", i, scores[i].score));
    }
    m.bad += scores[i].bad ? 1 : 0;
  }
  std::sort(scores.begin(), scores.end(),
            [](const ScoredLabel& a, const ScoredLabel& b) { return a.score < b.score; });
  m.histogram = Histogram(scores, bins);

  const uint64_t bads = m.bad;
  const uint64_t goods = m.labelled - m.bad;
  if (bads == 0 || goods == 0) return m;
  const std::vector<ScoreGroup> groups = GroupByScore(scores);

  // Twice the Mann-Whitney U of the bads: each (bad, good) pair scores 2 when
  // the bad one is higher and 1 when they tie. At most 2 * bads * goods.
  uint64_t twice_u = 0;
  // KS: |F_bad - F_good| = |bads_le * goods - goods_le * bads| / (bads * goods).
  uint64_t goods_le = 0, bads_le = 0, ks_numerator = 0;
  size_t ks_group = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const ScoreGroup& g = groups[i];
    twice_u += g.bad * (2 * goods_le + g.good);
    goods_le += g.good;
    bads_le += g.bad;
    const uint64_t bad_side = bads_le * goods, good_side = goods_le * bads;
    const uint64_t gap = bad_side > good_side ? bad_side - good_side : good_side - bad_side;
    if (i == 0 || gap > ks_numerator) {
      ks_numerator = gap;
      ks_group = i;
    }
  }
  const uint64_t pairs = bads * goods;
  m.auc = Ratio(twice_u, 2 * pairs);
  // 2 * auc - 1 = (twice_u - pairs) / pairs, taken in integers to keep the sign exact.
  m.gini = twice_u >= pairs ? Ratio(twice_u - pairs, pairs) : -Ratio(pairs - twice_u, pairs);
  m.ks = Ratio(ks_numerator, pairs);
  m.ks_score = groups[ks_group].score;

  const std::vector<Counts> corners = RocCorners(groups);
  m.roc.reserve(std::min(corners.size(), max_points));
  for (size_t i : PickByMovement(corners, goods, bads, max_points, std::nullopt)) {
    m.roc.push_back({Ratio(corners[i].good, goods), Ratio(corners[i].bad, bads)});
  }

  std::vector<Counts> le(groups.size());
  Counts sum{0, 0};
  for (size_t i = 0; i < groups.size(); ++i) {
    sum.good += groups[i].good;
    sum.bad += groups[i].bad;
    le[i] = sum;
  }
  const std::vector<size_t> ks_picks = PickByMovement(le, goods, bads, max_points, ks_group);
  m.ks_curve.reserve(ks_picks.size());
  for (size_t pick : ks_picks) {
    m.ks_curve.push_back({groups[pick].score, Ratio(le[pick].good, goods), Ratio(le[pick].bad, bads)});
  }
  return m;
}

}  // namespace sluice::backtest
