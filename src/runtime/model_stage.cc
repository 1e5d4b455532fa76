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
  std::optional<ModelStage> stage;
  if (spec.format.name == "xgboost") {
    stage = CompileTrees(spec, scope, layout, diags);
  } else if (spec.format.name == "linear" || spec.format.name == "logistic") {
    stage = CompileLinear(spec, scope, layout, diags);
  } else if (spec.format.name == "scorecard") {
    stage = CompileScorecard(spec, scope, layout, diags);
  }
  if (stage) {
    for (const Input& in : stage->inputs_)
      stage->input_names_.push_back(layout.column(in.column).name);
  }
  return stage;  // nullopt: reported, also an unknown format (by the loader)
}

bool ModelStage::explainable() const {
  return scorecard_ || linear_ || (trees_ && trees_->num_groups() == 1);
}

void ModelStage::RowContributions(const Batch& batch, size_t row, double* out) const {
  const size_t n = inputs_.size();
  thread_local std::vector<double> x, c;
  thread_local std::vector<float> xf, cf;
  x.resize(n);
  constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < n; ++i) {
    const Column& col = batch.column(inputs_[i].column);
    if (!col.is_valid(row)) {
      x[i] = kMissing;
      continue;
    }
    switch (inputs_[i].kind) {
      case TypeKind::kFloat64:
        x[i] = col.data<double>()[row];
        break;
      case TypeKind::kInt64:
        x[i] = static_cast<double>(col.data<int64_t>()[row]);
        break;
      case TypeKind::kBool:
        x[i] = col.data<uint8_t>()[row] ? 1.0 : 0.0;
        break;
      case TypeKind::kEnum: {
        const auto v = static_cast<size_t>(col.data<int32_t>()[row]);
        x[i] = inputs_[i].codes.empty() ? static_cast<double>(v) : inputs_[i].codes[v];
        break;
      }
      default:
        x[i] = kMissing;
        break;
    }
  }
  if (trees_) {
    // The trees compare in float32, as they were scored.
    xf.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const Column& col = batch.column(inputs_[i].column);
      xf[i] = inputs_[i].kind == TypeKind::kInt64 && col.is_valid(row)
                  ? static_cast<float>(col.data<int64_t>()[row])
                  : static_cast<float>(x[i]);
    }
    cf.resize((trees_->num_features() + 1) * trees_->num_groups());
    trees_->Contributions(xf.data(), cf.data());
    for (size_t i = 0; i < n; ++i) out[i] = cf[i];
  } else if (linear_) {
    c.resize(n + 1);
    linear_->Contributions(x.data(), c.data());
    for (size_t i = 0; i < n; ++i) out[i] = c[i];
  } else if (scorecard_) {
    c.resize(n + 1);
    scorecard_->Contributions(x.data(), c.data());
    for (size_t i = 0; i < n; ++i) out[i] = c[i];
  }
}

namespace {

int AddOutput(const std::string& model, const std::string& suffix, Type type, expr::Scope& scope,
              BatchLayout& layout) {
  const std::string full = model + "." + suffix;
  const int col = layout.Add({full, type, std::nullopt});
  scope.Add({full, type, col});
  return col;
}

// The symbol a model input names, or nullptr after a diagnostic.
const expr::Symbol* FindInput(const pipeline::ModelSpec& spec, const std::string& name,
                              const SourceLocation& where, const expr::Scope& scope,
                              std::vector<Diagnostic>* diags) {
  const expr::Symbol* sym = scope.Find(name);
  if (!sym) {
    diags->push_back({where, fmt::format("model '{}' input '{}' is not a field or feature{}",
                                         spec.name, name, DidYouMean(name, scope.Names()))});
  }
  return sym;
}

}  // namespace

std::optional<ModelStage> ModelStage::CompileTrees(const pipeline::ModelSpec& spec,
                                                   expr::Scope& scope, BatchLayout& layout,
                                                   std::vector<Diagnostic>* diags) {
  const size_t errors_before = diags->size();
  if (spec.resolved_path.empty()) return std::nullopt;
  auto loaded = model::TreeEnsemble::LoadXgboostJson(spec.resolved_path);
  if (!loaded.ok()) {
    diags->push_back({spec.path_where, fmt::format("model '{}' cannot be loaded: {}", spec.name,
                                                   loaded.status().message())});
    return std::nullopt;
  }
  ModelStage stage;
  stage.name_ = spec.name;
  stage.trees_ = *loaded;
  const model::TreeEnsemble& m = *stage.trees_;
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
    stage.inputs_.push_back({sym->column, k, {}});
  }
  if (diags->size() != errors_before) return std::nullopt;

  auto add = [&](const std::string& suffix, Type type) {
    return AddOutput(spec.name, suffix, type, scope, layout);
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
  if (batch.size() == 0) return;
  if (trees_) {
    RunTrees(batch);
  } else if (linear_) {
    RunLinear(batch);
  } else {
    RunScorecard(batch);
  }
}

