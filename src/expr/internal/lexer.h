#pragma once
// Tokens of the expression language. The lexer knows no keywords: words come
// back as kWord and the parser decides (case-insensitively) what they mean,
// so later syntax (`over 1h by card_id`) needs no lexer change.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::expr::internal {

enum class TokenKind : uint8_t {
  kEnd,
  kWord,        // name, keyword or function name; may be dotted ("fraud.score")
  kQuotedName,  // `any name`; text is the name without backquotes
  kInt,         // digits only; value checked by the parser (for "-9223372036854775808")
  kFloat,       // text of a float literal
  kString,      // text is the unescaped value
  kDuration,    // digits and a unit: "90s", "1h", "30d" (see DurationNanos)
  kSymbol,      // operator or punctuation: ( ) , + - * / // % || = == != <> < <= > >=
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;  // byte offset of the first character in the text
  size_t end = 0;     // byte offset one past the last character
  std::string text;
};

struct LexError {
  size_t offset = 0;
  std::string message;
};

// Splits `text` into tokens (the last is kEnd). On failure fills `error` and
// returns false.
bool Tokenize(std::string_view text, std::vector<Token>* tokens, LexError* error);

// How a token is named in "found ..." messages: "end of text", "')'",
// "'amount'", "string literal 'abc'".
std::string DescribeToken(const Token& t);

// Duration units: ms, s, m (minutes), h, d, w, y (365 days).
bool IsDurationUnit(std::string_view unit);
// The length of a kDuration token's text in nanoseconds, or nullopt when it
// does not fit in int64.
std::optional<int64_t> DurationNanos(std::string_view text);

// Case-insensitive comparison of a word token with a lower-case keyword.
bool IsKeyword(const Token& t, std::string_view lower_keyword);

}  // namespace sluice::expr::internal
