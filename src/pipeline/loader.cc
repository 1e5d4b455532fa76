#include "pipeline/internal/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/fnv.h"
#include "common/names.h"
#include "pipeline/internal/yaml_locator.h"
#include "pipeline/spec.h"

namespace sluice::pipeline {

const FieldSpec* PipelineSpec::FindField(std::string_view n) const {
  for (const auto& f : fields) {
    if (f.name == n) return &f;
  }
  return nullptr;
}

const ReasonCodeSpec* PipelineSpec::FindReason(std::string_view code) const {
  for (const auto& r : reason_codes) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

namespace internal {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

bool IsPipelineName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

const char* NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined node";
  }
}

bool Loader::CheckMap(const YAML::Node& map, std::string_view what,
                      const std::vector<std::string>& allowed) {
  if (!map.IsMap()) {
    Error(map, fmt::format("{} must be a mapping, found {}", what, NodeKind(map)));
    return false;
  }
  std::unordered_map<std::string, int> seen;
  bool ok = true;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      Error(kv.first, fmt::format("keys of {} must be names, found {}", what, NodeKind(kv.first)));
      ok = false;
      continue;
    }
    const std::string key = kv.first.Scalar();
    auto [it, inserted] = seen.emplace(key, kv.first.Mark().line + 1);
    if (!inserted) {
      Error(kv.first,
            fmt::format("duplicate key '{}' in {} (first at line {})", key, what, it->second));
      ok = false;
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string hint = DidYouMean(key, allowed);
      if (hint.empty()) hint = "; expected one of " + QuotedList(allowed);
      Error(kv.first, fmt::format("unknown key '{}' in {}{}", key, what, hint));
      ok = false;
    }
  }
  return ok;
}

std::optional<std::string> Loader::Scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) {
    Error(n, fmt::format("{} must be a single value, found {}", what, NodeKind(n)));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> Loader::Bool(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  Error(n, fmt::format("{} must be true or false, found '{}'", what, *s));
  return std::nullopt;
}

std::optional<NamedRef> Loader::Name(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (!s) return std::nullopt;
  if (!IsIdentifier(*s)) {
    Error(n, fmt::format("{} must be a name (letters, digits and '_', not starting with a "
                         "digit), found '{}'",
                         what, *s));
    return std::nullopt;
  }
  return NamedRef{*s, Where(n)};
}

ExprText Loader::Expression(const YAML::Node& n) {
  ExprText e;
  e.text = n.IsScalar() ? n.Scalar() : "";
  size_t pos = n.Mark().is_null() ? 0 : static_cast<size_t>(n.Mark().pos);
  e.locator = std::make_shared<ScalarLocator>(file_, content_, lines_, e.text, pos);
  return e;
}

namespace {

// Deeply nested flow collections ("[[[[...") would make the YAML parser
// recurse without bound; no pipeline needs more than a few levels.
std::optional<size_t> ExcessiveNesting(const std::string& text, int limit) {
  int depth = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') comment = false;
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#')
      comment = true;
    else if (c == '\'' || c == '"')
      quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

// Offset of the first byte that is not part of valid UTF-8 text (or is NUL).
std::optional<size_t> FirstInvalidUtf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + len > n) return i;
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::nullopt;
}

constexpr size_t kMaxPipelineBytes = 16u << 20;
constexpr int kMaxNesting = 64;

}  // namespace

