#include <algorithm>
// String functions, conversions to and from strings, and time functions.
// Results that are parts of an input are views of it; new strings go to the
// batch arena.

#include <charconv>
#include <cmath>
#include <cstring>

#include "expr/internal/kernel_loops.h"
#include "types/timestamp.h"

namespace sluice::expr::internal {
namespace {

using std::string_view;

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Byte offset of the `k`-th (0-based) code point of `s`, or s.size().
size_t CodePointOffset(string_view s, int64_t k) {
  size_t i = 0;
  while (i < s.size() && k > 0) {
    ++i;
    while (i < s.size() && IsContinuation(s[i])) ++i;
    --k;
  }
  return i;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Runs `f(i, in...)` for rows whose inputs are all valid; other rows are null
// with an empty view. `f` returns the validity of its result.
template <typename T>
using ColumnIndex = int;

template <typename Out, typename F, typename... In>
class RowKernel final : public Instruction {
 public:
  RowKernel(int out, F f, ColumnIndex<In>... in) : out_(out), f_(f), in_{in...} {}
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    Out* o = batch.column(out_).template data<Out>();
    uint8_t* ov = batch.column(out_).valid();
    Run(batch, n, o, ov, std::index_sequence_for<In...>{});
  }

 private:
  template <size_t... I>
  void Run(Batch& batch, size_t n, Out* o, uint8_t* ov, std::index_sequence<I...>) const {
    const std::tuple<const In*...> data{batch.column(in_[I]).template data<In>()...};
    const uint8_t* valid[] = {batch.column(in_[I]).valid()...};
    StringArena& arena = batch.arena();
    for (size_t i = 0; i < n; ++i) {
      bool all = true;
      for (const uint8_t* v : valid) all = all && v[i] != 0;
      if (!all) {
        o[i] = Out{};
        ov[i] = 0;
        continue;
      }
      Out r{};
      ov[i] = f_(arena, r, std::get<I>(data)[i]...);
      o[i] = r;
    }
  }

  int out_;
  F f_;
  int in_[sizeof...(In)];
};

template <typename Out, typename... In, typename F>
InstructionPtr Rows(int out, F f, ColumnIndex<In>... in) {
  return std::make_unique<RowKernel<Out, F, In...>>(out, f, in...);
}

template <typename T>
bool ParseWhole(string_view s, T* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

InstructionPtr StringMap(StringOp op, int a, int out) {
  switch (op) {
    case StringOp::kTrim:
      return Rows<string_view, string_view>(
          out,
          [](StringArena&, string_view& r, string_view s) -> uint8_t {
            size_t b = 0, e = s.size();
            while (b < e && IsSpace(s[b])) ++b;
            while (e > b && IsSpace(s[e - 1])) --e;
            r = s.substr(b, e - b);
            return 1;
          },
          a);
    case StringOp::kLower:
    case StringOp::kUpper: {
      const bool upper = op == StringOp::kUpper;
      return Rows<string_view, string_view>(
          out,
          [upper](StringArena& arena, string_view& r, string_view s) -> uint8_t {
            // Already in the wanted case: share the input's bytes, copy nothing.
            const char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
            size_t first = 0;
            while (first < s.size() && (s[first] < lo || s[first] > hi)) ++first;
            if (first == s.size()) {
              r = s;
              return 1;
            }
            char* p = arena.Allocate(s.size());
            std::memcpy(p, s.data(), first);
            for (size_t i = first; i < s.size(); ++i) {
              const char c = s[i];
              if (upper) {
                p[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
              } else {
                p[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
              }
            }
            r = {p, s.size()};
            return 1;
          },
          a);
    }
  }
  return nullptr;
}

InstructionPtr Length(int a, int out) {
  return Rows<int64_t, string_view>(
      out,
      [](StringArena&, int64_t& r, string_view s) -> uint8_t {
        int64_t n = 0;
        for (char c : s) n += !IsContinuation(c);
        r = n;
        return 1;
      },
      a);
}

InstructionPtr StringMatch(MatchOp op, int a, int b, int out) {
  return Rows<uint8_t, string_view, string_view>(
      out,
      [op](StringArena&, uint8_t& r, string_view s, string_view t) -> uint8_t {
        switch (op) {
          case MatchOp::kContains:
            r = s.find(t) != string_view::npos;
            break;
          case MatchOp::kStartsWith:
            r = s.starts_with(t);
            break;
          case MatchOp::kEndsWith:
            r = s.ends_with(t);
            break;
        }
        return 1;
      },
      a, b);
}

namespace {

class StringInSetKernel final : public Instruction {
 public:
  StringInSetKernel(int a, std::vector<std::string> values, int out)
      : a_(a), out_(out), values_(std::move(values)) {
    std::sort(values_.begin(), values_.end());
    values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
    for (const auto& v : values_) {
      if (v.size() < 64) lengths_ |= 1ULL << v.size();
      else lengths_ |= 1ULL << 63;
    }
  }
  void Run(Batch& batch) const override {
    const size_t n = batch.size();
    const string_view* a = batch.column(a_).data<string_view>();
    const uint8_t* av = batch.column(a_).valid();
    uint8_t* o = batch.column(out_).data<uint8_t>();
    uint8_t* ov = batch.column(out_).valid();
    for (size_t i = 0; i < n; ++i) {
      ov[i] = av[i];
      const string_view s = a[i];
      // Most texts are rejected by their length alone.
      if (!((lengths_ >> std::min<size_t>(s.size(), 63)) & 1)) {
        o[i] = 0;
        continue;
      }
      o[i] = std::binary_search(values_.begin(), values_.end(), s,
                                [](const auto& x, const auto& y) {
                                  return string_view(x) < string_view(y);
                                });
    }
  }

 private:
  int a_, out_;
  std::vector<std::string> values_;  // sorted, distinct
  uint64_t lengths_ = 0;             // bit k: some value has length k (63: 63 or more)
};

}  // namespace

InstructionPtr StringInSet(int a, std::vector<std::string> values, int out) {
  return std::make_unique<StringInSetKernel>(a, std::move(values), out);
}

InstructionPtr Substr(int s, int start, int length, int out) {
  auto cut = [](string_view str, int64_t from, int64_t len) {
    if (from < 1) from = 1;
    if (len <= 0) return string_view{};
    const size_t b = CodePointOffset(str, from - 1);
    const size_t e = b + CodePointOffset(str.substr(b), len);
    return str.substr(b, e - b);
  };
  if (length < 0) {
    return Rows<string_view, string_view, int64_t>(
        out,
        [cut](StringArena&, string_view& r, string_view str, int64_t from) -> uint8_t {
          r = cut(str, from, INT64_MAX);
          return 1;
        },
        s, start);
  }
  return Rows<string_view, string_view, int64_t, int64_t>(
      out,
      [cut](StringArena&, string_view& r, string_view str, int64_t from, int64_t len) -> uint8_t {
        r = cut(str, from, len);
        return 1;
      },
      s, start, length);
}

InstructionPtr Concat(std::vector<int> parts, int out) {
  class ConcatKernel final : public Instruction {
   public:
    ConcatKernel(std::vector<int> cols, int dst) : parts_(std::move(cols)), out_(dst) {}
    void Run(Batch& batch) const override {
      const size_t n = batch.size();
      string_view* o = batch.column(out_).data<string_view>();
      uint8_t* ov = batch.column(out_).valid();
      std::memset(ov, 1, n);
      for (int p : parts_) {
        const uint8_t* v = batch.column(p).valid();
        for (size_t i = 0; i < n; ++i) ov[i] &= v[i];
      }
      for (size_t i = 0; i < n; ++i) {
        o[i] = {};
        if (!ov[i]) continue;
        size_t total = 0;
        for (int p : parts_) total += batch.column(p).data<string_view>()[i].size();
        if (total == 0) continue;
        char* dst = batch.arena().Allocate(total);
        size_t at = 0;
        for (int p : parts_) {
          const string_view s = batch.column(p).data<string_view>()[i];
          if (!s.empty()) std::memcpy(dst + at, s.data(), s.size());
          at += s.size();
        }
        o[i] = {dst, total};
      }
    }

   private:
    std::vector<int> parts_;
    int out_;
  };
  return std::make_unique<ConcatKernel>(std::move(parts), out);
}

InstructionPtr StringToInt(int a, int out) {
  return Rows<int64_t, string_view>(
      out, [](StringArena&, int64_t& r, string_view s) -> uint8_t { return ParseWhole(s, &r); }, a);
}

InstructionPtr StringToFloat(int a, int out) {
  return Rows<double, string_view>(
      out,
      [](StringArena&, double& r, string_view s) -> uint8_t {
        return ParseWhole(s, &r) && std::isfinite(r);
      },
      a);
}

InstructionPtr EnumToString(std::shared_ptr<const EnumDomain> domain, int a, int out) {
  return Rows<string_view, int32_t>(
      out,
      [domain](StringArena&, string_view& r, int32_t index) -> uint8_t {
        if (index < 0 || static_cast<size_t>(index) >= domain->size()) return 0;
        r = domain->Name(index);
        return 1;
      },
      a);
}

InstructionPtr ToString(const Type& from, int a, int out) {
  switch (from.kind) {
    case TypeKind::kNull:
      return SetNull(out);
    case TypeKind::kString:
      return Copy(TypeKind::kString, a, out);
    case TypeKind::kEnum:
      return EnumToString(from.domain, a, out);
    case TypeKind::kBool:
      return Rows<string_view, uint8_t>(
          out,
          [](StringArena&, string_view& r, uint8_t b) -> uint8_t {
            r = b ? string_view("true") : string_view("false");
            return 1;
          },
          a);
    case TypeKind::kInt64:
      return Rows<string_view, int64_t>(
          out,
          [](StringArena& arena, string_view& r, int64_t v) -> uint8_t {
            char buf[24];
            auto res = std::to_chars(buf, buf + sizeof buf, v);
            r = arena.Copy({buf, static_cast<size_t>(res.ptr - buf)});
            return 1;
          },
          a);
    case TypeKind::kFloat64:
      return Rows<string_view, double>(
          out,
          [](StringArena& arena, string_view& r, double v) -> uint8_t {
            char buf[40];
            auto res = std::to_chars(buf, buf + sizeof buf - 2, v);
            string_view text(buf, static_cast<size_t>(res.ptr - buf));
            if (text.find_first_of(".en") == string_view::npos) {
              *res.ptr = '.';
              *(res.ptr + 1) = '0';
              text = {buf, text.size() + 2};
            }
            r = arena.Copy(text);
            return 1;
          },
          a);
    case TypeKind::kTimestamp:
      return Rows<string_view, int64_t>(
          out,
          [](StringArena& arena, string_view& r, int64_t ns) -> uint8_t {
            char buf[40];
            r = arena.Copy({buf, FormatIso8601(ns, buf)});
            return 1;
          },
          a);
  }
  return nullptr;
}

namespace {
constexpr int64_t kNanosPerMinute = 60'000'000'000;
constexpr int64_t kNanosPerDay = 86'400'000'000'000;

// Floor division and modulo (timestamps before 1970 are negative).
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
int64_t FloorMod(int64_t a, int64_t b) {
  return a - FloorDiv(a, b) * b;
}
}  // namespace

InstructionPtr TimePartOf(TimePart part, int a, int out) {
  // Hour, minute and weekday need no calendar: one division each.
  switch (part) {
    case TimePart::kHour:
      return MakeUnary<int64_t, int64_t>(a, out, [](int64_t ns, int64_t& r) -> uint8_t {
        r = FloorMod(ns, kNanosPerDay) / (60 * kNanosPerMinute);
        return 1;
      });
    case TimePart::kMinute:
      return MakeUnary<int64_t, int64_t>(a, out, [](int64_t ns, int64_t& r) -> uint8_t {
        r = FloorMod(ns, 60 * kNanosPerMinute) / kNanosPerMinute;
        return 1;
      });
    case TimePart::kDayOfWeek:
      // 1970-01-01 was a Thursday (ISO 4); Monday = 1.
      return MakeUnary<int64_t, int64_t>(a, out, [](int64_t ns, int64_t& r) -> uint8_t {
        r = FloorMod(FloorDiv(ns, kNanosPerDay) + 3, 7) + 1;
        return 1;
      });
    default:
      break;
  }
  return MakeUnary<int64_t, int64_t>(a, out, [part](int64_t ns, int64_t& r) -> uint8_t {
    const CivilTime c = ToCivil(ns);
    switch (part) {
      case TimePart::kYear:
        r = c.year;
        break;
      case TimePart::kMonth:
        r = c.month;
        break;
      default:
        r = c.day;
        break;
    }
    return 1;
  });
}

namespace {
// Nanoseconds to seconds without losing the fraction of large values.
double NanosToSeconds(int64_t ns) {
  return static_cast<double>(ns / 1'000'000'000) + static_cast<double>(ns % 1'000'000'000) / 1e9;
}
}  // namespace

InstructionPtr SecondsBetween(int a, int b, int out) {
  return MakeBinary<int64_t, int64_t, double>(a, b, out,
                                              [](int64_t from, int64_t to, double& r) -> uint8_t {
                                                int64_t d;
                                                if (__builtin_sub_overflow(to, from, &d)) {
                                                  r = NanosToSeconds(to) - NanosToSeconds(from);
                                                } else {
                                                  r = NanosToSeconds(d);
                                                }
                                                return 1;
                                              });
}

InstructionPtr EpochSeconds(int a, int out) {
  return MakeUnary<int64_t, double>(a, out, [](int64_t ns, double& r) -> uint8_t {
    r = NanosToSeconds(ns);
    return 1;
  });
}

}  // namespace sluice::expr::internal
