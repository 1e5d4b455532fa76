// Score metrics against scikit-learn and scipy (the cases under reference/,
// written by make_reference.py), against hand-computed examples, and the
// shape every result must have: monotone curves with exact end points, at
// most max_points of them, histogram counts that add up, and no dependence
// on the order of the input.

#include "backtest/score_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::backtest {
namespace {

// sklearn and scipy compute in floating point; sluice counts in integers.
constexpr double kTolerance = 1e-12;

std::string ReferencePath(const std::string& file) {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/backtest/reference/" + file;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

// Exact: the files hold shortest round-trip representations.
std::optional<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

uint64_t ParseCount(const std::string& text) {
  return std::stoull(text);
}

// The SplitMix64 rows of make_reference.py's generate(), bit for bit.
std::vector<ScoredLabel> Generate(const std::string& kind, size_t n, uint64_t seed) {
  std::vector<ScoredLabel> rows;
  rows.reserve(n);
  uint64_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    const uint64_t r = z ^ (z >> 31);
    const bool bad = r % 100 < 5;
    double score = 0;
    if (kind == "ties") {
      score = static_cast<double>((r >> 50) + (bad ? 3000 : 0)) / 16384.0;
    } else if (kind == "distinct") {
      score = std::ldexp(static_cast<double>((r >> 12) + (bad ? uint64_t{1} << 50 : 0)), -52);
    } else {
      ADD_FAILURE() << "unknown generator kind '" << kind << "'";
    }
    rows.push_back({score, bad});
  }
  return rows;
}

// `input` is a file under reference/ or generate:KIND:N:SEED.
std::vector<ScoredLabel> LoadInput(const std::string& input) {
  std::vector<ScoredLabel> rows;
  if (input.starts_with("generate:")) {
    std::vector<std::string> parts;
    std::stringstream in(input);
    for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
    EXPECT_EQ(parts.size(), 4u) << input;
    if (parts.size() != 4) return rows;
    return Generate(parts[1], ParseCount(parts[2]), ParseCount(parts[3]));
  }
  const std::string path = ReferencePath(input);
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "score,bad") << path << ":1";
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    const std::vector<std::string> f = SplitCsv(line);
    const std::optional<double> score = f.size() == 2 ? ParseDouble(f[0]) : std::nullopt;
    if (!score || (f[1] != "0" && f[1] != "1")) {
      ADD_FAILURE() << path << ":" << line_no << ": expected score,0|1, found '" << line << "'";
      continue;
    }
    rows.push_back({*score, f[1] == "1"});
  }
  return rows;
}

struct ReferenceCase {
  std::string name, input;
  uint64_t labelled = 0, bad = 0;
  std::optional<double> auc, ks, ks_score;  // nullopt without both classes
};

const std::vector<ReferenceCase>& ReferenceCases() {
  static const std::vector<ReferenceCase> cases = [] {
    std::vector<ReferenceCase> out;
    const std::string path = ReferencePath("expected.csv");
    std::ifstream in(path);
    EXPECT_TRUE(in) << "cannot open " << path;
    std::string line;
    bool header = true;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      if (line.empty() || line[0] == '#') continue;
      if (header) {
        EXPECT_EQ(line, "case,input,labelled,bad,auc,ks,ks_score") << path << ":" << line_no;
        header = false;
        continue;
      }
      const std::vector<std::string> f = SplitCsv(line);
      if (f.size() != 7) {
        ADD_FAILURE() << path << ":" << line_no << ": expected 7 fields, found '" << line << "'";
        continue;
      }
      out.push_back({f[0], f[1], ParseCount(f[2]), ParseCount(f[3]), ParseDouble(f[4]),
                     ParseDouble(f[5]), ParseDouble(f[6])});
    }
    return out;
  }();
  return cases;
}

