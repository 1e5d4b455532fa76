#include "features/internal/sliding_sketch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/check.h"

namespace sluice::features::internal {

// The dense phase: per register a doubly linked list of (time, rank) pairs
// in one node pool, and a tournament tree over the registers' oldest times.
struct SlidingSketch::Dense {
  static constexpr uint16_t kNone = 0xffff;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  struct Node {
    int64_t time;
    uint16_t newer;
    uint16_t older;
    uint8_t rank;
  };
  // 1,024 * 55 pairs at most: node indices fit in 16 bits, below kNone.
  static_assert(kRegisters * kMaxRank < kNone);

  Dense() {
    newest.fill(kNone);
    oldest.fill(kNone);
    ranks.fill(0);
    ranks[0] = kRegisters;
    BuildTree();
  }

  uint8_t Max(size_t reg) const { return oldest[reg] == kNone ? 0 : nodes[oldest[reg]].rank; }
  int64_t OldestTime(size_t reg) const {
    return oldest[reg] == kNone ? kNever : nodes[oldest[reg]].time;
  }
  // The register with the oldest pair under tree node `i` (leaves: i >= kRegisters).
  uint16_t Winner(size_t i) const {
    return static_cast<uint16_t>(i >= kRegisters ? i - kRegisters : tree[i]);
  }
  void Refresh(size_t i) {
    const uint16_t a = Winner(2 * i);
    const uint16_t b = Winner(2 * i + 1);
    tree[i] = OldestTime(b) < OldestTime(a) ? b : a;
  }
  void Fix(size_t reg) {
    for (size_t i = (reg + kRegisters) / 2; i >= 1; i /= 2) Refresh(i);
  }
  void BuildTree() {
    tree[0] = 0;
    for (size_t i = kRegisters - 1; i >= 1; --i) Refresh(i);
  }

  uint16_t NewNode() {
    uint16_t i;
    if (free != kNone) {
      i = free;
      free = nodes[i].older;
    } else {
      constexpr size_t kMaxPairs = kRegisters * kMaxRank;
      SLUICE_CHECK_LT(nodes.size(), kMaxPairs);
      // Capacity doubles, but never beyond the most pairs a sketch can hold.
      if (nodes.size() == nodes.capacity()) {
        nodes.reserve(std::min(kMaxPairs, std::max<size_t>(64, 2 * nodes.capacity())));
      }
      i = static_cast<uint16_t>(nodes.size());
      nodes.push_back({});
    }
    ++live;
    return i;
  }
  void FreeNode(uint16_t i) {
    nodes[i].older = free;
    free = i;
    --live;
  }
  void PopNewest(size_t reg) {
    const uint16_t i = newest[reg];
    newest[reg] = nodes[i].older;
    if (newest[reg] == kNone) {
      oldest[reg] = kNone;
    } else {
      nodes[newest[reg]].newer = kNone;
    }
    FreeNode(i);
  }
  void PopOldest(size_t reg) {
    const uint16_t i = oldest[reg];
    oldest[reg] = nodes[i].newer;
    if (oldest[reg] == kNone) {
      newest[reg] = kNone;
    } else {
      nodes[oldest[reg]].older = kNone;
    }
    FreeNode(i);
  }
  // Appends a pair as the register's newest, without the tree and histogram.
  void Append(size_t reg, int64_t t, uint8_t rank) {
    const uint16_t n = NewNode();
    nodes[n] = Node{t, kNone, newest[reg], rank};
    if (newest[reg] != kNone) {
      nodes[newest[reg]].newer = n;
    } else {
      oldest[reg] = n;
    }
    newest[reg] = n;
  }

  void Push(size_t reg, int64_t t, uint8_t rank) {
    const uint8_t before = Max(reg);
    // Newer pairs of no larger rank can no longer be a maximum: this one
    // outlives them.
    while (newest[reg] != kNone && nodes[newest[reg]].rank <= rank) PopNewest(reg);
    Append(reg, t, rank);
    if (oldest[reg] == newest[reg]) {  // the register's oldest pair changed
      --ranks[before];
      ++ranks[rank];
      Fix(reg);
    }
  }

  void Expire(int64_t horizon) {
    while (live > 0) {
      const uint16_t reg = tree[1];
      if (OldestTime(reg) > horizon) return;
      const uint8_t before = Max(reg);
      while (oldest[reg] != kNone && nodes[oldest[reg]].time <= horizon) PopOldest(reg);
      --ranks[before];
      ++ranks[Max(reg)];
      Fix(reg);
    }
  }

  int64_t Estimate() const {
    static const std::array<double, kMaxRank + 1> kPowers = [] {
      std::array<double, kMaxRank + 1> p{};
      for (int r = 0; r <= kMaxRank; ++r) p[r] = std::ldexp(1.0, -r);  // exact
      return p;
    }();
    double sum = 0;
    for (int r = kMaxRank; r >= 0; --r) sum += static_cast<double>(ranks[r]) * kPowers[r];
    return DistinctSketch::EstimateFrom(sum, ranks[0]);
  }

