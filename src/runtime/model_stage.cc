#include "runtime/model_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "common/names.h"

namespace sluice::runtime {

std::optional<ModelStage> ModelStage::Compile(const pipeline::ModelSpec& spec, expr::Scope& scope,
                                              BatchLayout& layout, std::vector<Diagnostic>* diags) {
  const size_t errors_before = diags->size();
  if (spec.resolved_path.empty() || spec.format.name != "xgboost") return std::nullopt;
  auto loaded = model::TreeEnsemble::LoadXgboostJson(spec.resolved_path);
  if (!loaded.ok()) {
    diags->push_back({spec.path_where, fmt::format("model '{}' cannot be loaded: {}", spec.name,
                                                   loaded.status().message())});
    return std::nullopt;
  }
  ModelStage stage;
  stage.name_ = spec.name;
  stage.model_ = *loaded;
  const model::TreeEnsemble& m = *stage.model_;
  const size_t n = m.num_features();
  const std::vector<std::string>& model_names = m.feature_names();

  // Which pipeline name feeds each model feature.
  std::vector<std::optional<pipeline::NamedRef>> source(n);
  if (spec.positional) {
    if (spec.inputs.size() != n) {
      diags->push_back({spec.where, fmt::format("model '{}' takes {} inputs; 'inputs' lists {}",
                                                spec.name, n, spec.inputs.size())});
      return std::nullopt;
    }
    for (size_t i = 0; i < n; ++i) source[i] = spec.inputs[i].second;
  } else {
    for (const auto& [model_feature, ref] : spec.inputs) {
      auto it = std::find(model_names.begin(), model_names.end(), model_feature);
      if (it == model_names.end()) {
        diags->push_back(
            {ref.where, fmt::format("model '{}' has no input '{}'{}", spec.name, model_feature,
                                    DidYouMean(model_feature, model_names))});
        continue;
      }
      source[static_cast<size_t>(it - model_names.begin())] = ref;
    }
    for (size_t i = 0; i < n; ++i) {
      if (source[i]) continue;
      if (i >= model_names.size() || model_names[i].empty()) {
        diags->push_back({spec.where, fmt::format("model '{}' stores no feature names: list its "
                                                  "{} inputs in order under 'inputs'",
                                                  spec.name, n)});
        return std::nullopt;
      }
      source[i] = pipeline::NamedRef{model_names[i], spec.where};
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const pipeline::NamedRef& ref = *source[i];
    const std::string label =
        i < model_names.size() && !model_names[i].empty() ? model_names[i] : fmt::format("#{}", i);
    const expr::Symbol* sym = scope.Find(ref.name);
    if (!sym) {
      diags->push_back(
          {ref.where,
           fmt::format("model '{}' needs input '{}' from '{}', which is not a field or "
                       "feature (map another under 'inputs'){}",
                       spec.name, label, ref.name, DidYouMean(ref.name, scope.Names()))});
      continue;
    }
    const TypeKind k = sym->type.kind;
    if (k != TypeKind::kInt64 && k != TypeKind::kFloat64 && k != TypeKind::kBool &&
        k != TypeKind::kEnum) {
      const std::string what = label == ref.name ? "" : fmt::format(" (from '{}')", ref.name);
      diags->push_back({ref.where, fmt::format("model '{}' input '{}'{} is {}; models take int64, "
                                               "float64, bool and enum values",
                                               spec.name, label, what, TypeName(sym->type))});
      continue;
    }
    stage.inputs_.push_back({sym->column, k});
  }
  if (diags->size() != errors_before) return std::nullopt;

  auto add = [&](const std::string& suffix, Type type) {
    const std::string full = spec.name + "." + suffix;
    const int col = layout.Add({full, type, std::nullopt});
    scope.Add({full, type, col});
    return col;
  };
  if (m.num_groups() == 1) {
    stage.score_column_ = add("score", Type::Float64());
    stage.margin_column_ = add("margin", Type::Float64());
  } else {
    stage.class_column_ = add("class", Type::Int64());
    // multi:softmax gives only the class; multi:softprob the probabilities too.
    for (size_t g = 0; g < m.num_groups() && m.num_outputs() > 1; ++g) {
      stage.prob_columns_.push_back(add(fmt::format("prob_{}", g), Type::Float64()));
    }
  }
  return stage;
}

void ModelStage::Run(Batch& batch) const {
  const size_t rows = batch.size();
  if (rows == 0) return;
  const size_t nf = inputs_.size();
  const size_t groups = model_->num_groups();
  const size_t outputs = model_->num_outputs();
  thread_local std::vector<float> x, margin, out;
  x.resize(rows * nf);
  margin.resize(rows * groups);
  out.resize(rows * outputs);
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  for (size_t f = 0; f < nf; ++f) {
    const Column& c = batch.column(inputs_[f].column);
    const uint8_t* valid = c.valid();
    float* dst = x.data() + f;
    switch (inputs_[f].kind) {
      case TypeKind::kFloat64: {
        const double* v = c.data<double>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * nf] = valid[r] ? static_cast<float>(v[r]) : kMissing;
        break;
      }
      case TypeKind::kInt64: {
        const int64_t* v = c.data<int64_t>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * nf] = valid[r] ? static_cast<float>(v[r]) : kMissing;
        break;
      }
      case TypeKind::kBool: {
        const uint8_t* v = c.data<uint8_t>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * nf] = valid[r] ? static_cast<float>(v[r]) : kMissing;
        break;
      }
      case TypeKind::kEnum: {
        const int32_t* v = c.data<int32_t>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * nf] = valid[r] ? static_cast<float>(v[r]) : kMissing;
        break;
      }
      default:
        break;
    }
  }
  model_->PredictMargin(x.data(), rows, nf, margin.data());
  model_->Transform(margin.data(), rows, out.data());
  if (groups == 1) {
    double* score = batch.column(score_column_).data<double>();
    double* raw = batch.column(margin_column_).data<double>();
    uint8_t* sv = batch.column(score_column_).valid();
    uint8_t* mv = batch.column(margin_column_).valid();
    for (size_t r = 0; r < rows; ++r) {
      score[r] = out[r];
      raw[r] = margin[r];
      sv[r] = std::isfinite(out[r]);
      mv[r] = std::isfinite(margin[r]);
    }
    return;
  }
  int64_t* cls = batch.column(class_column_).data<int64_t>();
  uint8_t* cv = batch.column(class_column_).valid();
  if (outputs == 1) {  // multi:softmax: the transform is the class
    for (size_t r = 0; r < rows; ++r) {
      cls[r] = static_cast<int64_t>(out[r]);
      cv[r] = 1;
    }
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    size_t best = 0;
    for (size_t g = 0; g < groups; ++g) {
      const float p = out[r * groups + g];
      double* dst = batch.column(prob_columns_[g]).data<double>();
      dst[r] = p;
      batch.column(prob_columns_[g]).valid()[r] = std::isfinite(p);
      if (p > out[r * groups + best]) best = g;
    }
    cls[r] = static_cast<int64_t>(best);
    cv[r] = 1;
  }
}

}  // namespace sluice::runtime
