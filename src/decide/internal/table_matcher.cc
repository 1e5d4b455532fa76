#include "decide/internal/table_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

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
  enum class Op { kAny, kIsNull, kNotNull, kLess, kLessEqual, kGreater, kGreaterEqual, kIn, kRange };
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

std::optional<long double> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::string z(s);
  char* end = nullptr;
  long double v = std::strtold(z.c_str(), &end);
  if (end != z.c_str() + z.size() || !std::isfinite(v)) return std::nullopt;
  // Only plain decimal numbers (strtold also reads "inf", hex, ...).
  for (char c : z) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  return v;
}

std::optional<std::string> ParseQuoted(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) {
    std::string_view inner = s.substr(1, s.size() - 2);
    if (inner.find(s.front()) != std::string_view::npos) return std::nullopt;
    return std::string(inner);
  }
  return std::nullopt;
}

// Reads one literal operand for an input of type `type` into `t` (as an
// element of a value set). False when it is not a literal of that type.
bool AddLiteral(std::string_view s, const Type& type, Test& t) {
  switch (type.kind) {
    case TypeKind::kInt64:
    case TypeKind::kFloat64:
      if (auto v = ParseNumber(s)) {
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

struct ParsedCell {
  std::optional<Test> test;  // static
  std::string dynamic;       // else: an expression over the input
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
  if (t.size() > 5 && t.substr(0, 4) == "not(" && t.back() == ')') {
    ParsedCell inner = ParseCell(t.substr(4, t.size() - 5), in, type);
    if (inner.test && inner.test->op != Test::Op::kAny && !inner.test->negate) {
      inner.test->negate = true;
      return inner;
    }
    out.dynamic = "not (" + (inner.test ? x + " is not null" : inner.dynamic) + ")";
    if (inner.test && inner.test->op == Test::Op::kAny) out.dynamic = "false";
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
      return out;
    }
  }
  static const std::pair<std::string_view, std::string_view> kOps[] = {
      {"<=", "<="}, {">=", ">="}, {"!=", "!="}, {"<>", "!="}, {"==", "="},
      {"<", "<"},   {">", ">"},   {"=", "="}};
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
  return out;
}

}  // namespace

struct TableMatcher::InputIndex {
  InputKind kind = InputKind::kNumber;
  bool whole = false;  // int64 and timestamp inputs hold whole numbers only
  Type type;
  std::vector<long double> points;   // kNumber: sorted distinct literals
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
        if (t->op == Test::Op::kAny || t->op == Test::Op::kIsNull ||
            t->op == Test::Op::kNotNull) {
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
          v = whole ? std::floor(points[0]) - (std::floor(points[0]) == points[0] ? 1 : 0)
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
      for (const Test* t : tests) strings.insert(strings.end(), t->strings.begin(), t->strings.end());
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

  size_t Region(const Column& c, size_t row) const {
    if (!c.is_valid(row)) return null_region();
    switch (kind) {
      case InputKind::kNumber: {
        long double v;
        if (type.kind == TypeKind::kFloat64) {
          const double d = c.data<double>()[row];
          if (std::isnan(d)) return null_region();
          v = d;
        } else {
          v = static_cast<long double>(c.data<int64_t>()[row]);
        }
        const size_t k =
            static_cast<size_t>(std::lower_bound(points.begin(), points.end(), v) - points.begin());
        return k < points.size() && points[k] == v ? 2 * k + 1 : 2 * k;
      }
      case InputKind::kCategory:
        return type.kind == TypeKind::kBool ? (c.data<uint8_t>()[row] ? 1 : 0)
                                            : static_cast<size_t>(c.data<int32_t>()[row]);
      case InputKind::kString: {
        const std::string_view s = c.data<std::string_view>()[row];
        auto it = std::lower_bound(strings.begin(), strings.end(), s,
                                   [](const std::string& a, std::string_view b) { return a < b; });
        return it != strings.end() && *it == s ? static_cast<size_t>(it - strings.begin())
                                               : strings.size();
      }
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

std::optional<TableMatcher> TableMatcher::Build(
    std::vector<Input> inputs, const std::vector<std::vector<pipeline::CellSpec>>& cells,
    expr::Compiler& compiler, const expr::Scope& scope, const std::string& policy,
    std::vector<Diagnostic>* diags) {
  TableMatcher m;
  m.num_rows_ = cells.size();
  m.words_ = std::max<size_t>(1, (cells.size() + 63) / 64);
  const size_t errors_before = diags->size();
  // tests[i][r]: row r's static test of input i (Any for dynamic cells).
  std::vector<std::vector<Test>> tests(inputs.size(), std::vector<Test>(cells.size()));
  for (size_t r = 0; r < cells.size(); ++r) {
    bool dynamic_row = false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const pipeline::CellSpec& cell = cells[r][i];
      ParsedCell parsed = ParseCell(cell.text.text, inputs[i].text, inputs[i].type);
      if (parsed.test) {
        tests[i][r] = *parsed.test;
        continue;
      }
      CellLocator where(cell.text.where());
      auto compiled = compiler.Compile(
          parsed.dynamic, scope, where, fmt::format("{} row {} input {}", policy, r + 1, i + 1),
          fmt::format("policy {} row {}", policy, r + 1), diags);
      if (!compiled) continue;
      if (compiled->type.kind != TypeKind::kBool) {
        diags->push_back({cell.text.where(),
                          fmt::format("the cell '{}' of row {} does not test input '{}'",
                                      cell.text.text, r + 1, inputs[i].text)});
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
    x.categories = x.type.kind == TypeKind::kBool ? 2
                   : x.type.kind == TypeKind::kEnum ? x.type.domain->size()
                                                    : 0;
    std::vector<const Test*> column_tests;
    for (const Test& t : tests[i]) column_tests.push_back(&t);
    x.Cut(column_tests);
    x.masks.assign(x.regions * m.words_, 0);
    for (size_t g = 0; g < x.regions; ++g) {
      for (size_t r = 0; r < cells.size(); ++r) {
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
    for (size_t r = 0; r < n; ++r) {
      const uint64_t* mask = x.masks.data() + x.Region(c, r) * w;
      uint64_t* o = out + r * w;
      for (size_t k = 0; k < w; ++k) o[k] &= mask[k];
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