  std::array<uint16_t, kRegisters> newest;
  std::array<uint16_t, kRegisters> oldest;
  // tree[i], 1 <= i < kRegisters: the register with the oldest pair among the
  // leaves under i (children 2i and 2i + 1; leaf kRegisters + j is register j).
  std::array<uint16_t, kRegisters> tree;
  // Registers by their current maximum rank (0: no pair).
  std::array<uint16_t, kMaxRank + 1> ranks;
  std::vector<Node> nodes;
  uint16_t free = kNone;  // a free list through Node::older
  uint32_t live = 0;      // pairs held
};

SlidingSketch::SlidingSketch() = default;
SlidingSketch::SlidingSketch(SlidingSketch&&) noexcept = default;
SlidingSketch& SlidingSketch::operator=(SlidingSketch&&) noexcept = default;
SlidingSketch::~SlidingSketch() = default;

void SlidingSketch::Add(uint64_t hash, int64_t t) {
  if (dense_ == nullptr) {
    for (size_t i = 0; i < exact_.size(); i += 2) {
      if (exact_[i] == hash) {  // seen again: it becomes the newest
        exact_.erase(exact_.begin() + static_cast<ptrdiff_t>(i),
                     exact_.begin() + static_cast<ptrdiff_t>(i + 2));
        exact_.push_back(hash);
        exact_.push_back(static_cast<uint64_t>(t));
        return;
      }
    }
    if (exact_.size() < 2 * kExact) {
      exact_.push_back(hash);
      exact_.push_back(static_cast<uint64_t>(t));
      return;
    }
    Densify();
  }
  dense_->Push(DistinctSketch::RegisterOf(hash), t, DistinctSketch::RankOf(hash));
}

void SlidingSketch::Densify() {
  dense_ = std::make_unique<Dense>();
  // Oldest first: the lists come out as if every value had gone to the
  // registers (earlier sightings of a value are dominated by its latest).
  for (size_t i = 0; i < exact_.size(); i += 2) {
    dense_->Push(DistinctSketch::RegisterOf(exact_[i]), static_cast<int64_t>(exact_[i + 1]),
                 DistinctSketch::RankOf(exact_[i]));
  }
  std::vector<uint64_t>().swap(exact_);
}

void SlidingSketch::Expire(int64_t horizon) {
  if (dense_ != nullptr) {
    dense_->Expire(horizon);
    if (dense_->live == 0) dense_.reset();  // the state of a key never seen
    return;
  }
  size_t n = 0;
  while (n < exact_.size() && static_cast<int64_t>(exact_[n + 1]) <= horizon) n += 2;
  if (n > 0) exact_.erase(exact_.begin(), exact_.begin() + static_cast<ptrdiff_t>(n));
}

int64_t SlidingSketch::Estimate() const {
  if (dense_ != nullptr) return dense_->Estimate();
  return static_cast<int64_t>(exact_.size() / 2);
}

size_t SlidingSketch::pairs() const {
  return dense_ != nullptr ? dense_->live : 0;
}

size_t SlidingSketch::bytes() const {
  size_t b = exact_.capacity() * sizeof(uint64_t);
  if (dense_ != nullptr) b += sizeof(Dense) + dense_->nodes.capacity() * sizeof(Dense::Node);
  return b;
}

// Image: a phase byte; exact: the (hash, time) words; dense: per register the
// number of pairs, then each pair (time, rank), oldest first.
void SlidingSketch::Save(StateWriter& w) const {
  w.Put<uint8_t>(dense_ != nullptr ? 1 : 0);
  if (dense_ == nullptr) {
    w.PutVector(exact_);
    return;
  }
  const Dense& d = *dense_;
  for (size_t reg = 0; reg < kRegisters; ++reg) {
    uint8_t n = 0;
    for (uint16_t i = d.oldest[reg]; i != Dense::kNone; i = d.nodes[i].newer) ++n;
    w.Put(n);
    for (uint16_t i = d.oldest[reg]; i != Dense::kNone; i = d.nodes[i].newer) {
      w.Put(d.nodes[i].time);
      w.Put(d.nodes[i].rank);
    }
  }
}

bool SlidingSketch::Load(StateReader& r) {
  exact_.clear();
  dense_.reset();
  uint8_t phase = 0;
  if (!r.Get(&phase) || phase > 1) return false;
  if (phase == 0) {
    if (!r.GetVector(&exact_) || exact_.size() % 2 != 0 || exact_.size() > 2 * kExact) {
      return false;
    }
    for (size_t i = 0; i < exact_.size(); i += 2) {
      if (i > 0 && static_cast<int64_t>(exact_[i + 1]) < static_cast<int64_t>(exact_[i - 1])) {
        return false;
      }
      for (size_t j = 0; j < i; j += 2) {
        if (exact_[j] == exact_[i]) return false;
      }
    }
    return true;
  }
  auto d = std::make_unique<Dense>();
  for (size_t reg = 0; reg < kRegisters; ++reg) {
    uint8_t n = 0;
    if (!r.Get(&n) || n > kMaxRank) return false;
    int64_t last_time = std::numeric_limits<int64_t>::min();
    int last_rank = kMaxRank + 1;
    for (uint8_t k = 0; k < n; ++k) {
      int64_t t = 0;
      uint8_t rank = 0;
      // Oldest first: times never fall, ranks fall strictly.
      if (!r.Get(&t) || !r.Get(&rank) || rank < 1 || rank >= last_rank || t < last_time) {
        return false;
      }
      d->Append(reg, t, rank);
      last_time = t;
      last_rank = rank;
    }
    --d->ranks[0];
    ++d->ranks[d->Max(reg)];
  }
  if (d->live == 0) return false;  // an empty sketch is saved in the exact phase
  d->BuildTree();
  dense_ = std::move(d);
  return true;
}

}  // namespace sluice::features::internal
