#include "model/linear_model.h"

#include <simdjson.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace sluice::model {

std::optional<Link> ParseLink(std::string_view name) {
  if (name == "identity") return Link::kIdentity;
  if (name == "logistic") return Link::kLogistic;
  if (name == "exp") return Link::kExp;
  return std::nullopt;
}

std::string_view LinkName(Link link) {
  switch (link) {
    case Link::kIdentity:
      return "identity";
    case Link::kLogistic:
      return "logistic";
    case Link::kExp:
      return "exp";
  }
  return "?";
}

const std::vector<std::string>& LinkNames() {
  static const std::vector<std::string> kNames = {"identity", "logistic", "exp"};
  return kNames;
}

std::vector<DefinitionIssue> LinearModel::Validate(const LinearDefinition& def) {
  std::vector<DefinitionIssue> issues;
  if (!std::isfinite(def.intercept)) {
    issues.push_back({-1, "the intercept must be a finite number"});
  }
  if (def.terms.empty()) issues.push_back({-1, "a linear model needs at least one coefficient"});
  if (def.terms.size() > kMaxTerms) {
    issues.push_back({-1, "a linear model has at most " + std::to_string(kMaxTerms) +
                              " coefficients, found " + std::to_string(def.terms.size())});
    return issues;
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < def.terms.size(); ++i) {
    const LinearTerm& t = def.terms[i];
    const int at = static_cast<int>(i);
    if (t.input.empty()) issues.push_back({at, "an input name is empty"});
    if (!seen.insert(t.input).second) {
      issues.push_back({at, "input '" + t.input + "' has two coefficients"});
    }
    if (!std::isfinite(t.coefficient)) {
      issues.push_back({at, "the coefficient of '" + t.input + "' must be a finite number"});
    }
    if (!std::isfinite(t.reference)) {
      issues.push_back({at, "the reference of '" + t.input + "' must be a finite number"});
    }
  }
  return issues;
}

LinearModel::LinearModel(LinearDefinition def) : def_(std::move(def)) {
  bias_ = def_.intercept;
  for (const LinearTerm& t : def_.terms) {
    coefficients_.push_back(t.coefficient);
    references_.push_back(t.reference);
    bias_ += t.coefficient * t.reference;
  }
}

Result<std::shared_ptr<const LinearModel>> LinearModel::Create(LinearDefinition def) {
  std::vector<DefinitionIssue> issues = Validate(def);
  if (!issues.empty()) return InvalidInput(issues.front().message);
  return std::shared_ptr<const LinearModel>(new LinearModel(std::move(def)));
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

Result<double> JsonNumber(element e, const std::string& where) {
  double v = 0;
  int64_t i = 0;
  uint64_t u = 0;
  if (e.get(v) == simdjson::SUCCESS) return v;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  if (e.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return InvalidInput(where + ": expected a number");
}

}  // namespace

Result<std::shared_ptr<const LinearModel>> LinearModel::LoadJson(const std::string& path,
                                                                 Link default_link) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open the model file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read the model file");
  return ParseJson(text.str(), path, default_link);
}

Result<std::shared_ptr<const LinearModel>> LinearModel::ParseJson(std::string_view json,
                                                                  const std::string& name,
                                                                  Link default_link) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return InvalidInput(name + ": not valid JSON: " + simdjson::error_message(err));
  }
  object top;
  if (root.get(top) != simdjson::SUCCESS) {
    return InvalidInput(name + ": expected a JSON object with \"intercept\" and \"coefficients\"");
  }
  LinearDefinition def;
  def.link = default_link;
  bool have_intercept = false, have_coefficients = false;
  std::vector<std::pair<std::string, double>> references;
  for (auto field : top) {
    const std::string key(field.key);
    const std::string where = name + ": \"" + key + "\"";
    if (key == "intercept") {
      SLUICE_ASSIGN_OR_RETURN(def.intercept, JsonNumber(field.value, where));
      have_intercept = true;
    } else if (key == "link") {
      std::string_view s;
      if (field.value.get(s) != simdjson::SUCCESS) return InvalidInput(where + ": expected a text");
      auto link = ParseLink(s);
      if (!link) {
        return InvalidInput(where + ": unknown link '" + std::string(s) +
                            "'; expected identity, logistic or exp");
      }
      def.link = *link;
    } else if (key == "coefficients" || key == "reference") {
      object o;
      if (field.value.get(o) != simdjson::SUCCESS) {
        return InvalidInput(where + ": expected an object of input name -> number");
      }
      for (auto kv : o) {
        SLUICE_ASSIGN_OR_RETURN(double v, JsonNumber(kv.value, where + "." + std::string(kv.key)));
        if (key == "coefficients") {
          def.terms.push_back({std::string(kv.key), v, 0});
        } else {
          references.emplace_back(std::string(kv.key), v);
        }
      }
      if (key == "coefficients") have_coefficients = true;
    } else {
      return InvalidInput(name + ": unknown key \"" + key +
                          "\"; expected intercept, coefficients, link or reference");
    }
  }
  if (!have_intercept) return InvalidInput(name + ": missing key \"intercept\"");
  if (!have_coefficients) return InvalidInput(name + ": missing key \"coefficients\"");
  for (const auto& [input, value] : references) {
    bool found = false;
    for (LinearTerm& t : def.terms) {
      if (t.input == input) {
        t.reference = value;
        found = true;
      }
    }
    if (!found) {
      return InvalidInput(name + ": \"reference\" names '" + input + "', which has no coefficient");
    }
  }
  std::vector<DefinitionIssue> issues = Validate(def);
  if (!issues.empty()) return InvalidInput(name + ": " + issues.front().message);
  return std::shared_ptr<const LinearModel>(new LinearModel(std::move(def)));
}

void LinearModel::PredictMargin(const double* x, size_t rows, size_t stride, double* margin) const {
  const size_t n = coefficients_.size();
  const double* coef = coefficients_.data();
  const double* ref = references_.data();
  for (size_t r = 0; r < rows; ++r) {
    const double* row = x + r * stride;
    double m = def_.intercept;
    for (size_t i = 0; i < n; ++i) m += coef[i] * (std::isnan(row[i]) ? ref[i] : row[i]);
    margin[r] = m;
  }
}

void LinearModel::Transform(const double* margin, size_t rows, double* out) const {
  switch (def_.link) {
    case Link::kIdentity:
      for (size_t r = 0; r < rows; ++r) out[r] = margin[r];
      return;
    case Link::kLogistic:
      for (size_t r = 0; r < rows; ++r) out[r] = 1.0 / (1.0 + std::exp(-margin[r]));
      return;
    case Link::kExp:
      for (size_t r = 0; r < rows; ++r) out[r] = std::exp(margin[r]);
      return;
  }
}

void LinearModel::Contributions(const double* row, double* out) const {
  const size_t n = coefficients_.size();
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::isnan(row[i]) ? 0.0 : coefficients_[i] * (row[i] - references_[i]);
  }
  out[n] = bias_;
}

}  // namespace sluice::model
