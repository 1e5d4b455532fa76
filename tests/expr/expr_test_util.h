#pragma once
// A fixture for expression tests: a fixed set of input columns, one row of
// typical values (overridable), and helpers that compile, run and render.

#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "types/timestamp.h"

namespace sluice::expr::testing {

inline std::shared_ptr<const EnumDomain> Channels() {
  static auto d =
      std::make_shared<const EnumDomain>(std::vector<std::string>{"pos", "ecom", "atm"});
  return d;
}
inline std::shared_ptr<const EnumDomain> Colors() {
  static auto d = std::make_shared<const EnumDomain>(std::vector<std::string>{"red", "green"});
  return d;
}

// Renders a value as the tests spell it: null, 42, 1.5, 'text', true,
// 2024-01-01T00:00:00Z, ecom.
inline std::string Render(const Column& c, size_t row) {
  if (!c.is_valid(row)) return "null";
  switch (c.type().kind) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return c.data<uint8_t>()[row] ? "true" : "false";
    case TypeKind::kInt64:
      return std::to_string(c.data<int64_t>()[row]);
    case TypeKind::kFloat64: {
      char buf[40];
      auto r = std::to_chars(buf, buf + sizeof buf, c.data<double>()[row]);
      return std::string(buf, r.ptr);
    }
    case TypeKind::kString:
      return "'" + std::string(c.data<std::string_view>()[row]) + "'";
    case TypeKind::kTimestamp:
      return FormatIso8601(c.data<int64_t>()[row]);
    case TypeKind::kEnum:
      return std::string(c.type().domain->Name(c.data<int32_t>()[row]));
  }
  return "?";
}

struct Input {
  std::string name;
  Type type;
  Value value;  // the default row's value
};

inline std::vector<Input> DefaultInputs() {
  const Type ch = Type::Enum(Channels());
  return {
      {"i", Type::Int64(), Value::Int64(7)},
      {"j", Type::Int64(), Value::Int64(-3)},
      {"zero", Type::Int64(), Value::Int64(0)},
      {"big", Type::Int64(), Value::Int64(INT64_MAX)},
      {"small", Type::Int64(), Value::Int64(INT64_MIN)},
      {"f", Type::Float64(), Value::Float64(2.5)},
      {"g", Type::Float64(), Value::Float64(-0.5)},
      {"fz", Type::Float64(), Value::Float64(0.0)},
      {"huge", Type::Float64(), Value::Float64(1e308)},
      {"s", Type::String(), Value::String("héllo")},
      {"t", Type::String(), Value::String("ecom")},
      {"e", Type::String(), Value::String("")},
      {"b", Type::Bool(), Value::Bool(true)},
      {"c", Type::Bool(), Value::Bool(false)},
      {"ts", Type::Timestamp(), Value::Timestamp(*ParseIso8601("2024-03-01T12:30:45Z"))},
      {"ts2", Type::Timestamp(), Value::Timestamp(*ParseIso8601("2024-03-02T12:30:45.5Z"))},
      {"ch", ch, Value::Enum(ch, 1)},
      {"ch2", ch, Value::Enum(ch, 2)},
      {"color", Type::Enum(Colors()), Value::Enum(Type::Enum(Colors()), 0)},
      {"ni", Type::Int64(), Value::Null(Type::Int64())},
      {"nf", Type::Float64(), Value::Null(Type::Float64())},
      {"ns", Type::String(), Value::Null(Type::String())},
      {"nb", Type::Bool(), Value::Null(Type::Bool())},
      {"nts", Type::Timestamp(), Value::Null(Type::Timestamp())},
      {"nch", ch, Value::Null(ch)},
      {"fraud.score", Type::Float64(), Value::Float64(0.75)},
      {"my field", Type::Int64(), Value::Int64(11)},
      {"amount", Type::Float64(), Value::Float64(120.0)},
  };
}

inline void SetValue(Batch& batch, int column, size_t row, const Value& v) {
  Column& c = batch.column(column);
  c.valid()[row] = v.is_null ? 0 : 1;
  if (v.is_null) return;
  switch (c.type().kind) {
    case TypeKind::kNull:
      break;
    case TypeKind::kBool:
      c.data<uint8_t>()[row] = v.b;
      break;
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      c.data<int64_t>()[row] = v.i;
      break;
    case TypeKind::kFloat64:
      c.data<double>()[row] = v.f;
      break;
    case TypeKind::kEnum:
      c.data<int32_t>()[row] = static_cast<int32_t>(v.i);
      break;
    case TypeKind::kString:
      c.data<std::string_view>()[row] = batch.arena().Copy(v.s);
      break;
  }
}

// Compiles expressions against the default inputs.
class Harness {
 public:
  Harness() : compiler_(&layout_, &errors_) {
    for (const auto& in : DefaultInputs()) {
      int col = layout_.Add(ColumnSpec{in.name, in.type, std::nullopt});
      scope_.Add(Symbol{in.name, in.type, col});
      inputs_.push_back(in);
    }
  }

  Scope& scope() { return scope_; }
  BatchLayout& layout() { return layout_; }
  const ErrorTable& errors() const { return errors_; }

  // Compiles `text`; returns the result column, or -1 with the first
  // diagnostic formatted as "column N: message" in `*diag`.
  int Compile(const std::string& text, std::string* diag = nullptr, Type* type = nullptr) {
    std::vector<Diagnostic> diags;
    LineLocator where("p.yaml", 3, 10);
    auto r =
        compiler_.Compile(text, scope_, where, "out" + std::to_string(n_++), "feature x", &diags);
    if (!r) {
      if (diag != nullptr && !diags.empty()) {
        *diag = "column " + std::to_string(diags[0].where.column - 9) + ": " + diags[0].message;
      }
      return -1;
    }
    if (type != nullptr) *type = r->type;
    return r->column;
  }

  Program Finish() { return compiler_.Finish(); }

  // Fills row `row` with the default inputs, overridden by `overrides`.
  void FillRow(Batch& batch, size_t row, const std::map<std::string, Value>& overrides = {}) {
    for (size_t k = 0; k < inputs_.size(); ++k) {
      auto it = overrides.find(inputs_[k].name);
      SetValue(batch, static_cast<int>(k), row,
               it == overrides.end() ? inputs_[k].value : it->second);
    }
  }

  // Renders row `row` of `column`, or "error: <message>" if the row has a record error.
  std::string Result(const Batch& batch, int column, size_t row) const {
    if (batch.row_error(row) != 0) return "error: " + errors_.Get(batch.row_error(row));
    return Render(batch.column(column), row);
  }

 private:
  BatchLayout layout_;
  ErrorTable errors_;
  Scope scope_;
  Compiler compiler_;
  std::vector<Input> inputs_;
  int n_ = 0;
};

// Compiles and evaluates `text` on the default row (with overrides).
inline std::string Eval(const std::string& text,
                        const std::map<std::string, Value>& overrides = {}) {
  Harness h;
  std::string diag;
  int col = h.Compile(text, &diag);
  if (col < 0) return "check error: " + diag;
  Program p = h.Finish();
  Batch batch(h.layout(), 4);
  batch.AppendRow();
  h.FillRow(batch, 0, overrides);
  p.Run(batch);
  return h.Result(batch, col, 0);
}

// The check error of `text`, "column N: message", or "" if it compiles.
inline std::string CheckError(const std::string& text) {
  Harness h;
  std::string diag;
  return h.Compile(text, &diag) < 0 ? diag : "";
}

}  // namespace sluice::expr::testing
