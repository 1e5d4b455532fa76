#include "decide/internal/table_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/names.h"
#include "types/timestamp.h"

namespace sluice::decide::internal {

namespace {

// All offsets of a synthesised expression map to the cell it came from.
class CellLocator final : public expr::TextLocator {
 public:
  explicit CellLocator(SourceLocation where) : where_(std::move(where)) {}
  SourceLocation Locate(size_t) const override { return where_; }

 private:
  SourceLocation where_;
};

std::string_view Trim(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

// Splits at commas outside quotes and parentheses.
std::vector<std::string_view> SplitList(std::string_view t) {
  std::vector<std::string_view> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(Trim(t.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(t.substr(start)));
  return out;
}

// A static test of one input.
struct Test {
  enum class Op {
    kAny,
    kIsNull,
    kNotNull,
    kLess,
    kLessEqual,
    kGreater,
    kGreaterEqual,
    kIn,
    kRange
  };
  Op op = Op::kAny;
  bool negate = false;  // not(...): matches non-null values the inner test does not
  long double a = 0, b = 0;
  bool a_inclusive = true, b_inclusive = true;
  std::vector<long double> numbers;
  std::vector<int32_t> categories;
  std::vector<std::string> strings;
};

// A value of one input, for evaluating static tests on a region.
struct Probe {
  bool null = false;
  long double number = 0;
  int32_t category = -1;
  const std::string* string = nullptr;  // nullptr: a string no test names
};

bool Inner(const Test& t, const Probe& p) {
  switch (t.op) {
    case Test::Op::kAny:
      return true;
    case Test::Op::kIsNull:
      return p.null;
    case Test::Op::kNotNull:
      return !p.null;
    case Test::Op::kLess:
      return p.number < t.a;
    case Test::Op::kLessEqual:
      return p.number <= t.a;
    case Test::Op::kGreater:
      return p.number > t.a;
    case Test::Op::kGreaterEqual:
      return p.number >= t.a;
    case Test::Op::kRange:
      return (t.a_inclusive ? p.number >= t.a : p.number > t.a) &&
             (t.b_inclusive ? p.number <= t.b : p.number < t.b);
    case Test::Op::kIn:
      for (long double x : t.numbers) {
        if (p.category < 0 && p.string == nullptr && p.number == x) return true;
      }
      for (int32_t c : t.categories) {
        if (p.category == c) return true;
      }
      for (const auto& s : t.strings) {
        if (p.string != nullptr && *p.string == s) return true;
      }
      return false;
  }
  return false;
}

bool Matches(const Test& t, const Probe& p) {
  if (t.op == Test::Op::kAny) return true;
  if (t.op == Test::Op::kIsNull || t.op == Test::Op::kNotNull) return Inner(t, p) != t.negate;
  if (p.null) return false;
  return Inner(t, p) != t.negate;
}

enum class InputKind { kNumber, kCategory, kString };

InputKind KindOf(const Type& t) {
  if (t.kind == TypeKind::kString) return InputKind::kString;
  if (t.kind == TypeKind::kEnum || t.kind == TypeKind::kBool) return InputKind::kCategory;
  return InputKind::kNumber;
}

// A number literal as the expression language reads it for an input of
// type `type`: an integer is an int64, anything else a float64, and both
// become float64 when compared with a float64 input. (Reading "0.35" as a
// long double would put it above the float64 0.35 of the input.)
std::optional<long double> ParseNumber(std::string_view s, const Type& type) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.size() > 64) return std::nullopt;
  // Only plain decimal numbers (no "inf", "nan", hex).
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  const char* end = s.data() + s.size();
  int64_t i = 0;
  if (auto [p, ec] = std::from_chars(s.data(), end, i); ec == std::errc() && p == end) {
    if (type.kind == TypeKind::kFloat64) return static_cast<long double>(static_cast<double>(i));
    return static_cast<long double>(i);
  }
  double d = 0;
  if (auto [p, ec] = std::from_chars(s.data(), end, d); ec != std::errc() || p != end) {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return static_cast<long double>(d);
}

std::optional<std::string> ParseQuoted(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) {
    std::string_view inner = s.substr(1, s.size() - 2);
    if (inner.find(s.front()) != std::string_view::npos) return std::nullopt;
    return std::string(inner);
  }
  return std::nullopt;
}

// A bare word the expression language would read as a name.
bool IsBareWord(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower != "null" && lower != "true" && lower != "false";
}

// Reads one literal operand for an input of type `type` into `t` (as an
// element of a value set). False when it is not a literal of that type.
bool AddLiteral(std::string_view s, const Type& type, Test& t) {
  switch (type.kind) {
    case TypeKind::kInt64:
    case TypeKind::kFloat64:
      if (auto v = ParseNumber(s, type)) {
        t.numbers.push_back(*v);
        return true;
      }
      return false;
    case TypeKind::kTimestamp:
      if (auto q = ParseQuoted(s)) {
        if (auto ns = ParseIso8601(*q)) {
          t.numbers.push_back(static_cast<long double>(*ns));
          return true;
        }
      }
      return false;
    case TypeKind::kBool:
      if (s == "true" || s == "false") {
        t.categories.push_back(s == "true" ? 1 : 0);
        return true;
      }
      return false;
    case TypeKind::kEnum: {
      std::string name(s);
      if (auto q = ParseQuoted(s)) name = *q;
      int32_t i = type.domain->Find(name);
      if (i < 0) return false;
      t.categories.push_back(i);
      return true;
    }
    case TypeKind::kString:
      if (auto q = ParseQuoted(s)) {
        t.strings.push_back(*q);
        return true;
      }
      return false;
    default:
      return false;
  }
}

std::optional<long double> ParseBound(std::string_view s, const Type& type) {
  Test t;
  if (type.kind != TypeKind::kInt64 && type.kind != TypeKind::kFloat64 &&
      type.kind != TypeKind::kTimestamp) {
    return std::nullopt;
  }
  if (!AddLiteral(s, type, t)) return std::nullopt;
  return t.numbers[0];
}

// The inside of "not(...)" or "not (...)". (Parentheses are not counted:
// a range inside, "not([1..5))", has unbalanced ones.)
std::optional<std::string_view> NotBody(std::string_view t) {
  if (t.size() < 5 || t.substr(0, 3) != "not" || t.back() != ')') return std::nullopt;
  size_t open = 3;
  while (open < t.size() && (t[open] == ' ' || t[open] == '\t')) ++open;
  if (open >= t.size() - 1 || t[open] != '(') return std::nullopt;
  return Trim(t.substr(open + 1, t.size() - open - 2));
}

struct ParsedCell {
  std::optional<Test> test;  // static
  std::string dynamic;       // else: an expression over the input
  // Dynamic cells: the operands the input is compared with, as written (for
  // messages about bare words: an enum value that does not exist, text
  // without quotes).
  std::vector<std::string_view> operands;
};

// Parses a cell for input `input` (its text in `in`). Returns a static test
// when every operand is a literal of the input's type.
ParsedCell ParseCell(std::string_view raw, const std::string& in, const Type& type) {
  std::string_view t = Trim(raw);
  ParsedCell out;
  Test test;
  const std::string x = "(" + in + ")";
  if (t.empty() || t == "-") {
    out.test = test;
    return out;
  }
  if (t == "null") {
    test.op = Test::Op::kIsNull;
    out.test = test;
    return out;
  }
  if (t == "not null") {
    test.op = Test::Op::kNotNull;
    out.test = test;
    return out;
  }
  if (auto body = NotBody(t)) {
    ParsedCell inner = ParseCell(*body, in, type);
    if (inner.test && inner.test->op != Test::Op::kAny && !inner.test->negate) {
      inner.test->negate = true;
      return inner;
    }
    out.dynamic = "not (" + (inner.test ? x + " is not null" : inner.dynamic) + ")";
    if (inner.test && inner.test->op == Test::Op::kAny) out.dynamic = "false";
    out.operands = std::move(inner.operands);
    return out;
  }
  const bool number = type.kind == TypeKind::kInt64 || type.kind == TypeKind::kFloat64 ||
                      type.kind == TypeKind::kTimestamp;
  if (t.size() >= 5 && (t.front() == '[' || t.front() == '(' || t.front() == ']') &&
      (t.back() == ']' || t.back() == ')' || t.back() == '[')) {
    const size_t dots = t.find("..");
    if (dots != std::string_view::npos) {
      std::string_view lo = Trim(t.substr(1, dots - 1));
      std::string_view hi = Trim(t.substr(dots + 2, t.size() - dots - 3));
      const bool lo_in = t.front() == '[';
      const bool hi_in = t.back() == ']';
      auto a = number ? ParseBound(lo, type) : std::nullopt;
      auto b = number ? ParseBound(hi, type) : std::nullopt;
      if (a && b) {
        test.op = Test::Op::kRange;
        test.a = *a;
        test.b = *b;
        test.a_inclusive = lo_in;
        test.b_inclusive = hi_in;
        out.test = test;
        return out;
      }
      out.dynamic = fmt::format("{} {} ({}) and {} {} ({})", x, lo_in ? ">=" : ">", lo, x,
                                hi_in ? "<=" : "<", hi);
      out.operands = {lo, hi};
      return out;
    }
  }
  static const std::pair<std::string_view, std::string_view> kOps[] = {
      {"<=", "<="}, {">=", ">="}, {"!=", "!="}, {"<>", "!="},
      {"==", "="},  {"<", "<"},   {">", ">"},   {"=", "="}};
  for (const auto& [op, expr_op] : kOps) {
    if (t.substr(0, op.size()) != op) continue;
    std::string_view rest = Trim(t.substr(op.size()));
    if (expr_op == "=" || expr_op == "!=") {
      if (AddLiteral(rest, type, test)) {
        test.op = Test::Op::kIn;
        test.negate = expr_op == "!=";
        out.test = test;
        return out;
      }
    } else if (number) {
      if (auto v = ParseBound(rest, type)) {
        test.op = expr_op == "<"    ? Test::Op::kLess
                  : expr_op == "<=" ? Test::Op::kLessEqual
                  : expr_op == ">"  ? Test::Op::kGreater
                                    : Test::Op::kGreaterEqual;
        test.a = *v;
        out.test = test;
        return out;
      }
    }
    out.dynamic = fmt::format("{} {} ({})", x, expr_op, rest);
    out.operands = {rest};
    return out;
  }
  std::vector<std::string_view> items = SplitList(t);
  bool all_literal = true;
  for (auto item : items) all_literal = all_literal && AddLiteral(item, type, test);
  if (all_literal) {
    test.op = Test::Op::kIn;
    out.test = test;
    return out;
  }
  if (items.size() == 1) {
    out.dynamic = fmt::format("{} = ({})", x, t);
  } else {
    out.dynamic = fmt::format("{} in ({})", x, t);
  }
  out.operands = std::move(items);
  return out;
}

}  // namespace

struct TableMatcher::InputIndex {
  InputKind kind = InputKind::kNumber;
  bool whole = false;  // int64 and timestamp inputs hold whole numbers only
  Type type;
  std::vector<long double> points;  // kNumber: sorted distinct literals
  // The same points for the record lookup in the input's own arithmetic (no
  // long double per record): float64 inputs compare with `dpoints` (every
  // literal of a float64 input is a float64); int64 and timestamp inputs
  // with `ipoints`, each point's floor (clamped at INT64_MAX), from
  // `int_begin` on (the points before it are below every int64), and
  // `iexact` says which points are whole numbers in the int64 range.
  std::vector<double> dpoints;
  std::vector<int64_t> ipoints;
  std::vector<uint8_t> iexact;
  size_t int_begin = 0;
  std::vector<std::string> strings;  // kString: sorted distinct literals
  size_t categories = 0;             // kCategory
  size_t regions = 0;                // the last is null
  std::vector<uint64_t> masks;       // regions x words
  std::vector<uint8_t> empty;        // regions no value can fall in
  std::vector<Probe> probes;         // a value of each region

