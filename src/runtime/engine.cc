#include "runtime/engine.h"

#include <fmt/format.h>
#include <time.h>

#include <set>

#include "common/names.h"

namespace sluice::runtime {

namespace {
constexpr std::string_view kDecisionOutputs[] = {"action",  "rule",         "policy",
                                                 "reasons", "reason_codes", "reason_texts"};
}

std::shared_ptr<const Engine> Engine::Compile(pipeline::PipelineSpec spec,
                                              std::vector<Diagnostic>* diags) {
  std::shared_ptr<Engine> e(new Engine());
  const size_t errors_before = diags->size();
  expr::Scope scope;

  for (const auto& f : spec.fields) {
    int col = e->layout_.Add({f.name, f.type, std::nullopt});
    e->source_fields_.push_back({f.name, f.type, f.nullable, f.timestamp_format, col});
    expr::Symbol field(f.name, f.type, col, "field " + TypeName(f.type));
    field.never_null = !f.nullable;
    scope.Add(std::move(field));
  }

  for (const auto& [name, line] : spec.invalid_fields) {
    scope.AddUnavailable(
        name, fmt::format("the declaration of field '{}' (line {}) has an error", name, line));
  }
  int time_column = -1;
  for (const auto& f : e->source_fields_) {
    const pipeline::FieldSpec* spec_field = spec.FindField(f.name);
    if (spec_field != nullptr && spec_field->is_event_time) time_column = f.column;
  }
  e->windows_ = std::make_unique<features::FeatureSet>(time_column);
  expr::Compiler compiler(&e->layout_, &e->errors_);
  if (time_column >= 0) {
    compiler.set_window_registry(e->windows_.get());
  } else {
    compiler.set_window_registry(
        nullptr,
        "windowed aggregates need an event time: mark a timestamp field in 'source.schema' "
        "with 'event_time: true'");
  }
  // Later features are named in the scope as unavailable, for a clear message.
  for (const auto& f : spec.features) {
    scope.AddUnavailable(f.name, fmt::format("feature '{}' is defined later (line {}); a feature "
                                             "can use only fields and earlier features",
                                             f.name, f.where.line));
  }
  for (const auto& m : spec.models) {
    for (const char* out : {"score", "margin", "class"}) {
      scope.AddUnavailable(m.name + "." + out,
                           fmt::format("models run after every feature; '{}.{}' can be used by "
                                       "the decision rules",
                                       m.name, out));
    }
  }
  std::vector<std::pair<std::string, int>> feature_columns;
  for (const auto& f : spec.features) {
    auto compiled = compiler.Compile(f.expression.text, scope, *f.expression.locator, f.name,
                                     fmt::format("feature {}", f.name), diags);
    if (!compiled) {
      scope.AddUnavailable(f.name, fmt::format("the definition of feature '{}' (line {}) has an "
                                               "error",
                                               f.name, f.where.line));
      continue;
    }
    if (compiled->type.kind == TypeKind::kNull) {
      diags->push_back(
          {f.expression.where(),
           fmt::format("feature '{}' is always null; give its expression a type", f.name)});
      continue;
    }
    scope.Add({f.name, compiled->type, compiled->column, compiled->definition});
    feature_columns.emplace_back(f.name, compiled->column);
  }
  e->features_ = compiler.Finish();
  e->feature_columns_ = feature_columns;
  compiler.set_window_registry(nullptr,
                               "windowed aggregates can be used only in features; define a "
                               "feature with it and use the feature's name here");

  std::set<std::string> model_names;
  for (const auto& m : spec.models) {
    if (!model_names.insert(m.name).second) continue;
    for (const auto& f : spec.features) {
      if (f.name == m.name) {
        diags->push_back({m.where, fmt::format("model '{}' has the name of a feature (line {})",
                                               m.name, f.where.line)});
      }
    }
    auto stage = ModelStage::Compile(m, scope, e->layout_, diags);
    if (stage) {
      e->models_.push_back(std::move(*stage));
    } else {
      std::vector<std::string> outputs = {"score", "margin", "class"};
      if (m.scorecard) {
        for (const auto& c : m.scorecard->characteristics) outputs.push_back("points_" + c.input);
      }
      for (const auto& out : outputs) {
        scope.AddUnavailable(m.name + "." + out, fmt::format("model '{}' (line {}) has an error",
                                                             m.name, m.where.line));
      }
    }
  }

  if (spec.decision || !spec.policies.empty() || spec.challenger) {
    const Engine* engine = e.get();
    decide::ModelLookup find_model =
        [engine](std::string_view name) -> const decide::ContributionSource* {
      for (const auto& m : engine->models_) {
        if (m.name() == name) return &m;
      }
      return nullptr;
    };
    std::vector<std::string> all_models;
    for (const auto& m : spec.models) all_models.push_back(m.name);
    e->decision_ = decide::DecisionStage::Compile(spec, compiler, scope, e->layout_, e->errors_,
                                                  find_model, all_models, diags);
  }

  // Output columns.
  std::set<std::string> names;
  auto add_output = [&](const std::string& name, const SourceLocation& where) {
    if (!names.insert(name).second) {
      diags->push_back({where, fmt::format("output field '{}' is listed twice", name)});
      return;
    }
    if (const expr::Symbol* s = scope.Find(name)) {
      e->value_outputs_.emplace_back(name, s->column);
    } else if (!scope.Unavailable(name)) {
      diags->push_back({where, fmt::format("unknown output field '{}'{}", name,
                                           DidYouMean(name, scope.Names()))});
    }
  };
  if (spec.output_fields_given) {
    for (const auto& o : spec.output_fields) add_output(o.name, o.where);
  } else {
    for (const auto& f : spec.fields) {
      if (f.is_id || f.is_event_time) add_output(f.name, f.where);
    }
    for (const auto& f : spec.features) {
      if (scope.Find(f.name)) add_output(f.name, f.where);
    }
    for (const auto& m : e->models_) {
      for (const char* out : {"score", "class"}) {
        if (scope.Find(m.name() + "." + out)) add_output(m.name() + "." + out, {});
      }
    }
  }
  const bool decides = e->decision_ && e->decision_->has_decision();
  if (decides && spec.output_decision) {
    std::vector<std::string> reserved_names(std::begin(kDecisionOutputs),
                                            std::end(kDecisionOutputs));
    for (const auto& o : e->decision_->outputs()) reserved_names.push_back(o.name);
    for (const auto& reserved : reserved_names) {
      for (const auto& f : spec.features) {
        if (f.name == reserved) {
          diags->push_back({f.where, fmt::format("feature '{}' has the name of a decision output; "
                                                 "rename it or set 'output.decision: false'",
                                                 f.name)});
        }
      }
      for (const auto& f : spec.fields) {
        if (f.name == reserved && names.count(f.name)) {
          diags->push_back({f.where, fmt::format("output field '{}' has the name of a decision "
                                                 "output; leave it out of 'output.fields' or set "
                                                 "'output.decision: false'",
                                                 f.name)});
        }
      }
    }
  }

  if (diags->size() != errors_before) return nullptr;
  e->spec_ = std::move(spec);
  return e;
}

io::SourceOptions Engine::source_options() const {
  io::SourceOptions o;
  o.null_markers = spec_.null_values;
  return o;
}

std::vector<io::OutputColumn> Engine::OutputColumns(io::Format format) const {
  using Kind = io::OutputColumn::Kind;
  std::vector<io::OutputColumn> out;
  for (const auto& [name, col] : value_outputs_) out.push_back({name, Kind::kValue, col});
  if (decision_ && decision_->has_decision() && spec_.output_decision) {
    out.push_back({"action", Kind::kValue, decision_->action_column()});
    out.push_back({"rule", Kind::kValue, decision_->rule_column()});
    if (decision_->policy_column() >= 0) {
      out.push_back({"policy", Kind::kValue, decision_->policy_column()});
    }
    for (const auto& o : decision_->outputs()) out.push_back({o.name, Kind::kValue, o.column});
    if (format == io::Format::kCsv) {
      out.push_back({"reason_codes", Kind::kReasonCodes, -1});
      out.push_back({"reason_texts", Kind::kReasonTexts, -1});
    } else {
      out.push_back({"reasons", Kind::kReasons, -1});
    }
  }
  return out;
}

std::unique_ptr<features::FeatureState> Engine::NewFeatureState() const {
  if (windows_->empty()) return nullptr;
  return windows_->NewState();
}

namespace {
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

void Engine::Process(Batch& batch, features::FeatureState* state, StageTimes* times) const {
  const double t0 = times != nullptr ? ThreadCpuSeconds() : 0;
  if (state != nullptr) state->BeginBatch();
  features_.Run(batch, state);
  const double t1 = times != nullptr ? ThreadCpuSeconds() : 0;
  for (const auto& m : models_) m.Run(batch);
  const double t2 = times != nullptr ? ThreadCpuSeconds() : 0;
  if (decision_) decision_->Run(batch);
  if (times != nullptr) {
    const double t3 = ThreadCpuSeconds();
    times->features += t1 - t0;
    times->models += t2 - t1;
    times->decisions += t3 - t2;
  }
}

}  // namespace sluice::runtime
