#include "types/type.h"

#include <string_view>

namespace sluice {

EnumDomain::EnumDomain(std::vector<std::string> values) : values_(std::move(values)) {
  for (size_t i = 0; i < values_.size(); ++i) {
    index_.emplace(values_[i], static_cast<int32_t>(i));
  }
}

int32_t EnumDomain::Find(std::string_view v) const {
  auto it = index_.find(v);
  return it == index_.end() ? -1 : it->second;
}

bool Type::operator==(const Type& other) const {
  if (kind != other.kind) return false;
  if (kind != TypeKind::kEnum) return true;
  if (domain == other.domain) return true;
  return domain && other.domain && domain->values() == other.domain->values();
}

std::string_view KindName(TypeKind k) {
  switch (k) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt64:
      return "int64";
    case TypeKind::kFloat64:
      return "float64";
    case TypeKind::kString:
      return "string";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kEnum:
      return "enum";
  }
  return "?";
}

std::string TypeName(const Type& t) {
  if (t.kind != TypeKind::kEnum || !t.domain) return std::string(KindName(t.kind));
  std::string out = "enum(";
  for (size_t i = 0; i < t.domain->size(); ++i) {
    if (i > 0) out += ", ";
    out += t.domain->values()[i];
  }
  return out + ")";
}

size_t ElementSize(TypeKind k) {
  switch (k) {
    case TypeKind::kNull:
    case TypeKind::kBool:
      return 1;
    case TypeKind::kInt64:
    case TypeKind::kFloat64:
    case TypeKind::kTimestamp:
      return 8;
    case TypeKind::kEnum:
      return 4;
    case TypeKind::kString:
      return sizeof(std::string_view);
  }
  return 8;
}

}  // namespace sluice