std::vector<ScoredLabel> LoadCase(const std::string& name) {
  for (const ReferenceCase& c : ReferenceCases()) {
    if (c.name == name) return LoadInput(c.input);
  }
  ADD_FAILURE() << "no reference case '" << name << "'";
  return {};
}

// The trapezoid area under a ROC curve.
double Area(const std::vector<RocPoint>& roc) {
  double area = 0;
  for (size_t i = 1; i < roc.size(); ++i) {
    area += (roc[i].fpr - roc[i - 1].fpr) * (roc[i].tpr + roc[i - 1].tpr) / 2;
  }
  return area;
}

// The shape every result has, checked against the sorted input.
void ExpectWellFormed(const ScoreMetrics& m, const std::vector<ScoredLabel>& sorted,
                      size_t max_points, size_t bins) {
  ASSERT_TRUE(std::is_sorted(sorted.begin(), sorted.end(),
                             [](const auto& a, const auto& b) { return a.score < b.score; }));
  ASSERT_EQ(m.labelled, sorted.size());
  const uint64_t bads = static_cast<uint64_t>(
      std::count_if(sorted.begin(), sorted.end(), [](const auto& s) { return s.bad; }));
  ASSERT_EQ(m.bad, bads);
  const uint64_t goods = m.labelled - bads;

  // Histogram: contiguous bins over [min, max]; each score counted in the bin
  // whose [low, high) holds it (the last bin closed).
  if (sorted.empty() || bins == 0) {
    EXPECT_TRUE(m.histogram.empty());
  } else {
    const double lo = sorted.front().score, hi = sorted.back().score;
    ASSERT_EQ(m.histogram.size(), lo == hi ? 1 : bins);
    EXPECT_EQ(m.histogram.front().low, lo);
    EXPECT_EQ(m.histogram.back().high, hi);
    std::vector<HistogramBin> recount = m.histogram;
    for (size_t b = 0; b < recount.size(); ++b) {
      EXPECT_LE(recount[b].low, recount[b].high) << "bin " << b;
      if (b + 1 < recount.size()) {
        EXPECT_EQ(recount[b].high, recount[b + 1].low) << "bin " << b;
      }
      recount[b].good = recount[b].bad = 0;
    }
    uint64_t counted_good = 0, counted_bad = 0;
    for (const HistogramBin& bin : m.histogram) {
      counted_good += bin.good;
      counted_bad += bin.bad;
    }
    EXPECT_EQ(counted_good, goods);
    EXPECT_EQ(counted_bad, bads);
    for (const ScoredLabel& s : sorted) {
      size_t b = 0;
      while (b + 1 < recount.size() && !(s.score < recount[b].high)) ++b;
      (s.bad ? recount[b].bad : recount[b].good) += 1;
    }
    EXPECT_EQ(recount, m.histogram);
  }

  if (bads == 0 || goods == 0) {
    EXPECT_FALSE(m.auc);
    EXPECT_FALSE(m.gini);
    EXPECT_FALSE(m.ks);
    EXPECT_FALSE(m.ks_score);
    EXPECT_TRUE(m.roc.empty());
    EXPECT_TRUE(m.ks_curve.empty());
    return;
  }
  ASSERT_TRUE(m.auc && m.gini && m.ks && m.ks_score);
  EXPECT_NEAR(*m.gini, 2 * *m.auc - 1, 1e-15);
  EXPECT_GE(*m.auc, 0.0);
  EXPECT_LE(*m.auc, 1.0);
  EXPECT_GE(*m.ks, 0.0);
  EXPECT_LE(*m.ks, 1.0);

  ASSERT_GE(m.roc.size(), 2u);
  EXPECT_LE(m.roc.size(), max_points);
  EXPECT_EQ(m.roc.front(), (RocPoint{0, 0}));
  EXPECT_EQ(m.roc.back(), (RocPoint{1, 1}));
  for (size_t i = 1; i < m.roc.size(); ++i) {
    EXPECT_LE(m.roc[i - 1].fpr, m.roc[i].fpr) << "roc point " << i;
    EXPECT_LE(m.roc[i - 1].tpr, m.roc[i].tpr) << "roc point " << i;
    EXPECT_NE(m.roc[i - 1], m.roc[i]) << "roc point " << i;
  }

  ASSERT_GE(m.ks_curve.size(), 1u);
  EXPECT_LE(m.ks_curve.size(), max_points);
  EXPECT_EQ(m.ks_curve.front().score, sorted.front().score);
  EXPECT_EQ(m.ks_curve.back(), (KsPoint{sorted.back().score, 1, 1}));
  bool has_ks_point = false;
  for (size_t i = 0; i < m.ks_curve.size(); ++i) {
    const KsPoint& p = m.ks_curve[i];
    EXPECT_LE(std::abs(p.bad - p.good), *m.ks + 1e-15) << "ks point " << i;
    if (p.score == *m.ks_score) {
      has_ks_point = true;
      EXPECT_NEAR(std::abs(p.bad - p.good), *m.ks, 1e-15);
    }
    // Distinct gaps differ by at least 1 / (bads * goods), far above rounding.
    if (p.score < *m.ks_score) {
      EXPECT_LT(std::abs(p.bad - p.good), *m.ks - 1e-15) << "ks reached before ks_score";
    }
    if (i == 0) continue;
    EXPECT_LT(m.ks_curve[i - 1].score, p.score) << "ks point " << i;
    EXPECT_LE(m.ks_curve[i - 1].good, p.good) << "ks point " << i;
    EXPECT_LE(m.ks_curve[i - 1].bad, p.bad) << "ks point " << i;
  }
  // With two points only the ends fit; otherwise the maximum is always shown.
  if (max_points > 2) {
    EXPECT_TRUE(has_ks_point) << "ks_score " << *m.ks_score;
  }
}