void ModelStage::RunTrees(Batch& batch) const {
  const size_t rows = batch.size();
  const size_t nf = inputs_.size();
  const size_t groups = trees_->num_groups();
  const size_t outputs = trees_->num_outputs();
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
  trees_->PredictMargin(x.data(), rows, nf, margin.data());
  trees_->Transform(margin.data(), rows, out.data());
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

std::optional<ModelStage> ModelStage::CompileLinear(const pipeline::ModelSpec& spec,
                                                    expr::Scope& scope, BatchLayout& layout,
                                                    std::vector<Diagnostic>* diags) {
  const size_t errors_before = diags->size();
  ModelStage stage;
  stage.name_ = spec.name;
  std::vector<SourceLocation> where = spec.term_where;
  if (spec.linear) {
    auto created = model::LinearModel::Create(*spec.linear);
    if (!created.ok()) {
      diags->push_back(
          {spec.where, fmt::format("model '{}': {}", spec.name, created.status().message())});
      return std::nullopt;
    }
    stage.linear_ = *created;
  } else if (!spec.resolved_path.empty()) {
    auto loaded = model::LinearModel::LoadJson(spec.resolved_path, spec.link);
    if (!loaded.ok()) {
      diags->push_back({spec.path_where, fmt::format("model '{}' cannot be loaded: {}", spec.name,
                                                     loaded.status().message())});
      return std::nullopt;
    }
    stage.linear_ = *loaded;
    const model::Link file_link = stage.linear_->link();
    if ((spec.link_given || spec.format.name == "logistic") && file_link != spec.link) {
      diags->push_back(
          {spec.link_given ? spec.link_where : spec.format.where,
           fmt::format("model '{}' has link '{}' but its file '{}' says '{}'", spec.name,
                       model::LinkName(spec.link), spec.path, model::LinkName(file_link))});
      return std::nullopt;
    }
    where.assign(stage.linear_->num_inputs(), spec.path_where);
  } else {
    return std::nullopt;  // the loader reported what is missing
  }
  const model::LinearDefinition& def = stage.linear_->definition();
  for (size_t i = 0; i < def.terms.size(); ++i) {
    const std::string& input = def.terms[i].input;
    const expr::Symbol* sym = FindInput(spec, input, where[i], scope, diags);
    if (!sym) continue;
    const TypeKind k = sym->type.kind;
    if (k != TypeKind::kInt64 && k != TypeKind::kFloat64 && k != TypeKind::kBool) {
      diags->push_back({where[i], fmt::format("model '{}' input '{}' is {}; linear models take "
                                              "int64, float64 and bool values",
                                              spec.name, input, TypeName(sym->type))});
      continue;
    }
    stage.inputs_.push_back({sym->column, k, {}});
  }
  if (diags->size() != errors_before) return std::nullopt;
  stage.score_column_ = AddOutput(spec.name, "score", Type::Float64(), scope, layout);
  stage.margin_column_ = AddOutput(spec.name, "margin", Type::Float64(), scope, layout);
  return stage;
}

std::optional<ModelStage> ModelStage::CompileScorecard(const pipeline::ModelSpec& spec,
                                                       expr::Scope& scope, BatchLayout& layout,
                                                       std::vector<Diagnostic>* diags) {
  if (!spec.scorecard) return std::nullopt;  // the loader reported why
  const size_t errors_before = diags->size();
  auto created = model::Scorecard::Create(*spec.scorecard);
  if (!created.ok()) {
    diags->push_back(
        {spec.where, fmt::format("scorecard '{}': {}", spec.name, created.status().message())});
    return std::nullopt;
  }
  ModelStage stage;
  stage.name_ = spec.name;
  stage.scorecard_ = *created;
  const model::Scorecard& card = *stage.scorecard_;
  const model::ScorecardDefinition& def = card.definition();
  for (size_t c = 0; c < def.characteristics.size(); ++c) {
    const model::Characteristic& ch = def.characteristics[c];
    const pipeline::CharacteristicLocation& loc = spec.characteristic_where[c];
    const expr::Symbol* sym = FindInput(spec, ch.input, loc.input, scope, diags);
    if (!sym) continue;
    const TypeKind k = sym->type.kind;
    if (!card.is_categorical(c)) {
      if (k != TypeKind::kInt64 && k != TypeKind::kFloat64) {
        diags->push_back({loc.input, fmt::format("scorecard '{}' input '{}' is {}; range bins "
                                                 "(from/to) take int64 and float64 values",
                                                 spec.name, ch.input, TypeName(sym->type))});
        continue;
      }
      stage.inputs_.push_back({sym->column, k, {}});
      continue;
    }
    if (k != TypeKind::kEnum) {
      diags->push_back({loc.input, fmt::format("scorecard '{}' input '{}' is {}; value bins take "
                                               "enum values (declare the field as an enum so "
                                               "that every value is known to have a bin)",
                                               spec.name, ch.input, TypeName(sym->type))});
      continue;
    }
    const EnumDomain& domain = *sym->type.domain;
    // Every listed value must be one of the enum's.
    for (size_t b = 0; b < ch.bins.size(); ++b) {
      for (size_t v = 0; v < ch.bins[b].values.size(); ++v) {
        const std::string& value = ch.bins[b].values[v];
        if (domain.Find(value) < 0) {
          diags->push_back({loc.bins[b].values[v],
                            fmt::format("scorecard '{}': '{}' is not a value of '{}' (its values "
                                        "are {}){}",
                                        spec.name, value, ch.input, QuotedList(domain.values()),
                                        DidYouMean(value, domain.values()))});
        }
      }
    }
    const std::vector<std::string>& categories = card.categories(c);
    Input in{sym->column, k, std::vector<double>(domain.size(), -1.0)};
    std::vector<std::string> uncovered;
    for (size_t e = 0; e < domain.size(); ++e) {
      auto it = std::find(categories.begin(), categories.end(), domain.values()[e]);
      if (it != categories.end()) {
        in.codes[e] = static_cast<double>(it - categories.begin());
      } else {
        uncovered.push_back(domain.values()[e]);
      }
    }
    if (!uncovered.empty() && !card.has_else(c)) {
      diags->push_back({loc.input, fmt::format("scorecard '{}': no bin of '{}' takes {}; add them "
                                               "to a bin or add {{else: true, points: ...}}",
                                               spec.name, ch.input, QuotedList(uncovered))});
      continue;
    }
    stage.inputs_.push_back(std::move(in));
  }
  if (diags->size() != errors_before) return std::nullopt;
  stage.score_column_ = AddOutput(spec.name, "score", Type::Float64(), scope, layout);
  for (const model::Characteristic& ch : def.characteristics) {
    stage.points_columns_.push_back(
        AddOutput(spec.name, "points_" + ch.input, Type::Float64(), scope, layout));
  }
  return stage;
}

void ModelStage::GatherInputs(const Batch& batch, size_t rows, double* x) const {
  const size_t n = inputs_.size();
  constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < n; ++i) {
    const Column& c = batch.column(inputs_[i].column);
    const uint8_t* valid = c.valid();
    double* dst = x + i;
    switch (inputs_[i].kind) {
      case TypeKind::kFloat64: {
        const double* v = c.data<double>();
        for (size_t r = 0; r < rows; ++r) dst[r * n] = valid[r] ? v[r] : kMissing;
        break;
      }
      case TypeKind::kInt64: {
        const int64_t* v = c.data<int64_t>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * n] = valid[r] ? static_cast<double>(v[r]) : kMissing;
        break;
      }
      case TypeKind::kBool: {
        const uint8_t* v = c.data<uint8_t>();
        for (size_t r = 0; r < rows; ++r)
          dst[r * n] = valid[r] && v[r] ? 1.0 : valid[r] ? 0.0 : kMissing;
        break;
      }
      case TypeKind::kEnum: {
        const int32_t* v = c.data<int32_t>();
        const std::vector<double>& codes = inputs_[i].codes;
        for (size_t r = 0; r < rows; ++r) {
          dst[r * n] = !valid[r] ? kMissing : codes[static_cast<size_t>(v[r])];
        }
        break;
      }
      default:
        break;
    }
  }
}

