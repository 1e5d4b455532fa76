#pragma once
// DistinctSketch: approx_count_distinct for one key. Up to kExact distinct
// 64-bit value hashes are kept as they are (the count is exact, up to hash
// collisions); beyond that, a HyperLogLog of 2^10 registers (Flajolet et
// al. 2007, with linear counting for small estimates; 64-bit hashes need no
// large-range correction). Standard error 1.04 / sqrt(1024) = 3.25%;
// memory: 8 bytes per value up to kExact values, then 1 KiB.

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/binary_io.h"

namespace sluice::features::internal {

class DistinctSketch {
 public:
  static constexpr int kPrecision = 10;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  static constexpr size_t kExact = 64;
  static constexpr int kMaxRank = 64 - kPrecision + 1;

  void Add(uint64_t hash) {
    if (!dense_) {
      for (uint64_t h : words_) {
        if (h == hash) return;
      }
      if (words_.size() < kExact) {
        words_.push_back(hash);
        return;
      }
      Densify();
    }
    Update(hash);
  }

  int64_t Estimate() const {
    if (!dense_) return static_cast<int64_t>(words_.size());
    double sum = 0;
    size_t zeros = 0;
    for (size_t j = 0; j < kRegisters; ++j) {
      const uint8_t m = Register(j);
      sum += std::ldexp(1.0, -m);
      zeros += m == 0;
    }
    return EstimateFrom(sum, zeros);
  }

  // The estimate from sum(2^-register) over the registers and the number of
  // zero registers (shared with SlidingSketch).
  static int64_t EstimateFrom(double sum, size_t zeros) {
    constexpr double m = static_cast<double>(kRegisters);
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / static_cast<double>(zeros));
    return std::llround(e);
  }
  // The register a hash updates, and its rank there (1 to kMaxRank).
  static size_t RegisterOf(uint64_t hash) { return hash >> (64 - kPrecision); }
  static uint8_t RankOf(uint64_t hash) {
    // Rank: position of the first 1 bit in the remaining 54 bits (1-based).
    const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
    return static_cast<uint8_t>(std::countl_zero(rest) + 1);
  }

  size_t bytes() const { return words_.capacity() * sizeof(uint64_t); }

  void Save(StateWriter& w) const {
    w.Put<uint8_t>(dense_ ? 1 : 0);
    w.PutVector(words_);
  }
  bool Load(StateReader& r) {
    uint8_t dense = 0;
    if (!r.Get(&dense) || dense > 1 || !r.GetVector(&words_)) return false;
    dense_ = dense != 0;
    return dense_ ? words_.size() == kRegisters / 8 : words_.size() <= kExact;
  }

 private:
  uint8_t Register(size_t j) const { return static_cast<uint8_t>(words_[j / 8] >> (8 * (j % 8))); }
  void Update(uint64_t hash) {
    const size_t j = RegisterOf(hash);
    const uint8_t rank = RankOf(hash);
    if (rank > Register(j)) {
      uint64_t& word = words_[j / 8];
      const int shift = static_cast<int>(8 * (j % 8));
      word = (word & ~(uint64_t{0xff} << shift)) | (uint64_t{rank} << shift);
    }
  }
  void Densify() {
    std::vector<uint64_t> exact = std::move(words_);
    words_.assign(kRegisters / 8, 0);
    words_.shrink_to_fit();
    dense_ = true;
    for (uint64_t h : exact) Update(h);
  }

  bool dense_ = false;
  // Exact: the distinct hashes. Dense: 1024 one-byte registers, 8 per word.
  std::vector<uint64_t> words_;
};

}  // namespace sluice::features::internal
