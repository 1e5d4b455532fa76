#pragma once
// Points-based scorecards: each characteristic (one input) maps its value to
// a bin and the bin to points; score = base points + the points of every
// characteristic.
//
// A characteristic is numeric (range bins) or categorical (value bins):
//  - range bins are half-open, [from, to); the first may start at -infinity
//    and the last end at +infinity, and together they must cover the whole
//    line with no gap and no overlap, so every number falls in exactly one;
//  - value bins list values (each at most once); an optional `else` bin takes
//    every value not listed;
//  - an optional `missing` bin takes a missing input. Without one, a missing
//    categorical input takes the `else` bin; otherwise it gets no points: its
//    points and the score are NaN (the pipeline check requires a `missing`
//    bin wherever an input may be null, so this does not happen there).
//
// Inputs are double, row-major (x[r * stride + c] for characteristic c of row
// r). For a numeric characteristic the value itself; for a categorical one
// the index of the value in categories(c) (a negative or too large index is a
// value that is not listed); NaN means missing.
//
// Contributions are "points below the maximum": for each characteristic, the
// most points any of its bins gives minus the points this row got, so they
// are never negative and sum to max_score() - score. A reason for a low score
// is a characteristic with a large value.
//
// Thread safety: immutable after creation; may be used by many threads.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/linear_model.h"
#include "sluice/status.h"

namespace sluice::model {

struct ScorecardBin {
  enum class Kind : uint8_t { kRange, kValues, kMissing, kElse };
  Kind kind = Kind::kRange;
  double from = -std::numeric_limits<double>::infinity();  // kRange: inclusive
  double to = std::numeric_limits<double>::infinity();     // kRange: exclusive
  std::vector<std::string> values;                         // kValues
  double points = 0;
};

struct Characteristic {
  std::string input;
  std::vector<ScorecardBin> bins;
};

struct ScorecardDefinition {
  double base_points = 0;
  std::vector<Characteristic> characteristics;
};

// A problem with a scorecard definition: the characteristic and bin at fault
// (-1 when not about one).
struct ScorecardIssue {
  int characteristic = -1;
  int bin = -1;
  std::string message;
};

class Scorecard {
 public:
  static constexpr size_t kMaxCharacteristics = 1u << 16;
  static constexpr size_t kMaxBins = 1u << 16;  // per characteristic

  // Everything wrong with `def`: non-finite points, from >= to, gaps and
  // overlaps between range bins (naming the interval), a value listed twice,
  // range and value bins mixed, `else` with range bins, two `missing` or
  // `else` bins, a characteristic without range or value bins, an input used
  // by two characteristics. Empty when valid.
  static std::vector<ScorecardIssue> Validate(const ScorecardDefinition& def);
  // Fails with InvalidInput (the first issue) when `def` is bad.
  static Result<std::shared_ptr<const Scorecard>> Create(ScorecardDefinition def);

  // A JSON file with the layout of a scorecard written in a pipeline:
  //   {"base_points": 600,
  //    "characteristics": [
  //      {"input": "Age", "bins": [{"to": 25, "points": 10},
  //                                {"from": 25, "points": 30},
  //                                {"missing": true, "points": 15}]},
  //      {"input": "Home", "bins": [{"values": ["owner"], "points": 40},
  //                                 {"else": true, "points": 5}]}]}
  // A bin is exactly one of from/to (either may be left out), values,
  // "missing": true or "else": true, with points. Every other key is
  // required; an unknown or repeated key is an error, and so is everything
  // Validate reports. Errors name `name` (the path) and the JSON path at
  // fault: "card.json: characteristics[0].bins[1]: bins [-inf, 30) and
  // [25, inf) of characteristic 'Age' overlap on [25, 30)".
  static Result<std::shared_ptr<const Scorecard>> LoadJson(const std::string& path);
  static Result<std::shared_ptr<const Scorecard>> ParseJson(std::string_view json,
                                                            const std::string& name);

  const ScorecardDefinition& definition() const { return def_; }
  size_t num_characteristics() const { return def_.characteristics.size(); }
  bool is_categorical(size_t c) const { return chars_[c].categorical; }
  // The values a categorical characteristic lists, in order of appearance:
  // its input codes.
  const std::vector<std::string>& categories(size_t c) const { return chars_[c].categories; }
  bool has_else(size_t c) const { return chars_[c].else_bin >= 0; }
  bool has_missing(size_t c) const { return chars_[c].missing_bin >= 0; }
  double max_points(size_t c) const { return chars_[c].max_points; }
  // base points + the maximum of every characteristic.
  double max_score() const { return max_score_; }

  // Scores `rows` rows: score[r], and points[r * num_characteristics() + c].
  // Allocates nothing. REQUIRES: stride >= num_characteristics().
  void Predict(const double* x, size_t rows, size_t stride, double* score, double* points) const;
  // out[c] = max_points(c) - the points of characteristic c for `row`.
  void Contributions(const double* row, double* out) const;

 private:
  struct Compiled {
    bool categorical = false;
    std::vector<double> cuts;        // numeric: bin i is [cuts[i-1], cuts[i])
    std::vector<double> cut_points;  // numeric: points of each range, cuts.size() + 1
    std::vector<std::string> categories;
    std::vector<double> category_points;  // categorical: points per category code
    int else_bin = -1, missing_bin = -1;
    double else_points = 0, missing_points = 0;
    double max_points = 0;
  };
  explicit Scorecard(ScorecardDefinition def);
  double Points(size_t c, double x) const;

  ScorecardDefinition def_;
  std::vector<Compiled> chars_;
  double max_score_ = 0;
};

}  // namespace sluice::model