  size_t null_region() const { return regions - 1; }

  void Cut(const std::vector<const Test*>& tests) {
    if (kind == InputKind::kNumber) {
      for (const Test* t : tests) {
        if (t->op == Test::Op::kAny || t->op == Test::Op::kIsNull || t->op == Test::Op::kNotNull) {
          continue;
        }
        if (t->op == Test::Op::kIn) {
          points.insert(points.end(), t->numbers.begin(), t->numbers.end());
        } else {
          points.push_back(t->a);
          if (t->op == Test::Op::kRange) points.push_back(t->b);
        }
      }
      std::sort(points.begin(), points.end());
      points.erase(std::unique(points.begin(), points.end()), points.end());
      const size_t m = points.size();
      regions = 2 * m + 2;
      probes.assign(regions, Probe{});
      empty.assign(regions, 0);
      for (size_t k = 0; k <= m; ++k) {
        // Region 2k: the open interval below points[k] (above points[k-1]).
        long double v;
        bool none = false;
        if (m == 0) {
          v = 0;
        } else if (k == 0) {
          // Whole numbers: the one just below (a boundary reads best); others: 0
          // when it is below, for a plain example.
          v = whole           ? std::floor(points[0]) - (std::floor(points[0]) == points[0] ? 1 : 0)
              : points[0] > 0 ? 0
                              : points[0] - 1;
        } else if (k == m) {
          v = whole ? std::floor(points[m - 1]) + 1 : points[m - 1] + 1;
        } else if (whole) {
          v = std::floor(points[k - 1]) + 1;
          none = !(v < points[k]);
        } else {
          v = points[k - 1] + (points[k] - points[k - 1]) / 2;
          none = !(v > points[k - 1] && v < points[k]);
        }
        probes[2 * k].number = v;
        empty[2 * k] = none;
        if (k < m) {
          probes[2 * k + 1].number = points[k];
          empty[2 * k + 1] = whole && std::floor(points[k]) != points[k];
        }
      }
    } else if (kind == InputKind::kString) {
      for (const Test* t : tests)
        strings.insert(strings.end(), t->strings.begin(), t->strings.end());
      std::sort(strings.begin(), strings.end());
      strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
      regions = strings.size() + 2;  // each literal, any other string, null
      probes.assign(regions, Probe{});
      empty.assign(regions, 0);
      for (size_t k = 0; k < strings.size(); ++k) probes[k].string = &strings[k];
    } else {
      regions = categories + 1;
      probes.assign(regions, Probe{});
      empty.assign(regions, 0);
      for (size_t k = 0; k < categories; ++k) probes[k].category = static_cast<int32_t>(k);
    }
    probes[regions - 1].null = true;
  }

