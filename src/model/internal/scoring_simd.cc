#include "model/internal/scoring_simd.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SLUICE_SIMD_KERNELS 1
#include <immintrin.h>
#endif

namespace sluice::model::internal {

#ifdef SLUICE_SIMD_KERNELS

// Each function that uses an instruction set carries it as an attribute
// (helpers too: a function without the attribute cannot inline one with it).
#define SLUICE_AVX2 __attribute__((target("avx2")))
#define SLUICE_AVX512 __attribute__((target("avx512f")))

bool SimdKernelsBuilt() {
  return true;
}

namespace {

// The top levels of one complete tree as arrays (thresholds and features
// apart), for loading into registers: levels 0..4 (1 to 16 nodes) at
// 16-node strides, level 5 (32 nodes) after them.
struct TopLevels {
  alignas(64) float threshold[5 * 16 + 32];
  alignas(64) uint32_t feature[5 * 16 + 32];
};

void CopyTopLevels(const CompleteTrees& trees, uint32_t slot, uint32_t levels, TopLevels* top) {
  for (uint32_t d = 0; d < levels; ++d) {
    const CompleteNode* level = trees.level(d) + (size_t{slot} << d);
    for (size_t i = 0; i < (size_t{1} << d); ++i) {
      top->threshold[d * 16 + i] = level[i].threshold;
      top->feature[d * 16 + i] = level[i].feature_and_flags;
    }
  }
}

// Levels [first, depth) of one tree for `lanes` rows from node indices j[]
// within level `first`, in plain code, level by level: below the levels
// held in registers the nodes are scattered, and on AMD Zen 4 scalar loads
// beat gathers there (the deep benchmark model: 173k rows/s scalar, 163k
// with AVX-512 gathers, 90k with AVX2 gathers).
template <bool kDoubled>
inline void WalkDeepLevels(const CompleteTrees& trees, uint32_t slot, uint32_t first,
                           const float* rows, size_t stride, bool missing, size_t lanes,
                           uint32_t* j) {
  for (uint32_t d = first; d < trees.depth; ++d) {
    const CompleteNode* level = trees.level(d) + (size_t{slot} << d);
    for (size_t r = 0; r < lanes; ++r) {
      const CompleteNode node = level[j[r]];
      const uint32_t flags = node.feature_and_flags;
      const uint32_t column =
          kDoubled ? (flags << 1) | (flags >> 31) : flags & kCompleteFeatureMask;
      const float x = rows[r * stride + column];
      auto right = static_cast<uint32_t>(!(x < node.threshold));
      if (!kDoubled && missing) right &= ~(static_cast<uint32_t>(std::isnan(x)) & (flags >> 31));
      j[r] = 2 * j[r] + right;
    }
  }
}

// ----- AVX-512: 16 lanes -----

// i = 2i + right for 16 lanes, where right is !(x < threshold) unless x is
// missing and the node sends missing values left.
SLUICE_AVX512 inline __m512i StepAvx512(__m512i i, __m512 x, __m512 threshold, __m512i feature,
                                        bool missing) {
  __mmask16 right = _mm512_cmp_ps_mask(x, threshold, _CMP_NLT_UQ);
  if (missing) {
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    const __mmask16 missing_left =
        _mm512_test_epi32_mask(feature, _mm512_set1_epi32(static_cast<int>(kCompleteMissingLeft)));
    right = static_cast<__mmask16>(right & ~(nan & missing_left));
  }
  i = _mm512_add_epi32(i, i);
  return _mm512_mask_add_epi32(i, right, i, _mm512_set1_epi32(1));
}

// The value each lane's node tests, for lanes in `active` (0 elsewhere): in
// doubled rows at column 2f + missing-goes-left (a rotation by one), else at f.
template <bool kDoubled>
SLUICE_AVX512 inline __m512 GatherRowsAvx512(__mmask16 active, __m512i lane_offsets,
                                             __m512i feature, const float* rows) {
  const __m512i column = kDoubled
                             ? _mm512_rol_epi32(feature, 1)
                             : _mm512_and_si512(feature, _mm512_set1_epi32(kCompleteFeatureMask));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active,
                                  _mm512_add_epi32(lane_offsets, column), rows, 4);
}

// Thresholds and features of 16 nodes held 8 and 8 in `low` and `high`.
SLUICE_AVX512 inline void SplitNodesAvx512(__m512i low, __m512i high, __m512* threshold,
                                           __m512i* feature) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  *threshold = _mm512_castsi512_ps(_mm512_permutex2var_epi32(low, even, high));
  *feature = _mm512_permutex2var_epi32(low, odd, high);
}