Result<PipelineSpec> Loader::Load() {
  PipelineSpec spec;
  spec.file = file_;
  spec.content_hash = ::sluice::Fnv1a64Hex(*content_);
  if (content_->size() > kMaxPipelineBytes) {
    Error(SourceLocation{file_, 0, 0}, fmt::format("the pipeline file is {} bytes; the limit is {}",
                                                   content_->size(), kMaxPipelineBytes));
    return InvalidPipeline("pipeline file too large");
  }
  if (auto bad = FirstInvalidUtf8(*content_)) {
    auto [line, column] = lines_->Position(*bad);
    Error(SourceLocation{file_, line, column},
          fmt::format("the pipeline file is not valid UTF-8 text (byte 0x{:02X})",
                      static_cast<unsigned char>((*content_)[*bad])));
    return InvalidPipeline("not UTF-8");
  }
  if (auto at = ExcessiveNesting(*content_, kMaxNesting)) {
    auto [line, column] = lines_->Position(*at);
    Error(SourceLocation{file_, line, column},
          fmt::format("lists and mappings are nested more than {} levels deep", kMaxNesting));
    return InvalidPipeline("nesting too deep");
  }
  YAML::Node root;
  try {
    root = YAML::Load(*content_);
  } catch (const YAML::Exception& e) {
    SourceLocation where{file_, e.mark.is_null() ? 0 : e.mark.line + 1,
                         e.mark.is_null() ? 0 : e.mark.column + 1};
    Error(where, fmt::format("not valid YAML: {}", e.msg));
    return InvalidPipeline("not valid YAML");
  }
  if (!root.IsMap()) {
    Error(SourceLocation{file_, root.IsNull() ? 0 : Where(root).line,
                         root.IsNull() ? 0 : Where(root).column},
          fmt::format("a pipeline file must be a mapping with keys 'pipeline', 'source', ..., "
                      "found {}",
                      NodeKind(root)));
    return InvalidPipeline("not a pipeline");
  }
  static const std::vector<std::string> kTop = {
      "pipeline", "version",  "description", "source",       "features", "models",
      "policies", "decision", "challenger",  "reason_codes", "output"};
  CheckMap(root, "the pipeline", kTop);

  if (YAML::Node n = root["pipeline"]; n) {
    if (auto s = Scalar(n, "'pipeline' (the pipeline's name)")) {
      if (!IsPipelineName(*s)) {
        Error(n, fmt::format("the pipeline's name may use letters, digits, '_', '-' and '.', "
                             "found '{}'",
                             *s));
      }
      spec.name = *s;
    }
  } else {
    Error(SourceLocation{file_, 1, 1}, "missing key 'pipeline' (the pipeline's name)");
  }
  if (YAML::Node n = root["version"]; n) {
    if (auto s = Scalar(n, "'version'")) spec.version = *s;
  }
  if (YAML::Node n = root["description"]; n) {
    if (auto s = Scalar(n, "'description'")) spec.description = *s;
  }
  if (YAML::Node n = root["source"]; n) {
    LoadSource(n, spec);
  } else {
    Error(SourceLocation{file_, 1, 1}, "missing key 'source' (the input schema)");
  }
  // Reason codes first, so that rules can be checked against them.
  if (YAML::Node n = root["reason_codes"]; n) LoadReasonCodes(n, spec);
  if (YAML::Node n = root["features"]; n) LoadFeatures(n, spec);
  if (YAML::Node n = root["models"]; n) LoadModels(n, spec);
  if (YAML::Node n = root["policies"]; n) LoadPolicies(n, spec);
  if (YAML::Node n = root["decision"]; n) {
    spec.decision = LoadPolicy(n, "'decision'", "champion", {});
  }
  if (YAML::Node n = root["challenger"]; n) LoadChallenger(n, spec);
  if (YAML::Node n = root["output"]; n) LoadOutput(n, spec);
  return spec;
}

void Loader::LoadSource(const YAML::Node& n, PipelineSpec& spec) {
  if (!CheckMap(n, "'source'", {"schema", "format", "null_values", "lateness"})) {
    if (!n.IsMap()) return;
  }
  if (YAML::Node f = n["format"]; f) {
    if (auto s = Scalar(f, "'source.format'")) {
      if (*s != "csv" && *s != "jsonl") {
        Error(f, fmt::format("'source.format' must be csv or jsonl, found '{}'", *s));
      } else {
        spec.input_format = *s;
      }
    }
  }
  if (YAML::Node nv = n["null_values"]; nv) {
    if (!nv.IsSequence()) {
      Error(nv,
            fmt::format("'source.null_values' must be a list of texts, found {}", NodeKind(nv)));
    } else {
      spec.null_values.clear();
      for (const auto& v : nv) {
        if (v.IsNull()) {
          spec.null_values.emplace_back("");
        } else if (auto s = Scalar(v, "an entry of 'source.null_values'")) {
          spec.null_values.push_back(*s);
        }
      }
    }
  }
  if (YAML::Node l = n["lateness"]; l) {
    if (auto text = Scalar(l, "'source.lateness'")) {
      auto ns = expr::ParseDuration(*text);
      if (!ns) {
        Error(l, fmt::format("'source.lateness' must be a duration such as 5s, 2m or 500ms, "
                             "found '{}'",
                             *text));
      } else {
        spec.lateness_ns = *ns;
        spec.lateness_text = *text;
      }
    }
  }
  YAML::Node schema = n["schema"];
  if (!schema) {
    Error(n, "'source' has no 'schema' (the input fields and their types)");
    return;
  }
  if (!CheckMap(schema, "'source.schema'", {})) {
    if (!schema.IsMap()) return;
  }
  if (schema.size() == 0) Error(schema, "'source.schema' declares no fields");
  std::set<std::string> names;
  for (const auto& kv : schema) {
    if (!kv.first.IsScalar()) continue;
    if (names.count(kv.first.Scalar())) continue;  // reported as a duplicate key
    names.insert(kv.first.Scalar());
    const size_t before = diags_->size();
    LoadField(kv.first, kv.second, spec);
    if (diags_->size() != before &&
        (spec.fields.empty() || spec.fields.back().name != kv.first.Scalar())) {
      spec.invalid_fields.emplace_back(kv.first.Scalar(), kv.first.Mark().line + 1);
    }
  }
  int ids = 0, times = 0;
  for (const auto& f : spec.fields) {
    if (f.is_id && ++ids == 2) {
      Error(f.where,
            fmt::format("field '{}' is a second id field; a schema has at most one", f.name));
    }
    if (f.is_event_time && ++times == 2) {
      Error(
          f.where,
          fmt::format("field '{}' is a second event_time field; a schema has at most one", f.name));
    }
  }
}

