#include "decide/reason_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>

#include "common/names.h"
#include "types/timestamp.h"

namespace sluice::decide {

namespace {

// Maps offsets of a placeholder's expression to the file, through the
// text's own locator.
class ShiftedLocator final : public expr::TextLocator {
 public:
  ShiftedLocator(const expr::TextLocator& base, size_t shift) : base_(base), shift_(shift) {}
  SourceLocation Locate(size_t offset) const override { return base_.Locate(offset + shift_); }

 private:
  const expr::TextLocator& base_;
  size_t shift_;
};

// The inside of "{expr}" or "{expr:.2f}": the expression, the decimals of
// the format (-1: none), and where the format starts (npos: no format).
struct Placeholder {
  std::string_view expr;
  int decimals = -1;
  size_t colon = std::string_view::npos;
  bool format_ok = true;
};

Placeholder SplitFormat(std::string_view inner) {
  // The last ':' outside quotes starts the format (the expression language
  // has no ':' of its own).
  size_t colon = std::string_view::npos;
  char quote = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '`') {
      quote = c;
    } else if (c == ':') {
      colon = i;
    }
  }
  Placeholder out{inner, -1, colon, true};
  if (colon == std::string_view::npos) return out;
  out.expr = inner.substr(0, colon);
  std::string_view f = inner.substr(colon + 1);
  out.format_ok = false;
  if (f.size() >= 3 && f.front() == '.' && f.back() == 'f') {
    int n = -1;
    auto [p, ec] = std::from_chars(f.data() + 1, f.data() + f.size() - 1, n);
    if (ec == std::errc() && p == f.data() + f.size() - 1 && n >= 0 && n <= 12) {
      out.decimals = n;
      out.format_ok = true;
    }
  }
  return out;
}

// Appends the value of row `row` of `c` (formatted in place: no temporary
// strings per record).
void AppendValue(const Column& c, const Type& type, size_t row, int decimals, std::string& out) {
  if (!c.is_valid(row)) {
    out += "unknown";
    return;
  }
  auto to = std::back_inserter(out);
  switch (type.kind) {
    case TypeKind::kBool:
      out += c.data<uint8_t>()[row] ? "true" : "false";
      break;
    case TypeKind::kInt64:
      if (decimals >= 0) {
        fmt::format_to(to, "{:.{}f}", static_cast<double>(c.data<int64_t>()[row]), decimals);
      } else {
        fmt::format_to(to, "{}", c.data<int64_t>()[row]);
      }
      break;
    case TypeKind::kFloat64:
      if (decimals >= 0) {
        fmt::format_to(to, "{:.{}f}", c.data<double>()[row], decimals);
      } else {
        fmt::format_to(to, "{}", c.data<double>()[row]);
      }
      break;
    case TypeKind::kTimestamp:
      out += FormatIso8601(c.data<int64_t>()[row]);
      break;
    case TypeKind::kString:
      out += c.data<std::string_view>()[row];
      break;
    case TypeKind::kEnum:
      out += type.domain->Name(c.data<int32_t>()[row]);
      break;
    default:
      out += "unknown";
      break;
  }
}

}  // namespace

ReasonCatalog::ReasonCatalog(const pipeline::PipelineSpec& spec)
    : entries_(std::make_shared<std::vector<Entry>>()) {
  entries_->reserve(spec.reason_codes.size());
  for (const auto& r : spec.reason_codes) {
    Entry e;
    e.code = r.code;
    e.text = r.text;
    e.spec = &r;
    entries_->push_back(std::move(e));
  }
}

int ReasonCatalog::Find(std::string_view code) const {
  for (size_t i = 0; i < entries_->size(); ++i) {
    if ((*entries_)[i].code == code) return static_cast<int>(i);
  }
  return -1;
}

int ReasonCatalog::Resolve(const pipeline::NamedRef& code, std::vector<Diagnostic>* diags) {
  int i = Find(code.name);
  if (i < 0) {
    std::vector<std::string> known;
    for (const auto& e : *entries_) known.push_back(e.code);
    std::string hint = DidYouMean(code.name, known);
    diags->push_back({code.where, fmt::format("unknown reason code '{}'{}", code.name,
                                              hint.empty() ? "; add it to 'reason_codes'" : hint)});
    return -1;
  }
  (*entries_)[static_cast<size_t>(i)].used = true;
  return i;
}