// nodes[index[lane]] for lanes in `active` (zero elsewhere), by two 8-lane
// gathers of whole 8-byte nodes: half the elements of gathering thresholds
// and features apart.
SLUICE_AVX512 inline void GatherNodesAvx512(const CompleteNode* nodes, __m512i index,
                                            __mmask16 active, __m512* threshold,
                                            __m512i* feature) {
  const auto* base = reinterpret_cast<const long long*>(nodes);
  const __m512i low = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(),
                                                  static_cast<__mmask8>(active),
                                                  _mm512_castsi512_si256(index), base, 8);
  const __m512i high = _mm512_mask_i32gather_epi64(
      _mm512_setzero_si512(), static_cast<__mmask8>(active >> 8),
      _mm512_extracti64x4_epi64(index, 1), base, 8);
  SplitNodesAvx512(low, high, threshold, feature);
}

// One tree, 16 rows per vector. kTop: levels whose nodes are looked up in
// registers (at most 6; level 5 spans two registers); deeper levels are
// walked in plain code (WalkDeepLevels). `missing`: test for NaN at every
// node (RowForm::kPlain).
template <uint32_t kTop, bool kDoubled>
SLUICE_AVX512 void AddTreeToRowsAvx512Impl(const CompleteTrees& trees, uint32_t slot,
                                           const float* x, size_t count, size_t stride,
                                           bool missing, float* out, size_t out_stride) {
  const uint32_t depth = trees.depth;
  const float* leaves = trees.leaves.data() + (size_t{slot} << depth);
  TopLevels top{};
  CopyTopLevels(trees, slot, kTop, &top);
  __m512 threshold[6];
  __m512i feature[6];
  __m512 threshold_high = _mm512_setzero_ps();
  __m512i feature_high = _mm512_setzero_si512();
  for (uint32_t d = 0; d < kTop; ++d) {
    threshold[d] = _mm512_load_ps(top.threshold + d * 16);
    feature[d] = _mm512_load_si512(top.feature + d * 16);
  }
  if constexpr (kTop == 6) {
    threshold_high = _mm512_load_ps(top.threshold + 5 * 16 + 16);
    feature_high = _mm512_load_si512(top.feature + 5 * 16 + 16);
  }
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lane_offsets = _mm512_mullo_epi32(iota, _mm512_set1_epi32(static_cast<int>(stride)));
  const __m512i out_offsets =
      _mm512_mullo_epi32(iota, _mm512_set1_epi32(static_cast<int>(out_stride)));
  for (size_t v = 0; v < count; v += 16) {
    const __mmask16 active =
        count - v >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (count - v)) - 1);
    const float* rows = x + v * stride;
    __m512i j = _mm512_setzero_si512();  // node index within the tree's level
    for (uint32_t d = 0; d < std::min(kTop, 5u); ++d) {
      const __m512i f = _mm512_permutexvar_epi32(j, feature[d]);
      const __m512 t = _mm512_permutexvar_ps(j, threshold[d]);
      j = StepAvx512(j, GatherRowsAvx512<kDoubled>(active, lane_offsets, f, rows), t, f, missing);
    }
    if constexpr (kTop == 6) {
      const __m512i f = _mm512_permutex2var_epi32(feature[5], j, feature_high);
      const __m512 t = _mm512_permutex2var_ps(threshold[5], j, threshold_high);
      j = StepAvx512(j, GatherRowsAvx512<kDoubled>(active, lane_offsets, f, rows), t, f, missing);
    }
    if (depth > kTop) {
      alignas(64) uint32_t lanes[16];
      _mm512_store_si512(lanes, j);
      WalkDeepLevels<kDoubled>(trees, slot, kTop, rows, stride, missing,
                               std::min<size_t>(16, count - v), lanes);
      j = _mm512_load_si512(lanes);
    }
    const __m512 leaf = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active, j, leaves, 4);
    float* o = out + v * out_stride;
    if (out_stride == 1) {
      const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(active, o), leaf);
      _mm512_mask_storeu_ps(o, active, sum);
    } else {
      const __m512 old = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active, out_offsets, o, 4);
      _mm512_mask_i32scatter_ps(o, active, out_offsets, _mm512_add_ps(old, leaf), 4);
    }
  }
}

// x[feature[lane]] of one row: from one or two registers holding the row
// when it has at most 32 features, else gathered.
struct RowAvx512 {
  __m512 low;
  __m512 high;
  const float* row;
  size_t num_features;
};