void Loader::LoadField(const YAML::Node& key, const YAML::Node& value, PipelineSpec& spec) {
  static const std::vector<std::string> kTypes = {"bool",   "int64",     "float64",
                                                  "string", "timestamp", "enum"};
  FieldSpec f;
  f.name = key.Scalar();
  f.where = Where(key);
  if (!IsIdentifier(f.name)) {
    Error(key, fmt::format("field name must be a name (letters, digits and '_', not starting "
                           "with a digit), found '{}'",
                           f.name));
    return;
  }
  // Copy-constructed, not reset(): reset() throws on a missing key.
  const YAML::Node type_node = value.IsMap() ? value["type"] : value;
  std::string type_name;
  if (value.IsScalar()) {
    type_name = value.Scalar();
  } else if (value.IsMap()) {
    CheckMap(value, fmt::format("field '{}'", f.name),
             {"type", "nullable", "id", "event_time", "format", "values", "description"});
    if (!type_node) {
      Error(value, fmt::format("field '{}' has no 'type'; expected one of {}", f.name,
                               QuotedList(kTypes)));
      return;
    }
    auto t = Scalar(type_node, fmt::format("the type of field '{}'", f.name));
    if (!t) return;
    type_name = *t;
  } else {
    Error(value.IsNull() ? key : value, fmt::format("field '{}' needs a type (one of {}), found {}",
                                                    f.name, QuotedList(kTypes), NodeKind(value)));
    return;
  }
  static const std::unordered_map<std::string, TypeKind> kKinds = {
      {"bool", TypeKind::kBool},           {"int64", TypeKind::kInt64},
      {"float64", TypeKind::kFloat64},     {"string", TypeKind::kString},
      {"timestamp", TypeKind::kTimestamp}, {"enum", TypeKind::kEnum}};
  auto kind = kKinds.find(type_name);
  if (kind == kKinds.end()) {
    std::string hint = DidYouMean(type_name, kTypes);
    if (hint.empty()) hint = "; expected one of " + QuotedList(kTypes);
    Error(type_node, fmt::format("unknown type '{}' for field '{}'{}", type_name, f.name, hint));
    return;
  }
  f.type.kind = kind->second;
  if (value.IsMap()) {
    if (YAML::Node n = value["nullable"]; n) {
      if (auto b = Bool(n, "'nullable'")) f.nullable = *b;
    }
    if (YAML::Node n = value["id"]; n) {
      if (auto b = Bool(n, "'id'")) f.is_id = *b;
      if (f.is_id && f.type.kind != TypeKind::kString && f.type.kind != TypeKind::kInt64) {
        Error(n, fmt::format("the id field '{}' must be string or int64, found {}", f.name,
                             type_name));
      }
    }
    if (YAML::Node n = value["event_time"]; n) {
      if (auto b = Bool(n, "'event_time'")) f.is_event_time = *b;
      if (f.is_event_time && f.type.kind != TypeKind::kTimestamp) {
        Error(n, fmt::format("the event_time field '{}' must be a timestamp, found {}", f.name,
                             type_name));
      }
      if (f.is_event_time && f.nullable) {
        Error(n, fmt::format("the event_time field '{}' cannot be nullable", f.name));
      }
    }
    if (YAML::Node n = value["format"]; n) {
      static const std::vector<std::string> kFormats = {"iso8601", "epoch_s", "epoch_ms",
                                                        "epoch_us", "epoch_ns"};
      if (f.type.kind != TypeKind::kTimestamp) {
        Error(n, fmt::format("'format' applies to timestamp fields; field '{}' is {}", f.name,
                             type_name));
      } else if (auto s = Scalar(n, "'format'")) {
        if (*s == "iso8601")
          f.timestamp_format = TimestampFormat::kIso8601;
        else if (*s == "epoch_s")
          f.timestamp_format = TimestampFormat::kEpochSeconds;
        else if (*s == "epoch_ms")
          f.timestamp_format = TimestampFormat::kEpochMillis;
        else if (*s == "epoch_us")
          f.timestamp_format = TimestampFormat::kEpochMicros;
        else if (*s == "epoch_ns")
          f.timestamp_format = TimestampFormat::kEpochNanos;
        else {
          std::string hint = DidYouMean(*s, kFormats);
          if (hint.empty()) hint = "; expected one of " + QuotedList(kFormats);
          Error(n, fmt::format("unknown timestamp format '{}'{}", *s, hint));
        }
      }
    }
    YAML::Node values = value["values"];
    if (f.type.kind == TypeKind::kEnum) {
      if (!values) {
        Error(type_node,
              fmt::format("enum field '{}' needs 'values' (the list of allowed values)", f.name));
        return;
      }
      if (!values.IsSequence() || values.size() == 0) {
        Error(values, fmt::format("'values' of enum field '{}' must be a non-empty list, found {}",
                                  f.name, NodeKind(values)));
        return;
      }
      std::vector<std::string> list;
      for (const auto& v : values) {
        auto s = Scalar(v, "an enum value");
        if (!s) continue;
        if (std::find(list.begin(), list.end(), *s) != list.end()) {
          Error(v, fmt::format("enum value '{}' is listed twice in field '{}'", *s, f.name));
          continue;
        }
        list.push_back(*s);
      }
      f.type.domain = std::make_shared<const EnumDomain>(std::move(list));
    } else if (values) {
      Error(values,
            fmt::format("'values' applies to enum fields; field '{}' is {}", f.name, type_name));
    }
  } else if (f.type.kind == TypeKind::kEnum) {
    Error(value, fmt::format("enum field '{}' needs 'values': write {{type: enum, values: [a, "
                             "b]}}",
                             f.name));
    return;
  }
  spec.fields.push_back(std::move(f));
}

