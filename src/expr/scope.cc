#include "expr/expr.h"

namespace sluice::expr {

void Scope::Add(Symbol s) {
  auto it = index_.find(s.name);
  if (it != index_.end()) {
    symbols_[it->second] = std::move(s);
    return;
  }
  index_.emplace(s.name, symbols_.size());
  unavailable_.erase(s.name);
  symbols_.push_back(std::move(s));
}

const Symbol* Scope::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &symbols_[it->second];
}

std::vector<std::string> Scope::Names() const {
  std::vector<std::string> out;
  out.reserve(symbols_.size());
  for (const auto& s : symbols_) out.push_back(s.name);
  return out;
}

void Scope::AddUnavailable(std::string name, std::string why) {
  unavailable_[std::move(name)] = std::move(why);
}

const std::string* Scope::Unavailable(std::string_view name) const {
  auto it = unavailable_.find(std::string(name));
  return it == unavailable_.end() ? nullptr : &it->second;
}

}  // namespace sluice::expr