SLUICE_AVX512 inline __m512 ValueOfAvx512(const RowAvx512& row, __m512i feature,
                                          __mmask16 active) {
  if (row.num_features <= 16) return _mm512_permutexvar_ps(feature, row.low);
  if (row.num_features <= 32) return _mm512_permutex2var_ps(row.low, feature, row.high);
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active,
                                  _mm512_and_si512(feature, _mm512_set1_epi32(kCompleteFeatureMask)),
                                  row.row, 4);
}

// The node at heap position 2^kLevel - 1 + j[lane] of 16 consecutive trees,
// from the node-major copy of the top levels: the level's 2^kLevel nodes are
// loaded for all lanes, then halved by blends on the bits of j.
template <uint32_t kLevel>
SLUICE_AVX512 inline void SelectTopNodeAvx512(const CompleteTrees& trees, size_t first,
                                              __mmask16 active, __m512i j, __m512* threshold,
                                              __m512i* feature) {
  constexpr size_t kNodes = size_t{1} << kLevel;
  __m512 t[kNodes];
  __m512i f[kNodes];
  for (size_t c = 0; c < kNodes; ++c) {
    const size_t at = (kNodes - 1 + c) * trees.stored + first;
    t[c] = _mm512_maskz_loadu_ps(active, trees.top_thresholds.data() + at);
    f[c] = _mm512_maskz_loadu_epi32(active, trees.top_features.data() + at);
  }
  for (size_t bit = 0, width = kNodes; width > 1; ++bit, width /= 2) {
    const __mmask16 set = _mm512_test_epi32_mask(j, _mm512_set1_epi32(1 << (kLevel - 1 - bit)));
    for (size_t c = 0; c < width / 2; ++c) {
      t[c] = _mm512_mask_blend_ps(set, t[c], t[c + width / 2]);
      f[c] = _mm512_mask_blend_epi32(set, f[c], f[c + width / 2]);
    }
  }
  *threshold = t[0];
  *feature = f[0];
}

// Levels [0, kTop) of 16 consecutive trees for one row; returns each lane's
// heap position within level kTop.
template <uint32_t kTop>
SLUICE_AVX512 inline __m512i WalkTopLevelsAvx512(const CompleteTrees& trees, size_t first,
                                                 __mmask16 active, const RowAvx512& row,
                                                 bool missing) {
  __m512i j = _mm512_setzero_si512();
  __m512 t;
  __m512i f;
  if constexpr (kTop >= 1) {
    SelectTopNodeAvx512<0>(trees, first, active, j, &t, &f);
    j = StepAvx512(j, ValueOfAvx512(row, f, active), t, f, missing);
  }
  if constexpr (kTop >= 2) {
    SelectTopNodeAvx512<1>(trees, first, active, j, &t, &f);
    j = StepAvx512(j, ValueOfAvx512(row, f, active), t, f, missing);
  }
  if constexpr (kTop >= 3) {
    SelectTopNodeAvx512<2>(trees, first, active, j, &t, &f);
    j = StepAvx512(j, ValueOfAvx512(row, f, active), t, f, missing);
  }
  return j;
}

// One row through up to 16 * kVectors trees, a tree per lane. The top kTop
// levels come from the node-major copy (loads and blends); the levels below
// are walked by all vectors a level at a time so that their gathers overlap.
template <size_t kVectors, uint32_t kTop>
SLUICE_AVX512 void TreeValuesOfRowAvx512Impl(const CompleteTrees& trees, uint32_t first_slot,
                                             size_t count, const float* row, bool missing,
                                             float* values) {
  const size_t num_features = trees.num_features;
  RowAvx512 r{_mm512_maskz_loadu_ps(
                  static_cast<__mmask16>((1u << std::min<size_t>(num_features, 16)) - 1), row),
              _mm512_setzero_ps(), row, num_features};
  if (num_features > 16 && num_features <= 32) {
    r.high = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << (num_features - 16)) - 1),
                                   row + 16);
  }
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i i[kVectors];  // each lane's node index within the level
  __mmask16 active[kVectors];
  for (size_t v = 0; v < kVectors; ++v) {
    const size_t n = std::min<size_t>(16, count - 16 * v);
    active[v] = n == 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << n) - 1);
    const size_t first = first_slot + 16 * v;
    const __m512i j = WalkTopLevelsAvx512<kTop>(trees, first, active[v], r, missing);
    // The index within level kTop: slot * 2^kTop + j.
    const __m512i slots = _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int>(first)));
    i[v] = _mm512_add_epi32(_mm512_mullo_epi32(slots, _mm512_set1_epi32(1 << kTop)), j);
  }
  for (uint32_t d = kTop; d < trees.depth; ++d) {
    const CompleteNode* level = trees.level(d);
    for (size_t v = 0; v < kVectors; ++v) {
      __m512 t;
      __m512i f;
      GatherNodesAvx512(level, i[v], active[v], &t, &f);
      i[v] = StepAvx512(i[v], ValueOfAvx512(r, f, active[v]), t, f, missing);
    }
  }
  for (size_t v = 0; v < kVectors; ++v) {
    const __m512 leaf =
        _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active[v], i[v], trees.leaves.data(), 4);
    _mm512_mask_storeu_ps(values + 16 * v, active[v], leaf);
  }
}

