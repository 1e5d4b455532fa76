#pragma once
// The AVX2 and AVX-512 kernels of scoring.h, compiled for those instruction
// sets by function attributes (the build has no -march); callers check
// KernelSupported first. Same contracts as AddTreeToRows and TreeValuesOfRow.
// There is no AVX2 walk of one row through many trees: with 8-lane gathers
// it was slower than the scalar walk (2.1-2.7 us against 1.2 us per row of
// the benchmark's small model, AMD EPYC), so kAvx2 uses the scalar one.

#include <cstddef>
#include <cstdint>

#include "model/internal/scoring.h"

namespace sluice::model::internal {

// False where the kernels below are not compiled (not x86-64).
bool SimdKernelsBuilt();

void AddTreeToRowsAvx2(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                       size_t stride, RowForm form, float* out, size_t out_stride);
void AddTreeToRowsAvx512(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                         size_t stride, RowForm form, float* out, size_t out_stride);
void TreeValuesOfRowAvx512(const CompleteTrees& trees, uint32_t first_slot, size_t count,
                           const float* row, bool missing, float* values);

}  // namespace sluice::model::internal