void Loader::LoadFeatures(const YAML::Node& n, PipelineSpec& spec) {
  if (n.IsNull()) return;
  if (!CheckMap(n, "'features'", {})) {
    if (!n.IsMap()) return;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;
    FeatureSpec f;
    f.name = kv.first.Scalar();
    f.where = Where(kv.first);
    if (!seen.insert(f.name).second) continue;  // duplicate key already reported
    if (!IsIdentifier(f.name)) {
      Error(kv.first, fmt::format("feature name must be a name (letters, digits and '_', not "
                                  "starting with a digit), found '{}'",
                                  f.name));
      continue;
    }
    if (const FieldSpec* field = spec.FindField(f.name)) {
      Error(kv.first, fmt::format("feature '{}' has the name of a source field (line {})", f.name,
                                  field->where.line));
      continue;
    }
    // Copy-constructed: operator= would overwrite kv.second, and reset()
    // throws on a missing key.
    const YAML::Node expr_node = kv.second.IsMap() ? kv.second["expr"] : kv.second;
    if (kv.second.IsMap()) {
      CheckMap(kv.second, fmt::format("feature '{}'", f.name), {"expr", "description"});
      if (YAML::Node d = kv.second["description"]; d && d.IsScalar()) f.description = d.Scalar();
      if (!expr_node) {
        Error(kv.second, fmt::format("feature '{}' has no 'expr'", f.name));
        continue;
      }
    }
    if (!expr_node.IsScalar() || expr_node.Scalar().empty()) {
      Error(expr_node.IsNull() ? kv.first : expr_node,
            fmt::format("feature '{}' needs an expression, found {}", f.name,
                        expr_node.IsScalar() ? "an empty text" : NodeKind(expr_node)));
      continue;
    }
    f.expression = Expression(expr_node);
    spec.features.push_back(std::move(f));
  }
}