template <size_t kVectors>
SLUICE_AVX512 void TreeValuesOfRowAvx512Vectors(const CompleteTrees& trees, uint32_t first_slot,
                                                size_t count, const float* row, bool missing,
                                                float* values) {
  static_assert(CompleteTrees::kTopLevels == 3);
  switch (std::min(trees.depth, CompleteTrees::kTopLevels)) {
    case 0:
      return TreeValuesOfRowAvx512Impl<kVectors, 0>(trees, first_slot, count, row, missing, values);
    case 1:
      return TreeValuesOfRowAvx512Impl<kVectors, 1>(trees, first_slot, count, row, missing, values);
    case 2:
      return TreeValuesOfRowAvx512Impl<kVectors, 2>(trees, first_slot, count, row, missing, values);
    default:
      return TreeValuesOfRowAvx512Impl<kVectors, 3>(trees, first_slot, count, row, missing, values);
  }
}

// ----- AVX2: 8 lanes -----

SLUICE_AVX2 inline __m256i StepAvx2(__m256i j, __m256 x, __m256 threshold, __m256i feature,
                                    bool missing) {
  __m256 right = _mm256_cmp_ps(x, threshold, _CMP_NLT_UQ);
  if (missing) {
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    const __m256 missing_left = _mm256_castsi256_ps(_mm256_srai_epi32(feature, 31));
    right = _mm256_andnot_ps(_mm256_and_ps(nan, missing_left), right);
  }
  // right is all ones (-1) where the row goes right.
  return _mm256_sub_epi32(_mm256_add_epi32(j, j), _mm256_castps_si256(right));
}

template <bool kDoubled>
SLUICE_AVX2 inline __m256 GatherRowsAvx2(__m256 active, __m256i lane_offsets, __m256i feature,
                                         const float* rows) {
  const __m256i column =
      kDoubled ? _mm256_or_si256(_mm256_slli_epi32(feature, 1), _mm256_srli_epi32(feature, 31))
               : _mm256_and_si256(feature, _mm256_set1_epi32(kCompleteFeatureMask));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), rows,
                                  _mm256_add_epi32(lane_offsets, column), active, 4);
}

// One tree, 8 rows per vector. kTop: levels (at most 4, up to 8 nodes)
// looked up in registers; deeper levels are walked in plain code.
template <uint32_t kTop, bool kDoubled>
SLUICE_AVX2 void AddTreeToRowsAvx2Impl(const CompleteTrees& trees, uint32_t slot, const float* x,
                                       size_t count, size_t stride, bool missing, float* out,
                                       size_t out_stride) {
  const uint32_t depth = trees.depth;
  const float* leaves = trees.leaves.data() + (size_t{slot} << depth);
  TopLevels top{};
  CopyTopLevels(trees, slot, kTop, &top);
  __m256 threshold[4];
  __m256i feature[4];
  for (uint32_t d = 0; d < kTop; ++d) {
    threshold[d] = _mm256_load_ps(top.threshold + d * 16);
    feature[d] = _mm256_load_si256(reinterpret_cast<const __m256i*>(top.feature + d * 16));
  }
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane_offsets = _mm256_mullo_epi32(iota, _mm256_set1_epi32(static_cast<int>(stride)));
  const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  for (size_t v = 0; v < count; v += 8) {
    const size_t n = std::min<size_t>(8, count - v);
    const __m256 active =
        n == 8 ? all
               : _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), iota));
    const float* rows = x + v * stride;
    __m256i j = _mm256_setzero_si256();  // node index within the tree's level
    for (uint32_t d = 0; d < kTop; ++d) {
      const __m256i f = _mm256_permutevar8x32_epi32(feature[d], j);
      const __m256 t = _mm256_permutevar8x32_ps(threshold[d], j);
      j = StepAvx2(j, GatherRowsAvx2<kDoubled>(active, lane_offsets, f, rows), t, f, missing);
    }
    if (depth > kTop) {
      alignas(32) uint32_t lanes[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), j);
      WalkDeepLevels<kDoubled>(trees, slot, kTop, rows, stride, missing, n, lanes);
      j = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
    }
    const __m256 leaf = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), leaves, j, active, 4);
    float* o = out + v * out_stride;
    if (out_stride == 1 && n == 8) {
      _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), leaf));
    } else {
      alignas(32) float values[8];
      _mm256_store_ps(values, leaf);
      for (size_t r = 0; r < n; ++r) o[r * out_stride] += values[r];
    }
  }
}

