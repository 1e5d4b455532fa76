#include "model/scorecard.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <utility>

#include "model/internal/scorecard_json.h"

namespace sluice::model {

namespace {

std::string Number(double v) {
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string Interval(double from, double to) {
  return "[" + Number(from) + ", " + Number(to) + ")";
}

using Kind = ScorecardBin::Kind;

}  // namespace

std::vector<ScorecardIssue> Scorecard::Validate(const ScorecardDefinition& def) {
  std::vector<ScorecardIssue> issues;
  if (!std::isfinite(def.base_points)) issues.push_back({-1, -1, "base points must be finite"});
  if (def.characteristics.empty()) {
    issues.push_back({-1, -1, "a scorecard needs at least one characteristic"});
  }
  if (def.characteristics.size() > kMaxCharacteristics) {
    issues.push_back(
        {-1, -1,
         "a scorecard has at most " + std::to_string(kMaxCharacteristics) + " characteristics"});
    return issues;
  }
  std::set<std::string_view> inputs;
  for (size_t ci = 0; ci < def.characteristics.size(); ++ci) {
    const Characteristic& ch = def.characteristics[ci];
    const int c = static_cast<int>(ci);
    const std::string who = "characteristic '" + ch.input + "'";
    if (ch.input.empty()) issues.push_back({c, -1, "a characteristic has no input"});
    if (!inputs.insert(ch.input).second) {
      issues.push_back({c, -1, "input '" + ch.input + "' has two characteristics"});
    }
    if (ch.bins.size() > kMaxBins) {
      issues.push_back({c, -1, who + " has more than " + std::to_string(kMaxBins) + " bins"});
      continue;
    }
    int missing = -1, other = -1, ranges = 0, value_bins = 0;
    std::set<std::string_view> values;
    std::vector<size_t> order;
    for (size_t bi = 0; bi < ch.bins.size(); ++bi) {
      const ScorecardBin& b = ch.bins[bi];
      const int at = static_cast<int>(bi);
      if (!std::isfinite(b.points)) {
        issues.push_back({c, at, "the points of a bin of " + who + " must be finite"});
      }
      switch (b.kind) {
        case Kind::kMissing:
          if (missing >= 0) issues.push_back({c, at, who + " has two 'missing' bins"});
          missing = at;
          break;
        case Kind::kElse:
          if (other >= 0) issues.push_back({c, at, who + " has two 'else' bins"});
          other = at;
          break;
        case Kind::kValues:
          ++value_bins;
          if (b.values.empty())
            issues.push_back({c, at, "a value bin of " + who + " lists no values"});
          for (const std::string& v : b.values) {
            if (!values.insert(v).second) {
              issues.push_back({c, at, "value '" + v + "' is in two bins of " + who});
            }
          }
          break;
        case Kind::kRange:
          ++ranges;
          if (std::isnan(b.from) || std::isnan(b.to) || !(b.from < b.to)) {
            issues.push_back({c, at,
                              "bin " + Interval(b.from, b.to) + " of " + who +
                                  " is empty: 'from' must be below 'to'"});
          } else {
            order.push_back(bi);
          }
          break;
      }
    }
    if (ranges > 0 && value_bins > 0) {
      issues.push_back({c, -1, who + " mixes range bins (from/to) and value bins"});
      continue;
    }
    if (ranges == 0 && value_bins == 0) {
      issues.push_back({c, -1, who + " needs range bins (from/to) or value bins"});
      continue;
    }
    if (ranges > 0 && other >= 0) {
      issues.push_back(
          {c, other,
           "'else' applies to value bins; the range bins of " + who + " must cover every number"});
    }
    if (ranges == 0 || order.size() != static_cast<size_t>(ranges)) continue;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return ch.bins[a].from < ch.bins[b].from; });
    const double inf = std::numeric_limits<double>::infinity();
    if (ch.bins[order.front()].from != -inf) {
      issues.push_back({c, static_cast<int>(order.front()),
                        who + " has no bin for " + Interval(-inf, ch.bins[order.front()].from)});
    }
    for (size_t k = 1; k < order.size(); ++k) {
      const ScorecardBin& prev = ch.bins[order[k - 1]];
      const ScorecardBin& next = ch.bins[order[k]];
      const int at = static_cast<int>(order[k]);
      if (next.from > prev.to) {
        issues.push_back({c, at, who + " has no bin for " + Interval(prev.to, next.from)});
      } else if (next.from < prev.to) {
        issues.push_back({c, at,
                          "bins " + Interval(prev.from, prev.to) + " and " +
                              Interval(next.from, next.to) + " of " + who + " overlap on " +
                              Interval(next.from, std::min(prev.to, next.to))});
      }
    }
    if (ch.bins[order.back()].to != inf) {
      issues.push_back({c, static_cast<int>(order.back()),
                        who + " has no bin for " + Interval(ch.bins[order.back()].to, inf)});
    }
  }
  return issues;
}