void Loader::LoadModels(const YAML::Node& n, PipelineSpec& spec) {
  if (!CheckMap(n, "'models'", {})) {
    if (!n.IsMap()) return;
  }
  static const std::vector<std::string> kFormats = {"xgboost", "linear", "logistic", "scorecard"};
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar() || !seen.insert(kv.first.Scalar()).second) continue;
    ModelSpec m;
    m.name = kv.first.Scalar();
    m.where = Where(kv.first);
    if (!IsIdentifier(m.name)) {
      Error(kv.first, fmt::format("a model name must be a name (letters, digits and '_'), found "
                                  "'{}'",
                                  m.name));
      continue;
    }
    if (spec.FindField(m.name)) {
      Error(kv.first, fmt::format("model '{}' has the name of a source field", m.name));
      continue;
    }
    const YAML::Node& body = kv.second;
    if (!body.IsMap()) {
      CheckMap(body, fmt::format("model '{}'", m.name), {});
      continue;
    }
    std::string format;
    if (YAML::Node f = body["format"]; f) {
      if (auto s = Scalar(f, "the model format")) {
        m.format = {*s, Where(f)};
        if (std::find(kFormats.begin(), kFormats.end(), *s) == kFormats.end()) {
          std::string hint = DidYouMean(*s, kFormats);
          if (hint.empty()) hint = "; supported: " + QuotedList(kFormats);
          Error(f, fmt::format("unknown model format '{}'{}", *s, hint));
        } else {
          format = *s;
        }
      }
    } else {
      Error(body,
            fmt::format("model '{}' needs a 'format' (one of {})", m.name, QuotedList(kFormats)));
    }
    const std::string what = fmt::format("model '{}'", m.name);
    if (format == "linear" || format == "logistic") {
      CheckMap(body, what, {"format", "link", "intercept", "coefficients", "reference", "path"});
      LoadLinearModel(body, format, m);
    } else if (format == "scorecard") {
      CheckMap(body, what, {"format", "base_points", "characteristics", "path"});
      LoadScorecard(body, spec, m);
    } else {
      CheckMap(body, what, {"format", "path", "inputs"});
      LoadModelPath(body, m, true);
      LoadXgboostInputs(body, m);
    }
    spec.models.push_back(std::move(m));
  }
}

void Loader::LoadModelPath(const YAML::Node& body, ModelSpec& m, bool required) {
  if (YAML::Node p = body["path"]; p) {
    if (auto s = Scalar(p, "the model path")) {
      m.path = *s;
      m.path_where = Where(p);
      std::filesystem::path fp(*s);
      if (fp.is_relative()) fp = std::filesystem::path(file_).parent_path() / fp;
      m.resolved_path = fp.lexically_normal().string();
    }
  } else if (required) {
    Error(body, fmt::format("model '{}' needs a 'path' (the model file)", m.name));
  }
}

void Loader::LoadXgboostInputs(const YAML::Node& body, ModelSpec& m) {
  if (YAML::Node in = body["inputs"]; in) {
    if (in.IsSequence()) {
      m.positional = true;
      for (const auto& v : in) {
        if (auto r = Name(v, "a model input")) m.inputs.emplace_back("", *r);
      }
    } else if (CheckMap(in, fmt::format("the inputs of model '{}'", m.name), {})) {
      for (const auto& io : in) {
        if (!io.first.IsScalar()) continue;
        if (auto r = Name(io.second, "a model input")) {
          m.inputs.emplace_back(io.first.Scalar(), *r);
        }
      }
    }
  }
}

std::optional<double> Loader::Number(const YAML::Node& n, std::string_view what) {
  auto s = Scalar(n, what);
  if (!s) return std::nullopt;
  double v = 0;
  const char* begin = s->data();
  const char* end = begin + s->size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ptr != end || begin == end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    std::string lower;
    for (char c : *s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool special = lower.find("nan") != std::string::npos ||
                         lower.find("inf") != std::string::npos;  // YAML's .nan and .inf
    Error(n, fmt::format("{} must be a {}number, found '{}'", what, special ? "finite " : "", *s));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || !std::isfinite(v)) {
    Error(n, fmt::format("{} must be a finite number, found '{}'", what, *s));
    return std::nullopt;
  }
  return v;
}

