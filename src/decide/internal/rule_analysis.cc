#include "decide/internal/rule_analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::decide::internal {

namespace {

using Kind = expr::ColumnTest::Kind;

// A literal, comparable across int and float.
struct Key {
  bool is_number = false;
  long double number = 0;
  std::string text;  // strings and enum value names; "true"/"false" for bools

  bool operator==(const Key& o) const {
    return is_number == o.is_number && (is_number ? number == o.number : text == o.text);
  }
};

Key KeyOf(const Value& v) {
  Key k;
  switch (v.type.kind) {
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      k.is_number = true;
      k.number = static_cast<long double>(v.i);
      break;
    case TypeKind::kFloat64:
      k.is_number = true;
      k.number = v.f;
      break;
    case TypeKind::kBool:
      k.text = v.b ? "true" : "false";
      break;
    default:
      k.text = v.s;
      break;
  }
  return k;
}

bool Contains(const std::vector<Key>& keys, const Key& k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// What a conjunction says of one column.
struct Constraint {
  long double lo = -std::numeric_limits<long double>::infinity();
  long double hi = std::numeric_limits<long double>::infinity();
  bool lo_inclusive = true, hi_inclusive = true;
  std::optional<std::vector<Key>> allowed;
  std::vector<Key> excluded;
  bool is_null = false;   // "x is null"
  bool not_null = false;  // any other test: a null never passes a comparison

  bool InInterval(const Key& k) const {
    if (!k.is_number) return true;
    return (lo_inclusive ? k.number >= lo : k.number > lo) &&
           (hi_inclusive ? k.number <= hi : k.number < hi);
  }
  bool Admits(const Key& k) const { return InInterval(k) && !Contains(excluded, k); }

  void Add(const expr::ColumnTest& t) {
    if (t.kind == Kind::kIsNull) {
      is_null = true;
      return;
    }
    not_null = true;
    if (t.kind == Kind::kIsNotNull) return;
    std::vector<Key> keys;
    for (const Value& v : t.values) keys.push_back(KeyOf(v));
    switch (t.kind) {
      case Kind::kLess:
      case Kind::kLessEqual:
        if (keys[0].is_number && (keys[0].number < hi || (keys[0].number == hi && hi_inclusive))) {
          hi = keys[0].number;
          hi_inclusive = t.kind == Kind::kLessEqual;
        }
        break;
      case Kind::kGreater:
      case Kind::kGreaterEqual:
        if (keys[0].is_number && (keys[0].number > lo || (keys[0].number == lo && lo_inclusive))) {
          lo = keys[0].number;
          lo_inclusive = t.kind == Kind::kGreaterEqual;
        }
        break;
      case Kind::kEqual:
      case Kind::kIn:
        if (!allowed) {
          allowed = keys;
        } else {
          std::vector<Key> both;
          for (const Key& k : *allowed) {
            if (Contains(keys, k)) both.push_back(k);
          }
          allowed = both;
        }
        break;
      case Kind::kNotEqual:
      case Kind::kNotIn:
        excluded.insert(excluded.end(), keys.begin(), keys.end());
        break;
      default:
        break;
    }
  }

  // The values left, when the column is limited to a list.
  std::optional<std::vector<Key>> Values() const {
    if (!allowed) {
      if (lo == hi && lo_inclusive && hi_inclusive && std::isfinite(lo)) {
        Key k;
        k.is_number = true;
        k.number = lo;
        if (Admits(k)) return std::vector<Key>{k};
        return std::vector<Key>{};
      }
      return std::nullopt;
    }
    std::vector<Key> out;
    for (const Key& k : *allowed) {
      if (Admits(k)) out.push_back(k);
    }
    return out;
  }

  bool Empty() const {
    if (is_null && not_null) return true;
    if (lo > hi || (lo == hi && !(lo_inclusive && hi_inclusive))) return true;
    auto v = Values();
    return v && v->empty();
  }

  // Whether every value this constraint admits passes `t`.
  bool Implies(const expr::ColumnTest& t) const {
    if (t.kind == Kind::kIsNull) return is_null;
    if (t.kind == Kind::kIsNotNull) return not_null;
    if (!not_null) return false;
    std::vector<Key> keys;
    for (const Value& v : t.values) keys.push_back(KeyOf(v));
    const auto values = Values();
    auto all_values = [&](auto pred) {
      return values && std::all_of(values->begin(), values->end(), pred);
    };
    switch (t.kind) {
      case Kind::kLess:
        if (!keys[0].is_number) return false;
        return all_values([&](const Key& k) { return k.is_number && k.number < keys[0].number; }) ||
               hi < keys[0].number || (hi == keys[0].number && !hi_inclusive);
      case Kind::kLessEqual:
        if (!keys[0].is_number) return false;
        return all_values([&](const Key& k) { return k.is_number && k.number <= keys[0].number; }) ||
               hi <= keys[0].number;
      case Kind::kGreater:
        if (!keys[0].is_number) return false;
        return all_values([&](const Key& k) { return k.is_number && k.number > keys[0].number; }) ||
               lo > keys[0].number || (lo == keys[0].number && !lo_inclusive);
      case Kind::kGreaterEqual:
        if (!keys[0].is_number) return false;
        return all_values([&](const Key& k) { return k.is_number && k.number >= keys[0].number; }) ||
               lo >= keys[0].number;
      case Kind::kEqual:
      case Kind::kIn:
        return all_values([&](const Key& k) { return Contains(keys, k); });
      case Kind::kNotEqual:
      case Kind::kNotIn:
        return std::all_of(keys.begin(), keys.end(), [&](const Key& k) {
          if (Contains(excluded, k) || !InInterval(k)) return true;
          return values && !Contains(*values, k);
        });
      default:
        return false;
    }
  }
};

std::map<int, Constraint> Constraints(const expr::ConditionShape& c) {
  std::map<int, Constraint> out;
  for (const auto& t : c.tests) out[t.column].Add(t);
  return out;
}

}  // namespace

bool NeverTrue(const expr::ConditionShape& c) {
  if (c.constant) return !*c.constant;
  for (const auto& [column, constraint] : Constraints(c)) {
    if (constraint.Empty()) return true;
  }
  return false;
}

bool Implies(const expr::ConditionShape& later, const expr::ConditionShape& earlier) {
  if (earlier.constant) return *earlier.constant;
  if (!earlier.complete) return false;
  if (later.constant && *later.constant) return earlier.tests.empty();
  const auto constraints = Constraints(later);
  for (const auto& t : earlier.tests) {
    auto it = constraints.find(t.column);
    if (it == constraints.end() || !it->second.Implies(t)) return false;
  }
  return true;
}

}  // namespace sluice::decide::internal