TEST(ScoreMetricsReference, MatchesSklearnAndScipy) {
  ASSERT_GE(ReferenceCases().size(), 10u);
  for (const ReferenceCase& c : ReferenceCases()) {
    SCOPED_TRACE(c.name);
    std::vector<ScoredLabel> rows = LoadInput(c.input);
    ASSERT_EQ(rows.size(), c.labelled);
    const ScoreMetrics m = ComputeScoreMetrics(rows);
    EXPECT_EQ(m.labelled, c.labelled);
    EXPECT_EQ(m.bad, c.bad);
    ASSERT_EQ(m.auc.has_value(), c.auc.has_value());
    if (c.auc) {
      EXPECT_NEAR(*m.auc, *c.auc, kTolerance);
      EXPECT_NEAR(*m.gini, 2 * *c.auc - 1, kTolerance);
      EXPECT_NEAR(*m.ks, *c.ks, kTolerance);
      EXPECT_EQ(*m.ks_score, *c.ks_score);
    }
    ExpectWellFormed(m, rows, 201, 20);
  }
}

// Downsampled curves are drawn from the same full-data metrics; the full
// curves reproduce them.
TEST(ScoreMetricsReference, CurvesDoNotChangeTheMetrics) {
  for (const ReferenceCase& c : ReferenceCases()) {
    if (!c.auc) continue;
    SCOPED_TRACE(c.name);
    std::vector<ScoredLabel> rows = LoadInput(c.input);
    const ScoreMetrics full = ComputeScoreMetrics(rows, std::numeric_limits<size_t>::max(), 20);
    ExpectWellFormed(full, rows, std::numeric_limits<size_t>::max(), 20);
    EXPECT_NEAR(Area(full.roc), *full.auc, 1e-10);
    double max_gap = 0;
    for (const KsPoint& p : full.ks_curve) max_gap = std::max(max_gap, std::abs(p.bad - p.good));
    EXPECT_NEAR(max_gap, *full.ks, 1e-15);
    const std::pair<size_t, size_t> shapes[] = {{2, 0}, {3, 1}, {4, 3}, {10, 20}, {201, 7}};
    for (auto [max_points, bins] : shapes) {
      SCOPED_TRACE(testing::Message() << "max_points " << max_points << ", bins " << bins);
      const ScoreMetrics m = ComputeScoreMetrics(rows, max_points, bins);
      EXPECT_EQ(m.auc, full.auc);
      EXPECT_EQ(m.gini, full.gini);
      EXPECT_EQ(m.ks, full.ks);
      EXPECT_EQ(m.ks_score, full.ks_score);
      ExpectWellFormed(m, rows, max_points, bins);
    }
  }
}