void Loader::LoadLinearModel(const YAML::Node& body, const std::string& format, ModelSpec& m) {
  m.link = format == "logistic" ? model::Link::kLogistic : model::Link::kIdentity;
  bool link_ok = true;
  if (YAML::Node l = body["link"]; l) {
    if (auto s = Scalar(l, "the link")) {
      auto link = model::ParseLink(*s);
      if (!link) {
        link_ok = false;
        std::string hint = DidYouMean(*s, model::LinkNames());
        if (hint.empty()) hint = "; expected one of " + QuotedList(model::LinkNames());
        Error(l, fmt::format("unknown link '{}' for model '{}'{}", *s, m.name, hint));
      } else if (format == "logistic" && *link != model::Link::kLogistic) {
        link_ok = false;
        Error(l, fmt::format("model '{}' is logistic, so its link is logistic, not '{}' (use "
                             "format: linear for another link)",
                             m.name, *s));
      } else {
        m.link = *link;
        m.link_given = true;
        m.link_where = Where(l);
      }
    }
  }
  if (body["path"]) {
    LoadModelPath(body, m, true);
    for (const char* key : {"intercept", "coefficients", "reference"}) {
      if (YAML::Node k = body[key]; k) {
        Error(k, fmt::format("model '{}' reads its coefficients from 'path'; '{}' belongs in "
                             "that file",
                             m.name, key));
      }
    }
    return;
  }
  model::LinearDefinition def;
  def.link = m.link;
  bool ok = link_ok;
  if (YAML::Node i = body["intercept"]; i) {
    if (auto v = Number(i, fmt::format("the intercept of model '{}'", m.name))) {
      def.intercept = *v;
    } else {
      ok = false;
    }
  } else {
    Error(body,
          fmt::format("model '{}' needs an 'intercept' (or a 'path' to a JSON file)", m.name));
    ok = false;
  }
  YAML::Node coefs = body["coefficients"];
  if (!coefs) {
    Error(body, fmt::format("model '{}' needs 'coefficients' (input name: coefficient), or a "
                            "'path' to a JSON file",
                            m.name));
    return;
  }
  if (!CheckMap(coefs, fmt::format("the coefficients of model '{}'", m.name), {})) {
    if (!coefs.IsMap()) return;
    ok = false;
  }
  if (coefs.size() == 0) {
    Error(coefs, fmt::format("model '{}' has no coefficients", m.name));
    ok = false;
  }
  std::set<std::string> names;
  for (const auto& c : coefs) {
    auto name = Name(c.first, "a model input");
    if (!name || !names.insert(name->name).second) {
      ok = false;
      continue;
    }
    auto v = Number(c.second, fmt::format("the coefficient of '{}'", name->name));
    if (!v) {
      ok = false;
      continue;
    }
    def.terms.push_back({name->name, *v, 0});
    m.term_where.push_back(name->where);
  }
  if (YAML::Node refs = body["reference"]; refs) {
    if (CheckMap(refs, fmt::format("the reference of model '{}'", m.name), {})) {
      std::vector<std::string> known(names.begin(), names.end());
      for (const auto& r : refs) {
        const std::string key = r.first.Scalar();
        auto v = Number(r.second, fmt::format("the reference of '{}'", key));
        auto it = std::find_if(def.terms.begin(), def.terms.end(),
                               [&](const model::LinearTerm& t) { return t.input == key; });
        if (!names.count(key)) {
          Error(r.first, fmt::format("the reference names '{}', which has no coefficient in "
                                     "model '{}'{}",
                                     key, m.name, DidYouMean(key, known)));
          ok = false;
        } else if (!v) {
          ok = false;
        } else if (it != def.terms.end()) {
          it->reference = *v;
        }
      }
    } else {
      ok = false;
    }
  }
  if (ok) m.linear = std::move(def);
}