Result<std::shared_ptr<const Scorecard>> Scorecard::Create(ScorecardDefinition def) {
  std::vector<ScorecardIssue> issues = Validate(def);
  if (!issues.empty()) return InvalidInput(issues.front().message);
  return std::shared_ptr<const Scorecard>(new Scorecard(std::move(def)));
}

Result<std::shared_ptr<const Scorecard>> Scorecard::LoadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open the model file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read the model file");
  return ParseJson(text.str(), path);
}

Result<std::shared_ptr<const Scorecard>> Scorecard::ParseJson(std::string_view json,
                                                              const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(ScorecardDefinition def, internal::ParseScorecardJson(json, name));
  std::vector<ScorecardIssue> issues = Validate(def);
  if (!issues.empty()) {
    const std::string at = internal::ScorecardJsonPath(issues.front());
    return InvalidInput(name + ": " + (at.empty() ? "" : at + ": ") + issues.front().message);
  }
  return std::shared_ptr<const Scorecard>(new Scorecard(std::move(def)));
}

Scorecard::Scorecard(ScorecardDefinition def) : def_(std::move(def)) {
  max_score_ = def_.base_points;
  for (const Characteristic& ch : def_.characteristics) {
    Compiled cc;
    std::vector<const ScorecardBin*> ranges;
    double best = -std::numeric_limits<double>::infinity();
    for (size_t bi = 0; bi < ch.bins.size(); ++bi) {
      const ScorecardBin& b = ch.bins[bi];
      best = std::max(best, b.points);
      switch (b.kind) {
        case Kind::kMissing:
          cc.missing_bin = static_cast<int>(bi);
          cc.missing_points = b.points;
          break;
        case Kind::kElse:
          cc.else_bin = static_cast<int>(bi);
          cc.else_points = b.points;
          break;
        case Kind::kValues:
          cc.categorical = true;
          for (const std::string& v : b.values) {
            cc.categories.push_back(v);
            cc.category_points.push_back(b.points);
          }
          break;
        case Kind::kRange:
          ranges.push_back(&b);
          break;
      }
    }
    std::stable_sort(
        ranges.begin(), ranges.end(),
        [](const ScorecardBin* a, const ScorecardBin* b) { return a->from < b->from; });
    for (size_t k = 0; k < ranges.size(); ++k) {
      if (k > 0) cc.cuts.push_back(ranges[k]->from);
      cc.cut_points.push_back(ranges[k]->points);
    }
    cc.max_points = best;
    max_score_ += best;
    chars_.push_back(std::move(cc));
  }
}

double Scorecard::Points(size_t c, double x) const {
  const Compiled& cc = chars_[c];
  if (std::isnan(x)) {
    if (cc.missing_bin >= 0) return cc.missing_points;
    if (cc.categorical && cc.else_bin >= 0) return cc.else_points;
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (cc.categorical) {
    if (x >= 0 && x < static_cast<double>(cc.categories.size())) {
      return cc.category_points[static_cast<size_t>(x)];
    }
    return cc.else_bin >= 0 ? cc.else_points : std::numeric_limits<double>::quiet_NaN();
  }
  const size_t bin =
      static_cast<size_t>(std::upper_bound(cc.cuts.begin(), cc.cuts.end(), x) - cc.cuts.begin());
  return cc.cut_points[bin];
}

void Scorecard::Predict(const double* x, size_t rows, size_t stride, double* score,
                        double* points) const {
  const size_t n = chars_.size();
  for (size_t r = 0; r < rows; ++r) {
    double s = def_.base_points;
    for (size_t c = 0; c < n; ++c) {
      const double p = Points(c, x[r * stride + c]);
      points[r * n + c] = p;
      s += p;
    }
    score[r] = s;
  }
}

void Scorecard::Contributions(const double* row, double* out) const {
  for (size_t c = 0; c < chars_.size(); ++c) out[c] = chars_[c].max_points - Points(c, row[c]);
}

}  // namespace sluice::model
