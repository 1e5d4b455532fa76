// Every check-time diagnostic, with its exact text and column (1-based, in
// the expression text).

#include <gtest/gtest.h>

#include "expr_test_util.h"

namespace sluice::expr::testing {
namespace {

struct Case {
  const char* expr;
  const char* expected;
};

TEST(Diagnostics, ExactMessages) {
  const std::vector<Case> cases = {
      // Lexical.
      {"'abc", "column 1: unterminated string literal"},
      {"a + `b", "column 5: unterminated quoted name"},
      {"``", "column 1: empty quoted name"},
      {"i # 2", "column 3: unexpected character '#'"},
      {"i ; 2", "column 3: unexpected character ';'"},
      {"1abc", "column 1: invalid number '1abc'"},
      {"1.2.3", "column 1: invalid number '1.2.3'"},
      {"99999999999999999999",
       "column 1: integer literal 99999999999999999999 is out of range for int64"},
      {"-9223372036854775809",
       "column 1: integer literal -9223372036854775809 is out of range for int64"},
      {"1 + 9223372036854775808",
       "column 5: integer literal 9223372036854775808 is out of range for int64"},
      {"1e999", "column 1: float literal 1e999 is out of range for float64"},
      // Syntax.
      {"", "column 1: expected an expression, found end of text"},
      {"i +", "column 4: expected an expression, found end of text"},
      {"i )", "column 3: unexpected ')'"},
      {")", "column 1: unexpected ')'"},
      {"i j", "column 3: unexpected 'j'"},
      {"(i + 1", "column 7: expected ')' to close '(' at column 10"},
      {"abs(i", "column 6: expected ',' or ')' to close '(' at column 13"},
      {"i in (1, 2", "column 11: expected ',' or ')' to close '(' at column 15"},
      {"i in 1", "column 6: expected '(' after 'in', found '1'"},
      {"i is 1", "column 6: expected 'null' or 'not null' after 'is', found '1'"},
      {"i is not 1", "column 10: expected 'null' after 'is not', found '1'"},
      {"i not 1", "column 7: expected 'in' or 'between' after 'not', found '1'"},
      {"i between 1 or 2", "column 13: expected 'and' after 'between ...', found 'or'"},
      {"case i end", "column 8: expected 'when', found 'end'"},
      {"case when b 1 end", "column 13: expected 'then', found '1'"},
      {"case when b then 1",
       "column 19: expected 'when', 'else' or 'end' to close 'case' at column 10, found end of "
       "text"},
      {"i + *", "column 5: expected an expression, found '*'"},
      {"i = 'a' 'b'", "column 9: unexpected string literal 'b'"},
      {"when", "column 1: expected an expression, found keyword 'when'"},
      {"timestamp '2024-13-01'",
       "column 11: invalid timestamp literal '2024-13-01'; expected ISO-8601 such as "
       "'2024-01-01T00:00:00Z'"},
      // Names and functions.
      {"amout", "column 1: unknown name 'amout'; did you mean 'amount'?"},
      {"i + zzz", "column 5: unknown name 'zzz'"},
      {"later", "column 1: 'later' is not available here: it is a feature defined after this one"},
      {"lg(i)", "column 1: unknown function 'lg'; did you mean 'log'?"},
      {"frobnicate(i)", "column 1: unknown function 'frobnicate'"},
      {"substr(s)", "column 1: function 'substr' takes 2 or 3 arguments, found 1"},
      {"abs(i, j)", "column 1: function 'abs' takes 1 argument, found 2"},
      {"pow(i)", "column 1: function 'pow' takes 2 arguments, found 1"},
      {"coalesce()", "column 1: function 'coalesce' takes at least 1 argument, found 0"},
      {"if(b, 1)", "column 1: function 'if' takes 3 arguments, found 2"},
      // Types.
      {"s + i", "column 3: '+' expects numbers, found string and int64"},
      {"b * 2", "column 3: '*' expects numbers, found bool and int64"},
      {"ts - ts2", "column 4: '-' expects numbers, found timestamp and timestamp"},
      {"-s", "column 1: '-' expects a number, found string"},
      {"not i", "column 1: 'not' expects bool, found int64"},
      {"i and b", "column 3: 'and' expects bool, found int64 and bool"},
      {"b or s", "column 3: 'or' expects bool, found bool and string"},
      {"i = s", "column 3: '=' expects comparable types, found int64 and string"},
      {"ts < 1", "column 4: '<' expects comparable types, found timestamp and int64"},
      {"b = 1", "column 3: '=' expects comparable types, found bool and int64"},
      {"ch = color",
       "column 4: '=' expects comparable types, found enum(pos, ecom, atm) and enum(red, green)"},
      {"ch = 'xyz'", "column 6: 'xyz' is not a value of enum(pos, ecom, atm)"},
      {"ch in ('pos', 'web')", "column 15: 'web' is not a value of enum(pos, ecom, atm)"},
      {"i in (1, 'a')", "column 10: 'in' expects comparable types, found int64 and string"},
      {"i between 1 and 'z'",
       "column 17: 'between' expects comparable types, found int64 and string"},
      {"s || i",
       "column 3: '||' expects strings, found string and int64; use to_string(x) to convert"},
      {"concat(s, f)",
       "column 11: 'concat' expects strings as argument 2, found float64; use to_string(x) to "
       "convert"},
      {"if(i, 1, 2)", "column 4: 'if' expects bool as argument 1, found int64"},
      {"if(b, 1, 'a')", "column 10: if branches have different types: int64 and string"},
      {"if(b, ch, color)",
       "column 11: if branches have different types: enum(pos, ecom, atm) and enum(red, green)"},
      {"case when b then 1 else 'x' end",
       "column 25: case branches have different types: int64 and string"},
      {"case when i then 1 end", "column 11: 'when' expects bool, found int64"},
      {"case i when 'a' then 1 end",
       "column 13: 'case' expects comparable types, found int64 and string"},
      {"coalesce(i, s)", "column 13: coalesce arguments have different types: int64 and string"},
      {"nullif(i, s)", "column 11: 'nullif' expects comparable types, found int64 and string"},
      {"min(i, s)", "column 8: 'min' arguments have different types: int64 and string"},
      {"max(b, c)", "column 1: 'max' expects numbers, strings or timestamps, found bool"},
      {"log(s)", "column 5: 'log' expects a number as argument 1, found string"},
      {"pow(2, b)", "column 8: 'pow' expects a number as argument 2, found bool"},
      {"round(f, 1.5)", "column 10: 'round' expects an integer as argument 2, found float64"},
      {"lower(i)", "column 7: 'lower' expects a string as argument 1, found int64"},
      {"substr(s, 1.0)", "column 11: 'substr' expects an integer as argument 2, found float64"},
      {"to_int(ts)",
       "column 8: 'to_int' expects a number, bool or string as argument 1, found timestamp"},
      {"year(i)", "column 6: 'year' expects a timestamp as argument 1, found int64"},
      {"seconds_between(ts, s)",
       "column 21: 'seconds_between' expects a timestamp as argument 2, found string"},
  };
  for (const auto& c : cases) {
    Harness h;
    h.scope().AddUnavailable("later", "it is a feature defined after this one");
    std::string diag;
    EXPECT_LT(h.Compile(c.expr, &diag), 0) << c.expr;
    EXPECT_EQ(diag, c.expected) << c.expr;
  }
}

TEST(Diagnostics, LocationIsInTheFile) {
  Harness h;
  BatchLayout layout;
  ErrorTable errors;
  Compiler compiler(&layout, &errors);
  std::vector<Diagnostic> diags;
  LineLocator where("pipeline.yaml", 12, 20);
  EXPECT_FALSE(compiler.Compile("1 + amout", h.scope(), where, "x", "feature x", &diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(FormatDiagnostic(diags[0]),
            "pipeline.yaml:12:24: error: unknown name 'amout'; did you mean 'amount'?");
  // A failed compile adds nothing to the layout.
  EXPECT_EQ(layout.size(), 0u);
}

}  // namespace
}  // namespace sluice::expr::testing