  // Fills dpoints or ipoints from points. REQUIRES: Cut() has run.
  void Index() {
    if (kind != InputKind::kNumber) return;
    if (type.kind == TypeKind::kFloat64) {
      dpoints.assign(points.begin(), points.end());
      return;
    }
    constexpr long double kMin = -9223372036854775808.0L;  // -2^63
    constexpr long double kMax = 9223372036854775807.0L;   // 2^63 - 1
    int_begin = 0;
    while (int_begin < points.size() && points[int_begin] < kMin) ++int_begin;
    ipoints.assign(points.size(), 0);
    iexact.assign(points.size(), 0);
    for (size_t k = int_begin; k < points.size(); ++k) {
      const long double p = points[k];
      if (p > kMax) {
        ipoints[k] = INT64_MAX;
        continue;
      }
      ipoints[k] = static_cast<int64_t>(std::floor(p));
      iexact[k] = std::floor(p) == p;
    }
  }

  // The region of a value (not null): 2k + 1 when it equals points[k], else
  // 2k for the first point above it. A few points are counted without
  // branches; more are searched.
  size_t FloatRegion(double v) const {
    if (std::isnan(v)) return null_region();
    size_t k;
    if (dpoints.size() <= kLinear) {
      k = 0;
      for (double p : dpoints) k += p < v;
    } else {
      k = static_cast<size_t>(std::lower_bound(dpoints.begin(), dpoints.end(), v) -
                              dpoints.begin());
    }
    return k < dpoints.size() && dpoints[k] == v ? 2 * k + 1 : 2 * k;
  }
  size_t IntRegion(int64_t v) const {
    // For a whole v, a point p >= v exactly when floor(p) >= v.
    size_t k;
    if (ipoints.size() <= kLinear) {
      k = int_begin;
      for (size_t j = int_begin; j < ipoints.size(); ++j) k += ipoints[j] < v;
    } else {
      k = static_cast<size_t>(
          std::lower_bound(ipoints.begin() + static_cast<long>(int_begin), ipoints.end(), v) -
          ipoints.begin());
    }
    return k < ipoints.size() && iexact[k] && ipoints[k] == v ? 2 * k + 1 : 2 * k;
  }
  static constexpr size_t kLinear = 16;
  size_t StringRegion(std::string_view s) const {
    auto it = std::lower_bound(strings.begin(), strings.end(), s,
                               [](const std::string& a, std::string_view b) { return a < b; });
    return it != strings.end() && *it == s ? static_cast<size_t>(it - strings.begin())
                                           : strings.size();
  }
  size_t Region(const Column& c, size_t row) const {
    if (!c.is_valid(row)) return null_region();
    switch (kind) {
      case InputKind::kNumber:
        return type.kind == TypeKind::kFloat64 ? FloatRegion(c.data<double>()[row])
                                               : IntRegion(c.data<int64_t>()[row]);
      case InputKind::kCategory:
        return type.kind == TypeKind::kBool ? (c.data<uint8_t>()[row] ? 1 : 0)
                                            : static_cast<size_t>(c.data<int32_t>()[row]);
      case InputKind::kString:
        return StringRegion(c.data<std::string_view>()[row]);
    }
    return null_region();
  }

