// Comparisons, three-valued logic, guards and value selection.

#include <type_traits>

#include "common/check.h"
#include "expr/internal/kernel_loops.h"

namespace sluice::expr::internal {
namespace {

template <typename T>
constexpr bool kIsView = std::is_same_v<T, std::string_view>;

template <typename T, typename Cmp>
class CompareKernel final : public Instruction {
 public:
  CompareKernel(int a, int b, int out) : a_(a), b_(b), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const T* a = batch.column(a_).template data<T>();
    const uint8_t* av = batch.column(a_).valid();
    const T* b = batch.column(b_).template data<T>();
    const uint8_t* bv = batch.column(b_).valid();
    uint8_t* o = batch.column(out_).data<uint8_t>();
    uint8_t* ov = batch.column(out_).valid();
    Cmp cmp;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t in = av[i] & bv[i];
      if constexpr (kIsView<T>) {
        o[i] = in ? static_cast<uint8_t>(cmp(a[i], b[i])) : 0;
      } else {
        o[i] = static_cast<uint8_t>(cmp(a[i], b[i]));
      }
      ov[i] = in;
    }
  }

 private:
  int a_, b_, out_;
};

template <typename T>
InstructionPtr CompareTyped(CmpOp op, int a, int b, int out) {
  switch (op) {
    case CmpOp::kEq:
      return std::make_unique<CompareKernel<T, std::equal_to<T>>>(a, b, out);
    case CmpOp::kNe:
      return std::make_unique<CompareKernel<T, std::not_equal_to<T>>>(a, b, out);
    case CmpOp::kLt:
      return std::make_unique<CompareKernel<T, std::less<T>>>(a, b, out);
    case CmpOp::kLe:
      return std::make_unique<CompareKernel<T, std::less_equal<T>>>(a, b, out);
    case CmpOp::kGt:
      return std::make_unique<CompareKernel<T, std::greater<T>>>(a, b, out);
    case CmpOp::kGe:
      return std::make_unique<CompareKernel<T, std::greater_equal<T>>>(a, b, out);
  }
  return nullptr;
}

// Bool columns hold 0 or 1 in every slot that is valid; slots of nulls are
// masked out with the validity bytes.
class LogicKernel final : public Instruction {
 public:
  LogicKernel(bool is_and, int a, int b, int out) : is_and_(is_and), a_(a), b_(b), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const uint8_t* a = batch.column(a_).data<uint8_t>();
    const uint8_t* av = batch.column(a_).valid();
    const uint8_t* b = batch.column(b_).data<uint8_t>();
    const uint8_t* bv = batch.column(b_).valid();
    uint8_t* o = batch.column(out_).data<uint8_t>();
    uint8_t* ov = batch.column(out_).valid();
    if (is_and_) {
      for (size_t i = 0; i < n; ++i) {
        const uint8_t at = av[i] & a[i], bt = bv[i] & b[i];
        const uint8_t af = av[i] & (a[i] ^ 1), bf = bv[i] & (b[i] ^ 1);
        o[i] = at & bt;
        ov[i] = (at & bt) | af | bf;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        const uint8_t at = av[i] & a[i], bt = bv[i] & b[i];
        const uint8_t af = av[i] & (a[i] ^ 1), bf = bv[i] & (b[i] ^ 1);
        o[i] = at | bt;
        ov[i] = at | bt | (af & bf);
      }
    }
  }

 private:
  bool is_and_;
  int a_, b_, out_;
};