void Loader::LoadScorecard(const YAML::Node& body, const PipelineSpec& spec, ModelSpec& m) {
  // Keeps a valid card once every input that may be null has a bin to go to.
  auto accept = [&](model::ScorecardDefinition def) {
    bool ok = true;
    for (size_t c = 0; c < def.characteristics.size(); ++c) {
      const model::Characteristic& ch = def.characteristics[c];
      const FieldSpec* field = spec.FindField(ch.input);
      const bool feature = std::any_of(spec.features.begin(), spec.features.end(),
                                       [&](const FeatureSpec& f) { return f.name == ch.input; });
      const bool may_be_null = field ? field->nullable : feature;
      if (!may_be_null) continue;
      bool has_bin = false;
      for (const auto& b : ch.bins) {
        has_bin |= b.kind == model::ScorecardBin::Kind::kMissing ||
                   b.kind == model::ScorecardBin::Kind::kElse;
      }
      if (!has_bin) {
        Error(m.characteristic_where[c].input,
              fmt::format("scorecard '{}': '{}' may be null ({}), so its characteristic needs a "
                          "{{missing: true, points: ...}} bin",
                          m.name, ch.input, field ? "a nullable field" : "a feature"));
        ok = false;
      }
    }
    if (ok) m.scorecard = std::move(def);
  };
  if (body["path"]) {
    // The card is a JSON file (models.md), read here so that it is checked
    // against the pipeline exactly as an inline card is.
    LoadModelPath(body, m, true);
    bool inline_too = false;
    for (const char* key : {"base_points", "characteristics"}) {
      if (YAML::Node k = body[key]; k) {
        Error(k, fmt::format("scorecard '{}' reads its card from 'path'; '{}' belongs in that "
                             "file",
                             m.name, key));
        inline_too = true;
      }
    }
    if (inline_too || m.resolved_path.empty()) return;
    auto loaded = model::Scorecard::LoadJson(m.resolved_path);
    if (!loaded.ok()) {
      Error(m.path_where,
            fmt::format("scorecard '{}' cannot be loaded: {}", m.name, loaded.status().message()));
      return;
    }
    // A JSON file has no lines to point at: its parts are reported at 'path'.
    for (const model::Characteristic& ch : (*loaded)->definition().characteristics) {
      CharacteristicLocation loc{m.path_where, {}};
      for (const model::ScorecardBin& b : ch.bins) {
        loc.bins.push_back(
            {m.path_where, std::vector<SourceLocation>(b.values.size(), m.path_where)});
      }
      m.characteristic_where.push_back(std::move(loc));
    }
    accept((*loaded)->definition());
    return;
  }
  model::ScorecardDefinition def;
  bool ok = true;
  if (YAML::Node b = body["base_points"]; b) {
    if (auto v = Number(b, fmt::format("the base points of scorecard '{}'", m.name))) {
      def.base_points = *v;
    } else {
      ok = false;
    }
  } else {
    Error(body, fmt::format("scorecard '{}' needs 'base_points'", m.name));
    ok = false;
  }
  YAML::Node chars = body["characteristics"];
  if (!chars) {
    Error(body, fmt::format("scorecard '{}' needs 'characteristics' (a list of {{input, bins}})",
                            m.name));
    return;
  }
  if (!chars.IsSequence() || chars.size() == 0) {
    Error(chars, fmt::format("the characteristics of scorecard '{}' must be a non-empty list, "
                             "found {}",
                             m.name, NodeKind(chars)));
    return;
  }
  for (const auto& cn : chars) {
    if (!CheckMap(cn, "a characteristic", {"input", "bins"})) {
      ok = false;
      if (!cn.IsMap()) continue;
    }
    model::Characteristic ch;
    CharacteristicLocation loc;
    loc.input = Where(cn);
    if (YAML::Node in = cn["input"]; in) {
      if (auto r = Name(in, "the input of a characteristic")) {
        ch.input = r->name;
        loc.input = r->where;
      } else {
        ok = false;
      }
    } else {
      Error(cn, "a characteristic needs an 'input' (a field or feature name)");
      ok = false;
    }
    YAML::Node bins = cn["bins"];
    if (!bins || !bins.IsSequence() || bins.size() == 0) {
      Error(bins ? bins : YAML::Node(cn),
            fmt::format("characteristic '{}' needs 'bins', a non-empty list of {{from, to, "
                        "points}}, {{values, points}}, {{missing: true, points}} or {{else: "
                        "true, points}}",
                        ch.input));
      ok = false;
      continue;
    }
    for (const auto& bn : bins) {
      BinLocation bl;
      bl.bin = Where(bn);
      if (!CheckMap(bn, "a bin", {"from", "to", "values", "missing", "else", "points"})) {
        ok = false;
        if (!bn.IsMap()) continue;
      }
      model::ScorecardBin bin;
      const bool range = bn["from"] || bn["to"];
      const int kinds =
          (range ? 1 : 0) + (bn["values"] ? 1 : 0) + (bn["missing"] ? 1 : 0) + (bn["else"] ? 1 : 0);
      if (kinds != 1) {
        Error(bn, fmt::format("a bin of characteristic '{}' needs exactly one of from/to, "
                              "values, missing: true and else: true",
                              ch.input));
        ok = false;
        continue;
      }
      if (range) {
        bin.kind = model::ScorecardBin::Kind::kRange;
        if (YAML::Node f = bn["from"]; f) {
          if (auto v = Number(f, "'from'"))
            bin.from = *v;
          else
            ok = false;
        }
        if (YAML::Node t = bn["to"]; t) {
          if (auto v = Number(t, "'to'"))
            bin.to = *v;
          else
            ok = false;
        }
      } else if (YAML::Node vs = bn["values"]; vs) {
        bin.kind = model::ScorecardBin::Kind::kValues;
        if (!vs.IsSequence()) {
          Error(vs, fmt::format("'values' must be a list, found {}", NodeKind(vs)));
          ok = false;
        } else {
          for (const auto& v : vs) {
            if (auto s = Scalar(v, "a bin value")) {
              bin.values.push_back(*s);
              bl.values.push_back(Where(v));
            } else {
              ok = false;
            }
          }
        }
      } else {
        const bool missing = bool(bn["missing"]);
        YAML::Node flag = missing ? bn["missing"] : bn["else"];
        auto b = Bool(flag, missing ? "'missing'" : "'else'");
        if (!b || !*b) {
          if (b) Error(flag, fmt::format("'{}' can only be true", missing ? "missing" : "else"));
          ok = false;
        }
        bin.kind = missing ? model::ScorecardBin::Kind::kMissing : model::ScorecardBin::Kind::kElse;
      }
      if (YAML::Node p = bn["points"]; p) {
        if (auto v = Number(p, "'points'"))
          bin.points = *v;
        else
          ok = false;
      } else {
        Error(bn, fmt::format("a bin of characteristic '{}' needs 'points'", ch.input));
        ok = false;
      }
      ch.bins.push_back(std::move(bin));
      loc.bins.push_back(std::move(bl));
    }
    def.characteristics.push_back(std::move(ch));
    m.characteristic_where.push_back(std::move(loc));
  }
  if (!ok) return;
  std::vector<model::ScorecardIssue> issues = model::Scorecard::Validate(def);
  for (const auto& issue : issues) {
    SourceLocation where = m.where;
    if (issue.characteristic >= 0) {
      const CharacteristicLocation& cl =
          m.characteristic_where[static_cast<size_t>(issue.characteristic)];
      where = issue.bin >= 0 ? cl.bins[static_cast<size_t>(issue.bin)].bin : cl.input;
    }
    Error(where, fmt::format("scorecard '{}': {}", m.name, issue.message));
  }
  if (!issues.empty()) return;
  accept(std::move(def));
}