TEST(ScoreMetrics, InputOrderDoesNotMatter) {
  for (const char* name : {"random_5pct", "heavy_ties", "logits", "big_ties"}) {
    SCOPED_TRACE(name);
    std::vector<ScoredLabel> rows = LoadCase(name);
    const ScoreMetrics want = ComputeScoreMetrics(rows, 50, 7);
    std::mt19937_64 rng(42);
    for (int round = 0; round < 3; ++round) {
      std::shuffle(rows.begin(), rows.end(), rng);
      EXPECT_EQ(ComputeScoreMetrics(rows, 50, 7), want) << "shuffle " << round;
    }
    std::reverse(rows.begin(), rows.end());
    EXPECT_EQ(ComputeScoreMetrics(rows, 50, 7), want) << "reversed";
  }
}

// goods 0.1 and 0.4, bads 0.35 and 0.8 (sklearn's roc_auc_score example).
TEST(ScoreMetrics, HandComputedFourRows) {
  std::vector<ScoredLabel> rows = {{0.1, false}, {0.4, false}, {0.35, true}, {0.8, true}};
  const ScoreMetrics m = ComputeScoreMetrics(rows, 201, 2);
  EXPECT_EQ(m.labelled, 4u);
  EXPECT_EQ(m.bad, 2u);
  // Pairs (bad, good): 0.35 > 0.1, 0.35 < 0.4, 0.8 > 0.1, 0.8 > 0.4: 3 of 4.
  EXPECT_EQ(m.auc, 0.75);
  EXPECT_EQ(m.gini, 0.5);
  // F_good - F_bad at 0.1, 0.35, 0.4, 0.8: 1/2 - 0, 1/2 - 1/2, 1 - 1/2, 1 - 1.
  EXPECT_EQ(m.ks, 0.5);
  EXPECT_EQ(m.ks_score, 0.1);
  // Thresholds 0.8, 0.4, 0.35, 0.1 take in a bad, a good, a bad, a good.
  EXPECT_EQ(m.roc, (std::vector<RocPoint>{{0, 0}, {0, 0.5}, {0.5, 0.5}, {0.5, 1}, {1, 1}}));
  EXPECT_EQ(m.ks_curve,
            (std::vector<KsPoint>{{0.1, 0.5, 0}, {0.35, 0.5, 0.5}, {0.4, 1, 0.5}, {0.8, 1, 1}}));
  // Two bins split at (0.1 + 0.8) / 2 = 0.45 (to a rounding): 0.1, 0.35 and
  // 0.4 below, 0.8 above.
  ASSERT_EQ(m.histogram.size(), 2u);
  EXPECT_EQ(m.histogram[0].low, 0.1);
  EXPECT_DOUBLE_EQ(m.histogram[0].high, 0.45);
  EXPECT_EQ(m.histogram[1].low, m.histogram[0].high);
  EXPECT_EQ(m.histogram[1].high, 0.8);
  EXPECT_EQ(m.histogram[0].good, 2u);
  EXPECT_EQ(m.histogram[0].bad, 1u);
  EXPECT_EQ(m.histogram[1].good, 0u);
  EXPECT_EQ(m.histogram[1].bad, 1u);
}

