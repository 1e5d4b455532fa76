#pragma once
// Linear and logistic models: margin = intercept + sum of coefficient * input,
// score = link(margin), with additive contributions measured from a
// reference point.
//
// Inputs are double, row-major (x[r * stride + i] is input i of row r), in the
// order of the definition's terms. NaN means missing: a missing input takes
// its reference value, so it contributes nothing.
//
// Thread safety: a LinearModel is immutable after creation and may be used by
// many threads at once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice::model {

enum class Link : uint8_t {
  kIdentity,  // score = margin
  kLogistic,  // score = 1 / (1 + exp(-margin))
  kExp,       // score = exp(margin) (log link: Poisson, gamma)
};
std::optional<Link> ParseLink(std::string_view name);
std::string_view LinkName(Link link);
// "identity", "logistic", "exp": for error messages.
const std::vector<std::string>& LinkNames();

struct LinearTerm {
  std::string input;
  double coefficient = 0;
  double reference = 0;  // contribution = coefficient * (x - reference)
};

struct LinearDefinition {
  double intercept = 0;
  Link link = Link::kIdentity;
  std::vector<LinearTerm> terms;
};

// A problem with a definition; `term` is the index of the term at fault, or
// -1 when the problem is not about one term.
struct DefinitionIssue {
  int term = -1;
  std::string message;
};

class LinearModel {
 public:
  // What is wrong with `def`: non-finite numbers, empty or repeated input
  // names, no terms, more than kMaxTerms terms. Empty when it is valid.
  static std::vector<DefinitionIssue> Validate(const LinearDefinition& def);
  static constexpr size_t kMaxTerms = 1u << 20;

  // Fails with InvalidInput (the first issue of Validate) when `def` is bad.
  static Result<std::shared_ptr<const LinearModel>> Create(LinearDefinition def);

  // A JSON file: {"intercept": -3.2, "coefficients": {"Age": -0.02, ...},
  // "link": "logistic", "reference": {"Age": 37}}. "link" and "reference" are
  // optional ("link" defaults to `default_link`); any other key is an error.
  // Errors name `name` (the path) and the key at fault.
  static Result<std::shared_ptr<const LinearModel>> LoadJson(const std::string& path,
                                                             Link default_link);
  static Result<std::shared_ptr<const LinearModel>> ParseJson(std::string_view json,
                                                              const std::string& name,
                                                              Link default_link);

  const LinearDefinition& definition() const { return def_; }
  size_t num_inputs() const { return def_.terms.size(); }
  Link link() const { return def_.link; }
  // intercept + sum of coefficient * reference: the margin at the reference
  // point, and the bias of Contributions.
  double bias() const { return bias_; }

  // Margins of `rows` rows. Allocates nothing.
  // REQUIRES: stride >= num_inputs().
  void PredictMargin(const double* x, size_t rows, size_t stride, double* margin) const;
  // Applies the link to `rows` margins (in place is allowed).
  void Transform(const double* margin, size_t rows, double* out) const;
  // out[i] = coefficient_i * (x_i - reference_i) (0 for a missing x_i), and
  // out[num_inputs()] = bias(); the values sum to the row's margin.
  void Contributions(const double* row, double* out) const;

 private:
  explicit LinearModel(LinearDefinition def);
  LinearDefinition def_;
  std::vector<double> coefficients_;  // flat copies for the scoring loop
  std::vector<double> references_;
  double bias_ = 0;
};

}  // namespace sluice::model
