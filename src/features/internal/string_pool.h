#pragma once
// Reference-counted interned strings: window state holds string values (for
// first, last, previous and count_distinct) as 32-bit ids, so that equal
// strings are stored once and compared as integers.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/binary_io.h"

namespace sluice::features::internal {

class StringPool {
 public:
  // Returns the id of `s` with one more reference.
  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) {
      ++refs_[it->second];
      return it->second;
    }
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<uint32_t>(strings_.size());
      strings_.push_back(nullptr);
      refs_.push_back(0);
    }
    auto [pos, inserted] = owned_.emplace(std::string(s), id);
    (void)inserted;
    strings_[id] = &pos->first;
    ids_.emplace(std::string_view(pos->first), id);
    refs_[id] = 1;
    return id;
  }
  void Retain(uint32_t id) { ++refs_[id]; }
  void Release(uint32_t id) {
    if (--refs_[id] != 0) return;
    const std::string* s = strings_[id];
    ids_.erase(std::string_view(*s));
    owned_.erase(*s);
    strings_[id] = nullptr;
    free_.push_back(id);
  }
  std::string_view Get(uint32_t id) const { return *strings_[id]; }
  size_t size() const { return ids_.size(); }

  void Save(StateWriter& w) const {
    w.Put<uint64_t>(strings_.size());
    for (size_t id = 0; id < strings_.size(); ++id) {
      w.Put<uint8_t>(strings_[id] != nullptr);
      if (strings_[id] != nullptr) w.PutString(*strings_[id]);
    }
    w.PutVector(refs_);
    w.PutVector(free_);
  }
  bool Load(StateReader& r) {
    owned_.clear();
    ids_.clear();
    strings_.clear();
    uint64_t n = 0;
    if (!r.Get(&n)) return false;
    for (uint64_t id = 0; id < n; ++id) {
      uint8_t present = 0;
      if (!r.Get(&present)) return false;
      if (present == 0) {
        strings_.push_back(nullptr);
        continue;
      }
      std::string s;
      if (!r.GetString(&s)) return false;
      auto [pos, inserted] = owned_.emplace(std::move(s), static_cast<uint32_t>(id));
      if (!inserted) return false;
      strings_.push_back(&pos->first);
      ids_.emplace(std::string_view(pos->first), static_cast<uint32_t>(id));
    }
    if (!r.GetVector(&refs_) || !r.GetVector(&free_) || refs_.size() != n) return false;
    for (uint32_t id : free_) {
      if (id >= n || strings_[id] != nullptr) return false;
    }
    return true;
  }
  bool Valid(uint32_t id) const { return id < strings_.size() && strings_[id] != nullptr; }
  size_t bytes_estimate() const {
    size_t b = strings_.capacity() * (sizeof(void*) + sizeof(uint32_t));
    for (const auto& [s, id] : owned_) b += 64 + s.size();  // two hash nodes per string
    return b;
  }

 private:
  std::unordered_map<std::string, uint32_t> owned_;  // node-based: keys do not move
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::vector<const std::string*> strings_;
  std::vector<uint32_t> refs_;
  std::vector<uint32_t> free_;
};

}  // namespace sluice::features::internal
