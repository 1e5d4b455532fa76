#pragma once
// Loop templates shared by the kernel files. A functor returns the validity
// (0 or 1) of its result and writes the value; functors that can raise
// record errors also provide `bool Error(args...)`, evaluated only for rows
// that came out null although their inputs were valid.

#include <cstdint>
#include <cstring>
#include <string_view>

#include "expr/internal/kernels.h"

namespace sluice::expr::internal {

// 1 if `x` is finite (neither NaN nor +-Inf). Branch-free so loops vectorise.
inline uint8_t Finite(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint8_t>((bits & 0x7ff0000000000000ULL) != 0x7ff0000000000000ULL);
}

inline bool Live(const uint8_t* guard, size_t i) {
  return guard == nullptr || guard[i] != 0;
}

inline const uint8_t* GuardData(Batch& batch, const ErrorSite& err) {
  return err.guard < 0 ? nullptr : batch.column(err.guard).data<uint8_t>();
}

template <typename A, typename Out, typename F>
class UnaryMap final : public Instruction {
 public:
  UnaryMap(int a, int out, F f, ErrorSite err = {}) : a_(a), out_(out), f_(f), err_(err) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const A* a = batch.column(a_).template data<A>();
    const uint8_t* av = batch.column(a_).valid();
    Out* o = batch.column(out_).template data<Out>();
    uint8_t* ov = batch.column(out_).valid();
    uint8_t lost = 0;
    for (size_t i = 0; i < n; ++i) {
      Out r{};
      const uint8_t ok = f_(a[i], r);
      o[i] = r;
      ov[i] = av[i] & ok;
      lost |= av[i] & (ok ^ 1);
    }
    if constexpr (requires { f_.Error(a[0]); }) {
      if (lost == 0 || err_.code == 0) return;
      const uint8_t* g = GuardData(batch, err_);
      for (size_t i = 0; i < n; ++i) {
        if (av[i] && !ov[i] && Live(g, i) && f_.Error(a[i])) batch.SetRowError(i, err_.code);
      }
    }
  }

 private:
  int a_, out_;
  F f_;
  ErrorSite err_;
};

template <typename A, typename B, typename Out, typename F>
class BinaryMap final : public Instruction {
 public:
  BinaryMap(int a, int b, int out, F f, ErrorSite err = {})
      : a_(a), b_(b), out_(out), f_(f), err_(err) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const A* a = batch.column(a_).template data<A>();
    const uint8_t* av = batch.column(a_).valid();
    const B* b = batch.column(b_).template data<B>();
    const uint8_t* bv = batch.column(b_).valid();
    Out* o = batch.column(out_).template data<Out>();
    uint8_t* ov = batch.column(out_).valid();
    uint8_t lost = 0;
    for (size_t i = 0; i < n; ++i) {
      Out r{};
      const uint8_t ok = f_(a[i], b[i], r);
      const uint8_t in = av[i] & bv[i];
      o[i] = r;
      ov[i] = in & ok;
      lost |= in & (ok ^ 1);
    }
    if constexpr (requires { f_.Error(a[0], b[0]); }) {
      if (lost == 0 || err_.code == 0) return;
      const uint8_t* g = GuardData(batch, err_);
      for (size_t i = 0; i < n; ++i) {
        if (av[i] && bv[i] && !ov[i] && Live(g, i) && f_.Error(a[i], b[i])) {
          batch.SetRowError(i, err_.code);
        }
      }
    }
  }

 private:
  int a_, b_, out_;
  F f_;
  ErrorSite err_;
};

template <typename A, typename Out, typename F>
InstructionPtr MakeUnary(int a, int out, F f, ErrorSite err = {}) {
  return std::make_unique<UnaryMap<A, Out, F>>(a, out, f, err);
}
template <typename A, typename B, typename Out, typename F>
InstructionPtr MakeBinary(int a, int b, int out, F f, ErrorSite err = {}) {
  return std::make_unique<BinaryMap<A, B, Out, F>>(a, b, out, f, err);
}

// Calls `fn(T{})` with T the physical element type of `kind`.
template <typename Fn>
auto DispatchPhysical(TypeKind kind, Fn&& fn) {
  switch (kind) {
    case TypeKind::kNull:
    case TypeKind::kBool:
      return fn(uint8_t{});
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      return fn(int64_t{});
    case TypeKind::kFloat64:
      return fn(double{});
    case TypeKind::kEnum:
      return fn(int32_t{});
    case TypeKind::kString:
      return fn(std::string_view{});
  }
  return fn(uint8_t{});
}

}  // namespace sluice::expr::internal