void ModelStage::RunLinear(Batch& batch) const {
  const size_t rows = batch.size();
  thread_local std::vector<double> x, margin, score;
  x.resize(rows * inputs_.size());
  margin.resize(rows);
  score.resize(rows);
  GatherInputs(batch, rows, x.data());
  linear_->PredictMargin(x.data(), rows, inputs_.size(), margin.data());
  linear_->Transform(margin.data(), rows, score.data());
  double* s = batch.column(score_column_).data<double>();
  double* m = batch.column(margin_column_).data<double>();
  uint8_t* sv = batch.column(score_column_).valid();
  uint8_t* mv = batch.column(margin_column_).valid();
  for (size_t r = 0; r < rows; ++r) {
    s[r] = score[r];
    m[r] = margin[r];
    sv[r] = std::isfinite(score[r]);
    mv[r] = std::isfinite(margin[r]);
  }
}

void ModelStage::RunScorecard(Batch& batch) const {
  const size_t rows = batch.size();
  const size_t n = inputs_.size();
  thread_local std::vector<double> x, score, points;
  x.resize(rows * n);
  score.resize(rows);
  points.resize(rows * n);
  GatherInputs(batch, rows, x.data());
  scorecard_->Predict(x.data(), rows, n, score.data(), points.data());
  double* s = batch.column(score_column_).data<double>();
  uint8_t* sv = batch.column(score_column_).valid();
  for (size_t r = 0; r < rows; ++r) {
    s[r] = score[r];
    sv[r] = std::isfinite(score[r]);
  }
  for (size_t c = 0; c < n; ++c) {
    double* p = batch.column(points_columns_[c]).data<double>();
    uint8_t* pv = batch.column(points_columns_[c]).valid();
    for (size_t r = 0; r < rows; ++r) {
      p[r] = points[r * n + c];
      pv[r] = std::isfinite(p[r]);
    }
  }
}

}  // namespace sluice::runtime
