#pragma once
// The logical types of sluice and how each is stored in a column.
//
//   type       physical element     notes
//   bool       uint8_t (0 or 1)
//   int64      int64_t
//   float64    double               never NaN or +-Inf: such results are null
//   string     std::string_view     bytes live in the batch's StringArena
//   timestamp  int64_t              nanoseconds since 1970-01-01T00:00:00Z (UTC)
//   enum       int32_t              index into the type's EnumDomain
//
// Every column also has a validity byte per row (1 = value, 0 = null).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice {

enum class TypeKind : uint8_t { kNull, kBool, kInt64, kFloat64, kString, kTimestamp, kEnum };

// The declared values of an enum type, in declaration order.
class EnumDomain {
 public:
  explicit EnumDomain(std::vector<std::string> values);
  const std::vector<std::string>& values() const { return values_; }
  // Index of `v`, or -1.
  int32_t Find(std::string_view v) const;
  std::string_view Name(int32_t index) const { return values_[static_cast<size_t>(index)]; }
  size_t size() const { return values_.size(); }

 private:
  std::vector<std::string> values_;
  std::unordered_map<std::string_view, int32_t> index_;
};

struct Type {
  TypeKind kind = TypeKind::kNull;
  std::shared_ptr<const EnumDomain> domain;  // set iff kind == kEnum

  static Type Null() { return {TypeKind::kNull, nullptr}; }
  static Type Bool() { return {TypeKind::kBool, nullptr}; }
  static Type Int64() { return {TypeKind::kInt64, nullptr}; }
  static Type Float64() { return {TypeKind::kFloat64, nullptr}; }
  static Type String() { return {TypeKind::kString, nullptr}; }
  static Type Timestamp() { return {TypeKind::kTimestamp, nullptr}; }
  static Type Enum(std::shared_ptr<const EnumDomain> d) { return {TypeKind::kEnum, std::move(d)}; }

  bool is_numeric() const { return kind == TypeKind::kInt64 || kind == TypeKind::kFloat64; }
  // Same kind and, for enums, the same domain object or equal values.
  bool operator==(const Type& other) const;
};

// "int64", "enum(pos, ecom, atm)", ...
std::string TypeName(const Type& t);
std::string_view KindName(TypeKind k);

// Bytes per element in a column of this kind.
size_t ElementSize(TypeKind k);

}  // namespace sluice
