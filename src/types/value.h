#pragma once
// A single typed value: literals, constants, test fixtures. Not used per row
// on the hot path (columns are).

#include <cstdint>
#include <string>

#include "types/type.h"

namespace sluice {

struct Value {
  Type type = Type::Null();
  bool is_null = true;
  bool b = false;
  int64_t i = 0;  // int64, timestamp (ns), enum index
  double f = 0;
  std::string s;

  static Value Null(Type t = Type::Null()) { return Value{std::move(t), true, false, 0, 0, {}}; }
  static Value Bool(bool v) { return Value{Type::Bool(), false, v, 0, 0, {}}; }
  static Value Int64(int64_t v) { return Value{Type::Int64(), false, false, v, 0, {}}; }
  static Value Float64(double v) { return Value{Type::Float64(), false, false, 0, v, {}}; }
  static Value String(std::string v) {
    return Value{Type::String(), false, false, 0, 0, std::move(v)};
  }
  static Value Timestamp(int64_t ns) { return Value{Type::Timestamp(), false, false, ns, 0, {}}; }
  static Value Enum(Type t, int32_t index) {
    return Value{std::move(t), false, false, index, 0, {}};
  }
};

}  // namespace sluice
