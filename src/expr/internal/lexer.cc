#include "expr/internal/lexer.h"

namespace sluice::expr::internal {
namespace {

bool IsWordStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsWordChar(char c) {
  return IsWordStart(c) || IsDigit(c);
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

bool Tokenize(std::string_view s, std::vector<Token>* tokens, LexError* error) {
  size_t i = 0;
  const size_t n = s.size();
  auto add = [&](TokenKind kind, size_t begin, size_t end, std::string text) {
    tokens->push_back(Token{kind, begin, end, std::move(text)});
  };
  while (true) {
    while (i < n && IsSpace(s[i])) ++i;
    if (i >= n) {
      add(TokenKind::kEnd, n, n, "");
      return true;
    }
    const size_t start = i;
    const char c = s[i];
    if (IsWordStart(c)) {
      ++i;
      while (i < n) {
        if (IsWordChar(s[i])) {
          ++i;
        } else if (s[i] == '.' && i + 1 < n && IsWordStart(s[i + 1])) {
          i += 2;
        } else {
          break;
        }
      }
      add(TokenKind::kWord, start, i, std::string(s.substr(start, i - start)));
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(s[i + 1]))) {
      bool is_float = false;
      while (i < n && IsDigit(s[i])) ++i;
      if (i < n && s[i] == '.') {
        is_float = true;
        ++i;
        while (i < n && IsDigit(s[i])) ++i;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < n && IsDigit(s[j])) {
          is_float = true;
          i = j;
          while (i < n && IsDigit(s[i])) ++i;
        }
      }
      if (i < n && (IsWordChar(s[i]) || s[i] == '.')) {
        size_t j = i;
        while (j < n && (IsWordChar(s[j]) || s[j] == '.')) ++j;
        std::string_view unit = s.substr(i, j - i);
        if (!is_float && IsDurationUnit(unit)) {
          add(TokenKind::kDuration, start, j, std::string(s.substr(start, j - start)));
          i = j;
          continue;
        }
        // "1hr", "5sec": close to a duration; say which units there are.
        const bool like_duration =
            !is_float && std::string_view("smhdwy").find(unit[0]) != std::string_view::npos;
        *error = {start, "invalid number '" + std::string(s.substr(start, j - start)) + "'" +
                             (like_duration ? "; durations are written 90s, 15m, 1h, 7d, 2w, "
                                              "1y or 500ms"
                                            : "")};
        return false;
      }
      add(is_float ? TokenKind::kFloat : TokenKind::kInt, start, i,
          std::string(s.substr(start, i - start)));
      continue;
    }
    if (c == '\'') {
      std::string value;
      ++i;
      while (true) {
        if (i >= n) {
          *error = {start, "unterminated string literal"};
          return false;
        }
        if (s[i] == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') {
            value += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += s[i++];
      }
      add(TokenKind::kString, start, i, std::move(value));
      continue;
    }
    if (c == '`') {
      size_t close = s.find('`', i + 1);
      if (close == std::string_view::npos) {
        *error = {start, "unterminated quoted name"};
        return false;
      }
      if (close == i + 1) {
        *error = {start, "empty quoted name"};
        return false;
      }
      add(TokenKind::kQuotedName, start, close + 1, std::string(s.substr(i + 1, close - i - 1)));
      i = close + 1;
      continue;
    }
    static constexpr std::string_view kTwo[] = {"//", "||", "==", "!=", "<>", "<=", ">="};
    bool matched = false;
    for (std::string_view op : kTwo) {
      if (s.substr(i, 2) == op) {
        add(TokenKind::kSymbol, start, i + 2, std::string(op));
        i += 2;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    static constexpr std::string_view kOne = "(),+-*/%=<>";
    if (kOne.find(c) != std::string_view::npos) {
      add(TokenKind::kSymbol, start, i + 1, std::string(1, c));
      ++i;
      continue;
    }
    std::string shown;
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      shown = "byte 0x";
      shown += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      shown += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      shown = "character '" + std::string(1, c) + "'";
    }
    *error = {start, "unexpected " + shown};
    return false;
  }
}

std::string DescribeToken(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd:
      return "end of text";
    case TokenKind::kString:
      return "string literal '" + t.text + "'";
    case TokenKind::kQuotedName:
      return "'`" + t.text + "`'";
    default:
      return "'" + t.text + "'";
  }
}

bool IsKeyword(const Token& t, std::string_view kw) {
  if (t.kind != TokenKind::kWord || t.text.size() != kw.size()) return false;
  for (size_t i = 0; i < kw.size(); ++i) {
    char c = t.text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kw[i]) return false;
  }
  return true;
}

}  // namespace sluice::expr::internal

namespace sluice::expr::internal {
namespace {
int64_t UnitNanos(std::string_view unit) {
  constexpr int64_t kSecond = 1'000'000'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return kSecond;
  if (unit == "m") return 60 * kSecond;
  if (unit == "h") return 3600 * kSecond;
  if (unit == "d") return 86400 * kSecond;
  if (unit == "w") return 7 * 86400 * kSecond;
  if (unit == "y") return 365 * 86400 * kSecond;
  return 0;
}
}  // namespace

bool IsDurationUnit(std::string_view unit) {
  return UnitNanos(unit) != 0;
}

std::optional<int64_t> DurationNanos(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const int64_t unit = UnitNanos(text.substr(digits));
  if (digits == 0 || unit == 0) return std::nullopt;
  int64_t count = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (__builtin_mul_overflow(count, int64_t{10}, &count) ||
        __builtin_add_overflow(count, int64_t{text[i] - '0'}, &count)) {
      return std::nullopt;
    }
  }
  int64_t ns = 0;
  if (__builtin_mul_overflow(count, unit, &ns)) return std::nullopt;
  return ns;
}

}  // namespace sluice::expr::internal