// One bad at 0.5 against goods at 0.5 and 0.2: a tie (half credit) and a win.
TEST(ScoreMetrics, TiesGetHalfCredit) {
  std::vector<ScoredLabel> rows = {{0.5, false}, {0.5, true}, {0.2, false}};
  const ScoreMetrics m = ComputeScoreMetrics(rows);
  EXPECT_EQ(m.auc, 0.75);
  EXPECT_EQ(m.gini, 0.5);
  // At 0.2: F_good = 1/2, F_bad = 0.
  EXPECT_EQ(m.ks, 0.5);
  EXPECT_EQ(m.ks_score, 0.2);
  // The tied threshold moves both rates at once: one diagonal step.
  EXPECT_EQ(m.roc, (std::vector<RocPoint>{{0, 0}, {0.5, 1}, {1, 1}}));
}

// Points inside a straight run are not corners: the curve keeps its shape
// with fewer points.
TEST(ScoreMetrics, RocKeepsOnlyCorners) {
  std::vector<ScoredLabel> equal = LoadCase("all_equal");
  EXPECT_EQ(ComputeScoreMetrics(equal).roc, (std::vector<RocPoint>{{0, 0}, {1, 1}}));
  std::vector<ScoredLabel> separated = LoadCase("separated");
  EXPECT_EQ(ComputeScoreMetrics(separated).roc, (std::vector<RocPoint>{{0, 0}, {0, 1}, {1, 1}}));
  // Alternating good, bad, good, bad... from the top: a staircase whose every
  // step is a corner.
  std::vector<ScoredLabel> stairs;
  for (int i = 0; i < 6; ++i) stairs.push_back({static_cast<double>(i), i % 2 == 1});
  EXPECT_EQ(ComputeScoreMetrics(stairs).roc.size(), 7u);
  // Pairs of one good and one bad tied at each score: one diagonal.
  std::vector<ScoredLabel> diagonal;
  for (int i = 0; i < 6; ++i) diagonal.push_back({static_cast<double>(i / 2), i % 2 == 1});
  const ScoreMetrics d = ComputeScoreMetrics(diagonal);
  EXPECT_EQ(d.roc, (std::vector<RocPoint>{{0, 0}, {1, 1}}));
  EXPECT_EQ(d.auc, 0.5);
}

TEST(ScoreMetrics, HistogramOfEqualScoresIsOneBin) {
  std::vector<ScoredLabel> rows = LoadCase("all_equal");
  const ScoreMetrics m = ComputeScoreMetrics(rows, 201, 20);
  EXPECT_EQ(m.histogram, (std::vector<HistogramBin>{{0.5, 0.5, 30, 10}}));
}

TEST(ScoreMetrics, HistogramSpansExtremeScores) {
  std::vector<ScoredLabel> rows = {{-1e300, false}, {1e300, true}, {0, false}, {0, true}};
  const ScoreMetrics m = ComputeScoreMetrics(rows, 201, 2);
  EXPECT_EQ(m.histogram, (std::vector<HistogramBin>{{-1e300, 0, 1, 0}, {0, 1e300, 1, 2}}));
}

TEST(ScoreMetrics, OneClassLeavesTheRatesUndefined) {
  for (const char* name : {"only_goods", "only_bads"}) {
    SCOPED_TRACE(name);
    std::vector<ScoredLabel> rows = LoadCase(name);
    const ScoreMetrics m = ComputeScoreMetrics(rows);
    ExpectWellFormed(m, rows, 201, 20);
    EXPECT_EQ(m.histogram.size(), 20u);
  }
  std::vector<ScoredLabel> none;
  EXPECT_EQ(ComputeScoreMetrics(none), ScoreMetrics{});
}

TEST(ScoreMetricsDeathTest, NanScoreIsABug) {
  std::vector<ScoredLabel> rows = {{0.5, false}, {std::nan(""), true}};
  EXPECT_DEATH(ComputeScoreMetrics(rows), "record 1 has score nan");
}

}  // namespace
}  // namespace sluice::backtest