std::vector<int> ReasonCatalog::CodesForInputs(const std::vector<std::string>& inputs) {
  std::vector<int> out;
  for (const auto& input : inputs) {
    int found = -1;
    for (size_t i = 0; i < entries_->size() && found < 0; ++i) {
      for (const auto& f : (*entries_)[i].spec->features) {
        if (f.name == input) found = static_cast<int>(i);
      }
    }
    if (found < 0) found = Find(input);
    if (found >= 0) (*entries_)[static_cast<size_t>(found)].used = true;
    out.push_back(found);
  }
  return out;
}

bool ReasonCatalog::CompileTexts(expr::Compiler& compiler, const expr::Scope& scope,
                                 std::vector<Diagnostic>* diags) {
  const size_t errors_before = diags->size();
  // Codes no policy uses are checked too, with code that is thrown away
  // (so that they cost nothing per record).
  BatchLayout scratch_layout;
  expr::ErrorTable scratch_errors;
  expr::Compiler scratch(&scratch_layout, &scratch_errors);
  for (Entry& e : *entries_) {
    if (e.checked || e.text.find_first_of("{}") == std::string::npos) continue;
    e.checked = true;
    std::vector<Part> parts;
    if (!CompileText(e, e.used ? compiler : scratch, scope, diags, &parts) || !e.used) continue;
    if (parts.size() == 1) {
      e.text = parts[0].literal;  // only literal braces: nothing to fill in per record
    } else {
      e.parts = std::move(parts);
      e.templated = true;
    }
  }
  (void)scratch.Finish();
  return diags->size() == errors_before;
}

bool ReasonCatalog::CompileText(const Entry& e, expr::Compiler& compiler, const expr::Scope& scope,
                                std::vector<Diagnostic>* diags, std::vector<Part>* parts) {
  const std::string& t = e.text;
  const expr::TextLocator& where = *e.spec->text_source.locator;
  // The locator maps offsets of the scalar as parsed, which is `t`.
  std::string literal;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      literal += '}';
      i += 2;
      continue;
    }
    if (c == '}') {
      diags->push_back({where.Locate(i), fmt::format("reason code '{}': a '}}' without its "
                                                     "'{{'; write '}}}}' for a brace",
                                                     e.code)});
      return false;
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    const size_t close = t.find('}', i + 1);
    if (close == std::string::npos) {
      diags->push_back({where.Locate(i), fmt::format("reason code '{}': the placeholder has "
                                                     "no closing '}}'; write '{{{{' for a brace",
                                                     e.code)});
      return false;
    }
    const Placeholder ph = SplitFormat(std::string_view(t).substr(i + 1, close - i - 1));
    if (!ph.format_ok) {
      diags->push_back({where.Locate(i + 1 + ph.colon),
                        fmt::format("reason code '{}': unknown format '{}'; write {{value:.Nf}} "
                                    "with N from 0 to 12 decimals",
                                    e.code, t.substr(i + 1 + ph.colon, close - i - 1 - ph.colon))});
      return false;
    }
    ShiftedLocator shifted(where, i + 1);
    auto compiled = compiler.Compile(ph.expr, scope, shifted, fmt::format("reason {}", e.code),
                                     fmt::format("reason code {}", e.code), diags);
    if (!compiled) return false;
    if (ph.decimals >= 0 && !Type(compiled->type).is_numeric()) {
      diags->push_back(
          {where.Locate(i), fmt::format("reason code '{}': the format .{}f needs "
                                        "a number, found {}",
                                        e.code, ph.decimals, TypeName(compiled->type))});
      return false;
    }
    parts->push_back({std::move(literal), compiled->column, compiled->type, ph.decimals});
    literal.clear();
    i = close + 1;
  }
  parts->push_back({std::move(literal), -1, Type(), -1});
  return true;
}

Reason ReasonCatalog::MakeReason(int i) const {
  const Entry& e = (*entries_)[static_cast<size_t>(i)];
  return Reason{e.code, e.text, e.templated ? i : -1};
}

void ReasonCatalog::RenderTexts(Batch& batch, int list) const {
  ReasonList& l = batch.reason_list(list);
  thread_local std::string text;
  for (size_t row = 0; row < batch.size(); ++row) {
    const uint32_t begin = l.begin[row];
    for (uint32_t k = 0; k < l.count[row]; ++k) {
      Reason& r = l.reasons[begin + k];
      if (r.text_template < 0) continue;
      const Entry& e = (*entries_)[static_cast<size_t>(r.text_template)];
      text.clear();
      for (const Part& p : e.parts) {
        text += p.literal;
        if (p.column >= 0) AppendValue(batch.column(p.column), p.type, row, p.decimals, text);
      }
      r.text = batch.arena().Copy(text);
      r.text_template = -1;
    }
  }
}

}  // namespace sluice::decide