template <bool kDoubled>
void AddTreeToRowsAvx512Form(const CompleteTrees& trees, uint32_t slot, const float* x,
                             size_t count, size_t stride, bool missing, float* out,
                             size_t out_stride) {
  switch (std::min(trees.depth, 6u)) {
    case 0: {
      const float value = trees.leaves[slot];
      for (size_t r = 0; r < count; ++r) out[r * out_stride] += value;
      return;
    }
    case 1:
      return AddTreeToRowsAvx512Impl<1, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
    case 2:
      return AddTreeToRowsAvx512Impl<2, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
    case 3:
      return AddTreeToRowsAvx512Impl<3, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
    case 4:
      return AddTreeToRowsAvx512Impl<4, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
    case 5:
      return AddTreeToRowsAvx512Impl<5, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
    default:
      return AddTreeToRowsAvx512Impl<6, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                  out_stride);
  }
}

template <bool kDoubled>
void AddTreeToRowsAvx2Form(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                           size_t stride, bool missing, float* out, size_t out_stride) {
  switch (std::min(trees.depth, 4u)) {
    case 0: {
      const float value = trees.leaves[slot];
      for (size_t r = 0; r < count; ++r) out[r * out_stride] += value;
      return;
    }
    case 1:
      return AddTreeToRowsAvx2Impl<1, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                out_stride);
    case 2:
      return AddTreeToRowsAvx2Impl<2, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                out_stride);
    case 3:
      return AddTreeToRowsAvx2Impl<3, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                out_stride);
    default:
      return AddTreeToRowsAvx2Impl<4, kDoubled>(trees, slot, x, count, stride, missing, out,
                                                out_stride);
  }
}

}  // namespace

void AddTreeToRowsAvx512(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                         size_t stride, RowForm form, float* out, size_t out_stride) {
  if (form == RowForm::kDoubled) {
    AddTreeToRowsAvx512Form<true>(trees, slot, x, count, stride, false, out, out_stride);
  } else {
    AddTreeToRowsAvx512Form<false>(trees, slot, x, count, stride, form == RowForm::kPlain, out,
                                   out_stride);
  }
}

void AddTreeToRowsAvx2(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                       size_t stride, RowForm form, float* out, size_t out_stride) {
  if (form == RowForm::kDoubled) {
    AddTreeToRowsAvx2Form<true>(trees, slot, x, count, stride, false, out, out_stride);
  } else {
    AddTreeToRowsAvx2Form<false>(trees, slot, x, count, stride, form == RowForm::kPlain, out,
                                 out_stride);
  }
}

void TreeValuesOfRowAvx512(const CompleteTrees& trees, uint32_t first_slot, size_t count,
                           const float* row, bool missing, float* values) {
  static_assert(kTreesAtOnce <= 64, "four vectors of 16 trees at most");
  switch ((count + 15) / 16) {
    case 1:
      return TreeValuesOfRowAvx512Vectors<1>(trees, first_slot, count, row, missing, values);
    case 2:
      return TreeValuesOfRowAvx512Vectors<2>(trees, first_slot, count, row, missing, values);
    case 3:
      return TreeValuesOfRowAvx512Vectors<3>(trees, first_slot, count, row, missing, values);
    default:
      return TreeValuesOfRowAvx512Vectors<4>(trees, first_slot, count, row, missing, values);
  }
}

#else  // no SIMD kernels on this target

bool SimdKernelsBuilt() {
  return false;
}

void AddTreeToRowsAvx2(const CompleteTrees&, uint32_t, const float*, size_t, size_t, RowForm,
                       float*, size_t) {
  std::abort();
}
void AddTreeToRowsAvx512(const CompleteTrees&, uint32_t, const float*, size_t, size_t, RowForm,
                         float*, size_t) {
  std::abort();
}
void TreeValuesOfRowAvx512(const CompleteTrees&, uint32_t, size_t, const float*, bool, float*) {
  std::abort();
}

#endif

}  // namespace sluice::model::internal