class GuardKernel final : public Instruction {
 public:
  GuardKernel(int parent, int col, GuardTest test, int out)
      : parent_(parent), col_(col), test_(test), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const uint8_t* p = parent_ < 0 ? nullptr : batch.column(parent_).data<uint8_t>();
    const uint8_t* c = batch.column(col_).data<uint8_t>();
    const uint8_t* cv = batch.column(col_).valid();
    uint8_t* o = batch.column(out_).data<uint8_t>();
    std::memset(batch.column(out_).valid(), 1, n);
    for (size_t i = 0; i < n; ++i) {
      uint8_t t = 0;
      switch (test_) {
        case GuardTest::kTrue:
          t = cv[i] & c[i];
          break;
        case GuardTest::kNotTrue:
          t = (cv[i] & c[i]) ^ 1;
          break;
        case GuardTest::kNull:
          t = cv[i] ^ 1;
          break;
        case GuardTest::kNotFalse:
          t = (cv[i] & (c[i] ^ 1)) ^ 1;
          break;
      }
      o[i] = p ? static_cast<uint8_t>(p[i] & t) : t;
    }
  }

 private:
  int parent_, col_;
  GuardTest test_;
  int out_;
};

template <typename T>
class SelectKernel final : public Instruction {
 public:
  SelectKernel(int cond, int a, int b, int out) : cond_(cond), a_(a), b_(b), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const uint8_t* c = batch.column(cond_).data<uint8_t>();
    const uint8_t* cv = batch.column(cond_).valid();
    const T* a = batch.column(a_).template data<T>();
    const uint8_t* av = batch.column(a_).valid();
    const T* b = batch.column(b_).template data<T>();
    const uint8_t* bv = batch.column(b_).valid();
    T* o = batch.column(out_).template data<T>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      const bool take_a = (cv[i] & c[i]) != 0;
      o[i] = take_a ? a[i] : b[i];
      ov[i] = take_a ? av[i] : bv[i];
    }
  }

 private:
  int cond_, a_, b_, out_;
};

template <typename T>
class CoalesceKernel final : public Instruction {
 public:
  CoalesceKernel(int a, int b, int out) : a_(a), b_(b), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const T* a = batch.column(a_).template data<T>();
    const uint8_t* av = batch.column(a_).valid();
    const T* b = batch.column(b_).template data<T>();
    const uint8_t* bv = batch.column(b_).valid();
    T* o = batch.column(out_).template data<T>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      o[i] = av[i] ? a[i] : b[i];
      ov[i] = av[i] | bv[i];
    }
  }

 private:
  int a_, b_, out_;
};

template <typename T>
class NullIfKernel final : public Instruction {
 public:
  NullIfKernel(int a, int eq, int out) : a_(a), eq_(eq), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const T* a = batch.column(a_).template data<T>();
    const uint8_t* av = batch.column(a_).valid();
    const uint8_t* e = batch.column(eq_).data<uint8_t>();
    const uint8_t* ev = batch.column(eq_).valid();
    T* o = batch.column(out_).template data<T>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      o[i] = a[i];
      ov[i] = av[i] & ((ev[i] & e[i]) ^ 1);
    }
  }

 private:
  int a_, eq_, out_;
};

template <typename T>
class MinMaxKernel final : public Instruction {
 public:
  MinMaxKernel(bool max, int a, int b, int out) : max_(max), a_(a), b_(b), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const T* a = batch.column(a_).template data<T>();
    const uint8_t* av = batch.column(a_).valid();
    const T* b = batch.column(b_).template data<T>();
    const uint8_t* bv = batch.column(b_).valid();
    T* o = batch.column(out_).template data<T>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      const bool both = av[i] && bv[i];
      // Take b when it is the only value, or when both are and b wins.
      const bool take_b = both ? (max_ ? a[i] < b[i] : b[i] < a[i]) : !av[i];
      o[i] = take_b ? b[i] : a[i];
      ov[i] = av[i] | bv[i];
    }
  }

 private:
  bool max_;
  int a_, b_, out_;
};

