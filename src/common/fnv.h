#pragma once
// FNV-1a, 64 bits: a fixed, portable hash for content fingerprints (pipeline
// content hashes, feature-definition lineages). Not for hash tables of
// untrusted keys and not a cryptographic hash.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sluice {

inline uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// 16 lower-case hex digits.
inline std::string Fnv1a64Hex(std::string_view bytes) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(Fnv1a64(bytes)));
  return std::string(out, 16);
}

}  // namespace sluice