  std::string Describe(size_t region) const {
    if (region == null_region()) return "is null";
    switch (kind) {
      case InputKind::kNumber: {
        const long double v = probes[region].number;
        if (type.kind == TypeKind::kTimestamp) {
          return "= '" + FormatIso8601(static_cast<int64_t>(v)) + "'";
        }
        if (whole) return fmt::format("= {}", static_cast<int64_t>(v));
        return fmt::format("= {}", static_cast<double>(v));
      }
      case InputKind::kCategory:
        if (type.kind == TypeKind::kBool) return region == 1 ? "= true" : "= false";
        return fmt::format("= {}", type.domain->Name(static_cast<int32_t>(region)));
      case InputKind::kString:
        if (region < strings.size()) return fmt::format("= '{}'", strings[region]);
        return "= another text";
    }
    return "";
  }
};

TableMatcher::TableMatcher() = default;
TableMatcher::~TableMatcher() = default;
TableMatcher::TableMatcher(TableMatcher&&) noexcept = default;
TableMatcher& TableMatcher::operator=(TableMatcher&&) noexcept = default;

std::optional<TableMatcher> TableMatcher::Build(std::vector<Input> inputs,
                                                const std::vector<pipeline::TableRowSpec>& rows,
                                                expr::Compiler& compiler, const expr::Scope& scope,
                                                const std::string& policy,
                                                std::vector<Diagnostic>* diags) {
  TableMatcher m;
  m.num_rows_ = rows.size();
  m.words_ = std::max<size_t>(1, (rows.size() + 63) / 64);
  const size_t errors_before = diags->size();
  // tests[i][r]: row r's static test of input i (Any for dynamic cells).
  std::vector<std::vector<Test>> tests(inputs.size(), std::vector<Test>(rows.size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    bool dynamic_row = false;
    const size_t number = rows[r].number;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const pipeline::CellSpec& cell = rows[r].when[i];
      ParsedCell parsed = ParseCell(cell.text.text, inputs[i].text, inputs[i].type);
      if (parsed.test) {
        tests[i][r] = *parsed.test;
        continue;
      }
      // A bare word that names nothing is a value written without quotes
      // or misspelt: say so rather than "unknown name".
      bool bad_word = false;
      for (std::string_view op : parsed.operands) {
        if (!IsBareWord(op) || scope.Find(op) != nullptr || scope.Unavailable(op) != nullptr) {
          continue;
        }
        bad_word = true;
        if (inputs[i].type.kind == TypeKind::kEnum) {
          diags->push_back(
              {cell.text.where(), fmt::format("'{}' is not a value of input '{}' ({}) in row {}{}",
                                              op, inputs[i].text, TypeName(inputs[i].type), number,
                                              DidYouMean(op, inputs[i].type.domain->values()))});
        } else if (inputs[i].type.kind == TypeKind::kString) {
          diags->push_back({cell.text.where(),
                            fmt::format("unknown name '{}' in row {}; to compare input '{}' with "
                                        "the text, quote it: '{}'",
                                        op, number, inputs[i].text, op)});
        } else {
          bad_word = false;  // the compiler's message suggests names
        }
        if (bad_word) break;
      }
      if (bad_word) continue;
      CellLocator where(cell.text.where());
      auto compiled = compiler.Compile(parsed.dynamic, scope, where,
                                       fmt::format("{} row {} input {}", policy, number, i + 1),
                                       fmt::format("{}, row {}", policy, number), diags);
      if (!compiled) continue;
      if (compiled->type.kind != TypeKind::kBool) {
        diags->push_back(
            {cell.text.where(), fmt::format("the cell '{}' of row {} does not test input '{}'",
                                            cell.text.text, number, inputs[i].text)});
        continue;
      }
      m.dynamic_.push_back({r, compiled->column});
      dynamic_row = true;
    }
    if (dynamic_row) m.dynamic_rows_.push_back(r);
  }
  if (diags->size() != errors_before) return std::nullopt;

  for (size_t i = 0; i < inputs.size(); ++i) {
    InputIndex x;
    x.type = inputs[i].type;
    x.kind = KindOf(x.type);
    x.whole = x.type.kind == TypeKind::kInt64 || x.type.kind == TypeKind::kTimestamp;
    x.categories = x.type.kind == TypeKind::kBool   ? 2
                   : x.type.kind == TypeKind::kEnum ? x.type.domain->size()
                                                    : 0;
    std::vector<const Test*> column_tests;
    for (const Test& t : tests[i]) column_tests.push_back(&t);
    x.Cut(column_tests);
    x.Index();
    x.masks.assign(x.regions * m.words_, 0);
    for (size_t g = 0; g < x.regions; ++g) {
      for (size_t r = 0; r < rows.size(); ++r) {
        if (Matches(tests[i][r], x.probes[g])) x.masks[g * m.words_ + r / 64] |= 1ULL << (r % 64);
      }
    }
    m.index_.push_back(std::move(x));
  }
  m.inputs_ = std::move(inputs);
  return m;
}

void TableMatcher::MatchBatch(const Batch& batch, uint64_t* out) const {
  const size_t n = batch.size();
  const size_t w = words_;
  for (size_t r = 0; r < n; ++r) {
    uint64_t* o = out + r * w;
    for (size_t k = 0; k < w; ++k) o[k] = ~0ULL;
  }
  for (size_t i = 0; i < index_.size(); ++i) {
    const InputIndex& x = index_[i];
    const Column& c = batch.column(inputs_[i].column);
    const uint8_t* ok = c.valid();
    const size_t null_region = x.null_region();
    // One loop per kind of input, so that the record loop does not branch on it.
    auto each = [&](auto region_of) {
      if (w == 1) {
        const uint64_t* masks = x.masks.data();
        for (size_t r = 0; r < n; ++r) out[r] &= masks[ok[r] ? region_of(r) : null_region];
        return;
      }
      for (size_t r = 0; r < n; ++r) {
        const uint64_t* mask = x.masks.data() + (ok[r] ? region_of(r) : null_region) * w;
        uint64_t* o = out + r * w;
        for (size_t k = 0; k < w; ++k) o[k] &= mask[k];
      }
    };
    switch (x.kind) {
      case InputKind::kNumber:
        if (x.type.kind == TypeKind::kFloat64) {
          const double* d = c.data<double>();
          each([&](size_t r) { return x.FloatRegion(d[r]); });
        } else {
          const int64_t* v = c.data<int64_t>();
          each([&](size_t r) { return x.IntRegion(v[r]); });
        }
        break;
      case InputKind::kCategory:
        if (x.type.kind == TypeKind::kBool) {
          const uint8_t* b = c.data<uint8_t>();
          each([&](size_t r) { return static_cast<size_t>(b[r] ? 1 : 0); });
        } else {
          const int32_t* e = c.data<int32_t>();
          each([&](size_t r) { return static_cast<size_t>(e[r]); });
        }
        break;
      case InputKind::kString: {
        const std::string_view* s = c.data<std::string_view>();
        each([&](size_t r) { return x.StringRegion(s[r]); });
        break;
      }
    }
  }
  for (const DynamicCell& d : dynamic_) {
    const Column& c = batch.column(d.column);
    const uint8_t* v = c.data<uint8_t>();
    const uint8_t* ok = c.valid();
    const uint64_t bit = 1ULL << (d.row % 64);
    const size_t word = d.row / 64;
    for (size_t r = 0; r < n; ++r) {
      if (!(v[r] & ok[r])) out[r * w + word] &= ~bit;
    }
  }
  // Rows past num_rows_ never match.
  if (num_rows_ % 64 != 0) {
    const uint64_t keep = (1ULL << (num_rows_ % 64)) - 1;
    for (size_t r = 0; r < n; ++r) out[r * w + w - 1] &= keep;
  }
}

void TableMatcher::MatchRow(const Batch& batch, size_t row, uint64_t* out) const {
  const size_t w = words_;
  for (size_t k = 0; k < w; ++k) out[k] = ~0ULL;
  for (size_t i = 0; i < index_.size(); ++i) {
    const uint64_t* mask =
        index_[i].masks.data() + index_[i].Region(batch.column(inputs_[i].column), row) * w;
    for (size_t k = 0; k < w; ++k) out[k] &= mask[k];
  }
  for (const DynamicCell& d : dynamic_) {
    const Column& c = batch.column(d.column);
    if (!(c.data<uint8_t>()[row] & c.valid()[row])) out[d.row / 64] &= ~(1ULL << (d.row % 64));
  }
  if (num_rows_ % 64 != 0) out[w - 1] &= (1ULL << (num_rows_ % 64)) - 1;
}

std::vector<TableMatcher::Overlap> TableMatcher::Overlaps(size_t limit) const {
  std::vector<Overlap> out;
  std::vector<bool> dynamic(num_rows_, false);
  for (size_t r : dynamic_rows_) dynamic[r] = true;
  for (size_t a = 0; a < num_rows_ && out.size() < limit; ++a) {
    if (dynamic[a]) continue;
    for (size_t b = a + 1; b < num_rows_ && out.size() < limit; ++b) {
      if (dynamic[b]) continue;
      std::string example;
      bool all = true;
      for (size_t i = 0; i < index_.size() && all; ++i) {
        const InputIndex& x = index_[i];
        bool found = false;
        for (size_t g = 0; g < x.regions && !found; ++g) {
          if (x.empty[g]) continue;
          const uint64_t* mask = x.masks.data() + g * words_;
          if (((mask[a / 64] >> (a % 64)) & 1) && ((mask[b / 64] >> (b % 64)) & 1)) {
            found = true;
            if (!example.empty()) example += ", ";
            example += inputs_[i].text + " " + x.Describe(g);
          }
        }
        all = found;
      }
      if (all) out.push_back({a, b, std::move(example)});
    }
  }
  return out;
}

std::optional<std::string> TableMatcher::Uncovered() const {
  if (!dynamic_rows_.empty()) return std::nullopt;
  // Per input, the non-null regions with distinct row sets.
  std::vector<std::vector<size_t>> choices(index_.size());
  for (size_t i = 0; i < index_.size(); ++i) {
    const InputIndex& x = index_[i];
    for (size_t g = 0; g + 1 < x.regions; ++g) {
      if (x.empty[g]) continue;
      bool seen = false;
      for (size_t h : choices[i]) {
        seen = seen || std::equal(x.masks.begin() + static_cast<long>(h * words_),
                                  x.masks.begin() + static_cast<long>((h + 1) * words_),
                                  x.masks.begin() + static_cast<long>(g * words_));
      }
      if (!seen) choices[i].push_back(g);
    }
  }
  size_t budget = 1'000'000;
  std::vector<size_t> chosen(index_.size());
  std::vector<std::vector<uint64_t>> alive(index_.size() + 1, std::vector<uint64_t>(words_));
  for (size_t k = 0; k < words_; ++k) alive[0][k] = ~0ULL;
  std::optional<std::string> found;
  bool gave_up = false;
  // Depth-first: assign a region to each input in turn while some row is alive.
  auto search = [&](auto&& self, size_t i) -> void {
    if (found || gave_up) return;
    if (budget-- == 0) {
      gave_up = true;
      return;
    }
    for (size_t g : choices[i]) {
      const uint64_t* mask = index_[i].masks.data() + g * words_;
      bool any = false;
      for (size_t k = 0; k < words_; ++k) {
        alive[i + 1][k] = alive[i][k] & mask[k];
        any = any || alive[i + 1][k] != 0;
      }
      chosen[i] = g;
      if (!any) {
        std::string s;
        for (size_t j = 0; j <= i; ++j) {
          if (!s.empty()) s += ", ";
          s += inputs_[j].text + " " + index_[j].Describe(chosen[j]);
        }
        found = s;
        return;
      }
      if (i + 1 < index_.size()) self(self, i + 1);
      if (found || gave_up) return;
    }
  };
  if (!index_.empty()) search(search, 0);
  if (gave_up) return std::nullopt;
  return found;
}

}  // namespace sluice::decide::internal