template <typename T>
class ClampKernel final : public Instruction {
 public:
  ClampKernel(int x, int lo, int hi, int out) : x_(x), lo_(lo), hi_(hi), out_(out) {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const T* x = batch.column(x_).template data<T>();
    const T* lo = batch.column(lo_).template data<T>();
    const T* hi = batch.column(hi_).template data<T>();
    const uint8_t* xv = batch.column(x_).valid();
    const uint8_t* lv = batch.column(lo_).valid();
    const uint8_t* hv = batch.column(hi_).valid();
    T* o = batch.column(out_).template data<T>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t in = xv[i] & lv[i] & hv[i];
      if constexpr (kIsView<T>) {
        if (!in) {
          o[i] = {};
          ov[i] = 0;
          continue;
        }
      }
      T r = x[i] < lo[i] ? lo[i] : x[i];
      r = hi[i] < r ? hi[i] : r;
      o[i] = r;
      ov[i] = in;
    }
  }

 private:
  int x_, lo_, hi_, out_;
};

}  // namespace

InstructionPtr Compare(CmpOp op, TypeKind kind, int a, int b, int out) {
  return DispatchPhysical(kind, [&](auto t) { return CompareTyped<decltype(t)>(op, a, b, out); });
}

InstructionPtr And(int a, int b, int out) {
  return std::make_unique<LogicKernel>(true, a, b, out);
}
InstructionPtr Or(int a, int b, int out) {
  return std::make_unique<LogicKernel>(false, a, b, out);
}

InstructionPtr Not(int a, int out) {
  return MakeUnary<uint8_t, uint8_t>(a, out, [](uint8_t x, uint8_t& r) -> uint8_t {
    r = x ^ 1;
    return 1;
  });
}

InstructionPtr IsNull(int a, bool negated, int out) {
  class IsNullKernel final : public Instruction {
   public:
    IsNullKernel(int col, uint8_t flip, int dst) : a_(col), flip_(flip), out_(dst) {}
    void Run(Batch& batch) const override {
      const size_t n = batch.size();
      const uint8_t* av = batch.column(a_).valid();
      uint8_t* o = batch.column(out_).data<uint8_t>();
      for (size_t i = 0; i < n; ++i) o[i] = (av[i] ^ 1) ^ flip_;
      std::memset(batch.column(out_).valid(), 1, n);
    }

   private:
    int a_;
    uint8_t flip_;
    int out_;
  };
  return std::make_unique<IsNullKernel>(a, negated ? 1 : 0, out);
}

InstructionPtr Guard(int parent, int col, GuardTest test, int out) {
  return std::make_unique<GuardKernel>(parent, col, test, out);
}

InstructionPtr Select(TypeKind kind, int cond, int a, int b, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    return std::make_unique<SelectKernel<decltype(t)>>(cond, a, b, out);
  });
}

InstructionPtr Coalesce(TypeKind kind, int a, int b, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    return std::make_unique<CoalesceKernel<decltype(t)>>(a, b, out);
  });
}

InstructionPtr NullIf(TypeKind kind, int a, int equal, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    return std::make_unique<NullIfKernel<decltype(t)>>(a, equal, out);
  });
}

InstructionPtr Copy(TypeKind kind, int a, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    using T = decltype(t);
    return MakeUnary<T, T>(a, out, [](T x, T& r) -> uint8_t {
      r = x;
      return 1;
    });
  });
}

InstructionPtr MinMax(bool max, TypeKind kind, int a, int b, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    return std::make_unique<MinMaxKernel<decltype(t)>>(max, a, b, out);
  });
}

InstructionPtr Clamp(TypeKind kind, int x, int lo, int hi, int out) {
  return DispatchPhysical(kind, [&](auto t) -> InstructionPtr {
    return std::make_unique<ClampKernel<decltype(t)>>(x, lo, hi, out);
  });
}

InstructionPtr SetNull(int out) {
  class SetNullKernel final : public Instruction {
   public:
    explicit SetNullKernel(int dst) : out_(dst) {}
    void Run(Batch& batch) const override {
      std::memset(batch.column(out_).valid(), 0, batch.size());
    }

   private:
    int out_;
  };
  return std::make_unique<SetNullKernel>(out);
}

void StepMarker::Run(Batch&) const {
  ::sluice::internal::CheckFailed(__FILE__, __LINE__, "a step run by Program::Run",
                                  "step " + std::to_string(id_) + " run as an instruction");
}

}  // namespace sluice::expr::internal
