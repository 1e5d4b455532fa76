#pragma once
// The pipeline loader: reads the YAML document into a PipelineSpec,
// checking structure and names. loader.cc holds the sections up to models,
// policy_loader.cc the policies (policies, decision, challenger).

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/internal/yaml_locator.h"
#include "pipeline/spec.h"

namespace sluice::pipeline::internal {

bool IsIdentifier(std::string_view s);
bool IsPipelineName(std::string_view s);
// "a scalar", "a list", ... for messages.
const char* NodeKind(const YAML::Node& n);

class Loader {
 public:
  Loader(const std::string& text, std::string file, std::vector<Diagnostic>* diags)
      : file_(std::move(file)),
        content_(std::make_shared<const std::string>(text)),
        lines_(std::make_shared<const LineIndex>(*content_)),
        diags_(diags) {}

  Result<PipelineSpec> Load();

 private:
  SourceLocation Where(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.is_null()) return {file_, 0, 0};
    return {file_, m.line + 1, m.column + 1};
  }
  void Error(const SourceLocation& where, std::string message) {
    diags_->push_back({where, std::move(message)});
  }
  void Error(const YAML::Node& n, std::string message) { Error(Where(n), std::move(message)); }

  // Checks that `map` is a mapping with only `allowed` keys and no key twice.
  bool CheckMap(const YAML::Node& map, std::string_view what,
                const std::vector<std::string>& allowed);
  std::optional<std::string> Scalar(const YAML::Node& n, std::string_view what);
  std::optional<bool> Bool(const YAML::Node& n, std::string_view what);
  std::optional<NamedRef> Name(const YAML::Node& n, std::string_view what);
  ExprText Expression(const YAML::Node& n);

  void LoadSource(const YAML::Node& n, PipelineSpec& spec);
  void LoadField(const YAML::Node& key, const YAML::Node& value, PipelineSpec& spec);
  void LoadFeatures(const YAML::Node& n, PipelineSpec& spec);
  // Policies (policy_loader.cc).
  void LoadPolicies(const YAML::Node& n, PipelineSpec& spec);
  std::optional<PolicySpec> LoadPolicy(const YAML::Node& n, std::string_view what,
                                       std::string default_name,
                                       const std::vector<std::string>& extra_keys);
  void LoadChallenger(const YAML::Node& n, PipelineSpec& spec);
  void LoadPolicyOutputs(const YAML::Node& n, PolicySpec& p);
  void LoadTable(const YAML::Node& n, PolicySpec& p);
  void LoadThresholds(const YAML::Node& n, PolicySpec& p);
  void LoadDefault(const YAML::Node& n, PolicySpec& p);
  void LoadSet(const YAML::Node& n, std::string_view what, std::vector<OutputValueSpec>* out);
  // The cells of a row (a list, or one value); nullopt after an error.
  std::optional<std::vector<CellSpec>> LoadCells(const YAML::Node& n, std::string_view what);
  std::optional<Type> LoadOutputType(const YAML::Node& n, std::string_view what);
  void LoadModels(const YAML::Node& n, PipelineSpec& spec);
  void LoadModelPath(const YAML::Node& body, ModelSpec& m, bool required);
  void LoadXgboostInputs(const YAML::Node& body, ModelSpec& m);
  void LoadLinearModel(const YAML::Node& body, const std::string& format, ModelSpec& m);
  void LoadScorecard(const YAML::Node& body, const PipelineSpec& spec, ModelSpec& m);
  std::optional<double> Number(const YAML::Node& n, std::string_view what);
  void LoadRule(const YAML::Node& n, size_t number, PolicySpec& p);
  void LoadReasonList(const YAML::Node& parent, std::string_view what, ReasonsSpec* out);
  void LoadReasonItem(const YAML::Node& v, ReasonsSpec* out);
  void LoadReasonCodes(const YAML::Node& n, PipelineSpec& spec);
  void LoadOutput(const YAML::Node& n, PipelineSpec& spec);

  std::string file_;
  // How messages name the policy being loaded: "policy 'band'", "the
  // decision", "the challenger" (policy_loader.cc).
  std::string policy_label_;
  std::shared_ptr<const std::string> content_;
  std::shared_ptr<const LineIndex> lines_;
  std::vector<Diagnostic>* diags_;
};

}  // namespace sluice::pipeline::internal