void Loader::LoadReasonCodes(const YAML::Node& n, PipelineSpec& spec) {
  if (!CheckMap(n, "'reason_codes'", {})) {
    if (!n.IsMap()) return;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar() || !seen.insert(kv.first.Scalar()).second) continue;
    ReasonCodeSpec r;
    r.code = kv.first.Scalar();
    r.where = Where(kv.first);
    if (!IsIdentifier(r.code)) {
      Error(kv.first, fmt::format("a reason code must be a name (letters, digits and '_'), "
                                  "found '{}'",
                                  r.code));
      continue;
    }
    // Copy-constructed: reset() throws on a missing key.
    const YAML::Node text_node = kv.second.IsMap() ? kv.second["text"] : kv.second;
    if (kv.second.IsMap()) {
      CheckMap(kv.second, fmt::format("reason code '{}'", r.code), {"text", "features"});
      if (!text_node) {
        Error(kv.second, fmt::format("reason code '{}' needs a 'text'", r.code));
        continue;
      }
      if (YAML::Node f = kv.second["features"]; f) {
        if (!f.IsSequence()) {
          Error(f, fmt::format("'features' of reason code '{}' must be a list of model input "
                               "names, found {}",
                               r.code, NodeKind(f)));
        } else {
          for (const auto& v : f) {
            if (auto name = Name(v, "a model input")) r.features.push_back(*name);
          }
        }
      }
    }
    auto text = Scalar(text_node, fmt::format("the text of reason code '{}'", r.code));
    if (!text) continue;
    r.text = *text;
    r.text_source = Expression(text_node);
    spec.reason_codes.push_back(std::move(r));
  }
}

void Loader::LoadOutput(const YAML::Node& n, PipelineSpec& spec) {
  if (!CheckMap(n, "'output'", {"fields", "decision"})) {
    if (!n.IsMap()) return;
  }
  if (YAML::Node f = n["fields"]; f) {
    spec.output_fields_given = true;
    if (!f.IsSequence()) {
      Error(f, fmt::format("'output.fields' must be a list of field and feature names, found {}",
                           NodeKind(f)));
    } else {
      for (const auto& v : f) {
        // Output fields may name model outputs: "risk.score".
        auto s = Scalar(v, "an output field");
        if (!s) continue;
        bool ok = !s->empty();
        size_t start = 0;
        while (ok) {
          size_t dot = s->find('.', start);
          ok = IsIdentifier(std::string_view(*s).substr(start, dot - start));
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
        if (!ok) {
          Error(v, fmt::format("an output field must be a name such as amount or risk.score, "
                               "found '{}'",
                               *s));
          continue;
        }
        spec.output_fields.push_back({*s, Where(v)});
      }
    }
  }
  if (YAML::Node d = n["decision"]; d) {
    if (auto b = Bool(d, "'output.decision'")) spec.output_decision = *b;
  }
}

}  // namespace internal

Result<PipelineSpec> LoadPipelineText(const std::string& text, const std::string& file_name,
                                      std::vector<Diagnostic>* diags) {
  internal::Loader loader(text, file_name, diags);
  try {
    return loader.Load();
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports misuse on odd documents by throwing; never let it out.
    diags->push_back({{file_name, e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1},
                      fmt::format("cannot read the pipeline: {}", e.msg)});
    return InvalidPipeline("cannot read the pipeline");
  }
}

Result<PipelineSpec> LoadPipelineFile(const std::string& path, std::vector<Diagnostic>* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags->push_back({{path, 0, 0}, "cannot open the pipeline file"});
    return IoError("cannot open " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return LoadPipelineText(ss.str(), path, diags);
}

}  // namespace sluice::pipeline
