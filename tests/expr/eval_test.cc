// Semantics: every operator and function on the default row of
// expr_test_util.h (i=7 j=-3 zero=0 big=INT64_MAX small=INT64_MIN f=2.5
// g=-0.5 fz=0.0 huge=1e308 s='héllo' t='ecom' e='' b=true c=false
// ts=2024-03-01T12:30:45Z ts2=ts+1 day+0.5s ch=ecom ch2=atm color=red, and
// nulls ni nf ns nb nts nch).

#include <gtest/gtest.h>

#include "expr_test_util.h"

namespace sluice::expr::testing {
namespace {

struct Case {
  const char* expr;
  const char* expected;
};

void RunCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) EXPECT_EQ(Eval(c.expr), c.expected) << c.expr;
}

TEST(Literals, AllKinds) {
  RunCases({
      {"42", "42"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"9223372036854775807", "9223372036854775807"},
      {"1.5", "1.5"},
      {"2e3", "2000"},
      {".5", "0.5"},
      {"1.5e-3", "0.0015"},
      {"'it''s'", "'it's'"},
      {"''", "''"},
      {"true", "true"},
      {"FALSE", "false"},
      {"null", "null"},
      {"NULL is null", "true"},
      {"timestamp '2024-01-01T00:00:00Z'", "2024-01-01T00:00:00Z"},
      {"TIMESTAMP '2024-01-01 10:00:00+02:00'", "2024-01-01T08:00:00Z"},
      {"`my field`", "11"},
      {"fraud.score", "0.75"},
      {"- - 3", "3"},
      {"+i", "7"},
      {"-f", "-2.5"},
  });
}

TEST(Precedence, FollowsTheGrammar) {
  RunCases({
      {"1 + 2 * 3", "7"},
      {"(1 + 2) * 3", "9"},
      {"10 - 4 - 3", "3"},
      {"2 * 3 % 4", "2"},
      {"-2 * 3", "-6"},
      {"- i * 2", "-14"},
      {"1 + 2 = 3", "true"},
      {"1 < 2 = true", "true"},
      {"not 1 = 2", "true"},
      {"not b and c", "false"},
      {"not (b and c)", "true"},
      {"b or c and c", "true"},
      {"(b or c) and c", "false"},
      {"true or false and false", "true"},
      {"i between 1 and 10 and b", "true"},
      {"'a' || 'b' = 'ab'", "true"},
      {"1 + 1 in (2, 3)", "true"},
      {"i is not null and not ni is not null", "true"},
      {"case when b then 1 else 2 end + 10", "11"},
  });
}

TEST(Arithmetic, IntegersAndFloats) {
  RunCases({
      {"i + j", "4"},
      {"i - j", "10"},
      {"i * j", "-21"},
      {"i + f", "9.5"},
      {"f * 2", "5"},
      {"i / 2", "3.5"},
      {"i / j", "-2.3333333333333335"},
      {"i / 0", "null"},
      {"f / fz", "null"},
      {"i // 2", "3"},
      {"i // j", "-3"},
      {"-7 // 2", "-4"},
      {"i // 0", "null"},
      {"f // 2", "1"},
      {"-f // 2", "-2"},
      {"f // 0", "null"},
      {"i % 3", "1"},
      {"i % j", "-2"},
      {"-7 % 3", "2"},
      {"i % 0", "null"},
      {"small % -1", "0"},
      {"f % 2", "0.5"},
      {"-f % 2", "1.5"},
      {"f % -2", "-1.5"},
      {"f % 0", "null"},
      {"i + ni", "null"},
      {"nf * 2", "null"},
      {"null + 1", "null"},
      {"huge * 10", "null"},
      {"huge + huge", "null"},
      {"-huge * 10", "null"},
      {"big - 1", "9223372036854775806"},
      {"small + 1", "-9223372036854775807"},
  });
}

TEST(Arithmetic, OverflowIsARecordError) {
  RunCases({
      {"big + 1", "error: integer overflow in 'big + 1' (feature x)"},
      {"small - 1", "error: integer overflow in 'small - 1' (feature x)"},
      {"big * 2", "error: integer overflow in 'big * 2' (feature x)"},
      {"small // -1", "error: integer overflow in 'small // -1' (feature x)"},
      {"-small", "error: integer overflow in '-small' (feature x)"},
      {"abs(small)", "error: integer overflow in 'abs(small)' (feature x)"},
      {"(big + 1) * 2", "error: integer overflow in '(big + 1)' (feature x)"},
      {"ni + big * 2", "error: integer overflow in 'big * 2' (feature x)"},
      {"big * 2.0", "18446744073709551616"},
      {"big + ni", "null"},
  });
}

TEST(Arithmetic, ErrorsOnlyFromTheBranchTaken) {
  RunCases({
      {"if(big > 1000000000000, 0, big * 100000000)", "0"},
      {"if(big < 1000000000000, 0, big * 100000000)",
       "error: integer overflow in 'big * 100000000' (feature x)"},
      {"if(nb, big * 2, 1)", "1"},
      {"case when b then 1 when big * 2 > 0 then 2 end", "1"},
      {"case when c then 1 when big * 2 > 0 then 2 end",
       "error: integer overflow in 'big * 2' (feature x)"},
      {"case when b then 5 else big + 1 end", "5"},
      {"case when c then big + 1 else 5 end", "5"},
      {"case i when 7 then 1 when 8 then big + 1 end", "1"},
      {"case i when 8 then 1 else abs(small) end",
       "error: integer overflow in 'abs(small)' (feature x)"},
      {"coalesce(i, big + 1)", "7"},
      {"coalesce(ni, big + 1)", "error: integer overflow in 'big + 1' (feature x)"},
      {"coalesce(ni, ni, i, -small)", "7"},
      {"c and big + 1 > 0", "false"},
      {"b or big + 1 > 0", "true"},
      {"b and big + 1 > 0", "error: integer overflow in 'big + 1' (feature x)"},
      {"if(b, if(c, big + 1, 2), 3)", "2"},
      {"if(c, 1, if(b, 2, big + 1))", "2"},
  });
}

TEST(Comparison, AllTypes) {
  RunCases({
      {"i = 7", "true"},
      {"i == 7", "true"},
      {"i != 7", "false"},
      {"i <> 8", "true"},
      {"i < 8", "true"},
      {"i <= 7", "true"},
      {"i > 7", "false"},
      {"i >= 8", "false"},
      {"i = 7.0", "true"},
      {"i < f", "false"},
      {"f > j", "true"},
      {"s = 'héllo'", "true"},
      {"'abc' < 'abd'", "true"},
      {"'B' < 'a'", "true"},
      {"t > s", "false"},
      {"b = true", "true"},
      {"c < b", "true"},
      {"ts < ts2", "true"},
      {"ts = timestamp '2024-03-01T12:30:45Z'", "true"},
      {"i = ni", "null"},
      {"ns = 'x'", "null"},
      {"null = null", "null"},
      {"ts > nts", "null"},
  });
}

TEST(Comparison, Enums) {
  RunCases({
      {"ch = 'ecom'", "true"},
      {"'ecom' = ch", "true"},
      {"ch != 'pos'", "true"},
      {"ch > 'pos'", "true"},
      {"ch < 'atm'", "true"},
      {"ch2 >= 'atm'", "true"},
      {"ch = ch2", "false"},
      {"ch < ch2", "true"},
      {"ch = t", "true"},
      {"ch = s", "false"},
      {"ch < t || 'x'", "true"},
      {"nch = 'pos'", "null"},
      {"ch in ('pos', 'ecom')", "true"},
      {"ch not in ('pos', 'atm')", "true"},
      {"ch = lower('ECOM')", "true"},
  });
}

TEST(Logic, ThreeValuedTruthTables) {
  // a, b over {true, false, null}.
  const char* v[] = {"b", "c", "nb"};
  const char* and_table[3][3] = {
      {"true", "false", "null"}, {"false", "false", "false"}, {"null", "false", "null"}};
  const char* or_table[3][3] = {
      {"true", "true", "true"}, {"true", "false", "null"}, {"true", "null", "null"}};
  for (int x = 0; x < 3; ++x) {
    for (int y = 0; y < 3; ++y) {
      std::string a = v[x], b = v[y];
      EXPECT_EQ(Eval(a + " and " + b), and_table[x][y]) << a << " and " << b;
      EXPECT_EQ(Eval(a + " or " + b), or_table[x][y]) << a << " or " << b;
    }
  }
  RunCases({
      {"not b", "false"},
      {"not c", "true"},
      {"not nb", "null"},
      {"null and false", "false"},
      {"null or true", "true"},
      {"not null", "null"},
  });
}

TEST(Predicates, IsNullInBetween) {
  RunCases({
      {"ni is null", "true"},
      {"ni is not null", "false"},
      {"i is null", "false"},
      {"ns IS NOT NULL", "false"},
      {"nch is null", "true"},
      {"null is null", "true"},
      {"i in (1, 7)", "true"},
      {"i in (1, 2)", "false"},
      {"i in (1, null)", "null"},
      {"i in (7, null)", "true"},
      {"ni in (1, 2)", "null"},
      {"i not in (1, 2)", "true"},
      {"i not in (1, null)", "null"},
      // Texts against text literals (one set lookup per row).
      {"t in ('pos', 'ecom', 'atm')", "true"},
      {"t in ('pos', 'eco', 'ecomm')", "false"},
      {"t not in ('pos', 'ecom', 'atm')", "false"},
      {"t not in ('pos', 'atm', '')", "true"},
      {"e in ('x', '', 'y')", "true"},
      {"ns in ('a', 'b', 'c')", "null"},
      {"ns not in ('a', 'b', 'c')", "null"},
      {"t in ('a', 'b', null)", "null"},
      {"t in ('ecom', 'b', null)", "true"},
      {"s in ('hello', 'héllo', 'hallo')", "true"},
      {"i in (7.0)", "true"},
      {"f in (2.5, 3)", "true"},
      {"s in ('a', 'héllo')", "true"},
      {"i between 7 and 8", "true"},
      {"i between 8 and 9", "false"},
      {"i not between 8 and 9", "true"},
      {"i between ni and 9", "null"},
      {"i between 8 and ni", "false"},
      {"f between 2 and 3", "true"},
      {"ts between ts and ts2", "true"},
      {"'b' between 'a' and 'c'", "true"},
  });
}

TEST(Branches, IfCaseCoalesceNullif) {
  RunCases({
      {"if(b, 1, 2)", "1"},
      {"if(c, 1, 2)", "2"},
      {"if(nb, 1, 2)", "2"},
      {"if(b, 1, 2.5)", "1"},
      {"if(c, 1, 2.5)", "2.5"},
      {"if(b, null, 'x')", "null"},
      {"if(c, null, 'x')", "'x'"},
      {"if(b, ch, 'other')", "'ecom'"},
      {"if(b, ni, i)", "null"},
      {"if(c, ch, ch2)", "atm"},
      {"case when i > 5 then 'big' when i > 0 then 'small' end", "'big'"},
      {"case when i > 50 then 'big' when i > 0 then 'small' end", "'small'"},
      {"case when i > 50 then 'big' end", "null"},
      {"case when nb then 1 else 2 end", "2"},
      {"case i when 1 then 'one' when 7 then 'seven' else 'many' end", "'seven'"},
      {"case ni when 1 then 'one' else 'other' end", "'other'"},
      {"case ch when 'pos' then 1 when 'ecom' then 2 end", "2"},
      {"CASE WHEN b THEN 1 END", "1"},
      {"case when c then 1 when b then 2.5 else null end", "2.5"},
      {"coalesce(ni, nf, 3)", "3"},
      {"coalesce(ni, 2)", "2"},
      {"coalesce(i, 2.5)", "7"},
      {"coalesce(ni, nf)", "null"},
      {"coalesce(ns, ch)", "'ecom'"},
      {"coalesce(null, null)", "null"},
      {"nullif(i, 7)", "null"},
      {"nullif(i, 8)", "7"},
      {"nullif(i, 7.0)", "null"},
      {"nullif(ni, 7)", "null"},
      {"nullif(i, ni)", "7"},
      {"nullif(t, 'x')", "'ecom'"},
      {"f / nullif(fz, 0)", "null"},
  });
}

TEST(Math, Functions) {
  RunCases({
      {"abs(j)", "3"},
      {"abs(g)", "0.5"},
      {"abs(ni)", "null"},
      {"abs(null)", "null"},
      {"sign(j)", "-1"},
      {"sign(zero)", "0"},
      {"sign(f)", "1"},
      {"sign(g)", "-1"},
      {"log(1)", "0"},
      {"log(0)", "null"},
      {"log(-1)", "null"},
      {"log(8, 2)", "3"},
      {"log(8, 1)", "null"},
      {"log(8, 0)", "null"},
      {"log10(1000)", "3"},
      {"log2(8)", "3"},
      {"log1p(0)", "0"},
      {"log1p(-1)", "null"},
      {"exp(0)", "1"},
      {"exp(1000)", "null"},
      {"sqrt(16)", "4"},
      {"sqrt(-1)", "null"},
      {"pow(2, 10)", "1024"},
      {"pow(-8, 0.5)", "null"},
      {"pow(10, 400)", "null"},
      {"pow(ni, 2)", "null"},
      {"min(3, 1, 2)", "1"},
      {"max(3, 1, 2)", "3"},
      {"min(i, f)", "2.5"},
      {"max(ni, 4)", "4"},
      {"min(ni, nf)", "null"},
      {"max('a', 'b')", "'b'"},
      {"min(ts, ts2)", "2024-03-01T12:30:45Z"},
      {"max(ns, s)", "'héllo'"},
      {"clamp(i, 0, 5)", "5"},
      {"clamp(j, 0, 5)", "0"},
      {"clamp(f, 0, 5)", "2.5"},
      {"clamp(i, ni, 5)", "null"},
      {"round(2.5)", "3"},
      {"round(-2.5)", "-3"},
      {"round(0.49)", "0"},
      {"round(i)", "7"},
      {"round(3.14159, 2)", "3.14"},
      {"round(1234.5, -2)", "1200"},
      {"round(i, 1)", "7"},
      {"round(f, ni)", "null"},
      {"floor(g)", "-1"},
      {"floor(i)", "7"},
      {"ceil(g)", "-0"},
      {"ceil(f)", "3"},
      {"floor(nf)", "null"},
  });
}

TEST(Strings, Functions) {
  RunCases({
      {"lower('HéLLO World')", "'héllo world'"},
      {"upper(s)", "'HéLLO'"},
      {"upper(ch)", "'ECOM'"},
      {"lower(ns)", "null"},
      {"length(s)", "5"},
      {"length('日本語')", "3"},
      {"length(e)", "0"},
      {"length(ch)", "4"},
      {"length(ns)", "null"},
      {"contains(s, 'll')", "true"},
      {"contains(s, 'x')", "false"},
      {"contains(s, '')", "true"},
      {"contains(ns, 'x')", "null"},
      {"starts_with(s, 'hé')", "true"},
      {"ends_with(s, 'lo')", "true"},
      {"ends_with(ch, 'om')", "true"},
      {"starts_with(s, ns)", "null"},
      {"substr(s, 2)", "'éllo'"},
      {"substr(s, 2, 2)", "'él'"},
      {"substr(s, 0, 2)", "'hé'"},
      {"substr(s, -5, 1)", "'h'"},
      {"substr(s, 5, 10)", "'o'"},
      {"substr(s, 6)", "''"},
      {"substr(s, 2, 0)", "''"},
      {"substr(s, 2, -1)", "''"},
      {"substr('日本語', 2, 1)", "'本'"},
      {"substr(s, ni)", "null"},
      {"concat(s, '-', t)", "'héllo-ecom'"},
      {"concat(ch, '/', ch2)", "'ecom/atm'"},
      {"concat(s, ns)", "null"},
      {"concat(e, e)", "''"},
      {"s || '!'", "'héllo!'"},
      {"ch || '-' || t || '-' || s", "'ecom-ecom-héllo'"},
      {"ns || 'x'", "null"},
      {"trim('  a b \t')", "'a b'"},
      {"trim('   ')", "''"},
      {"trim(ns)", "null"},
  });
}

TEST(Casts, Functions) {
  RunCases({
      {"to_float(i)", "7"},
      {"to_float(f)", "2.5"},
      {"to_float(b)", "1"},
      {"to_float('2.5')", "2.5"},
      {"to_float('x')", "null"},
      {"to_float('1e999')", "null"},
      {"to_float(ni)", "null"},
      {"to_int(f)", "2"},
      {"to_int(-2.9)", "-2"},
      {"to_int(1e19)", "null"},
      {"to_int(-9.3e18)", "null"},
      {"to_int(c)", "0"},
      {"to_int('42')", "42"},
      {"to_int('-42')", "-42"},
      {"to_int('+42')", "42"},
      {"to_int('4.2')", "null"},
      {"to_int(' 42')", "null"},
      {"to_int('')", "null"},
      {"to_int('99999999999999999999')", "null"},
      {"to_int(i)", "7"},
      {"to_int(null)", "null"},
      {"to_string(i)", "'7'"},
      {"to_string(small)", "'-9223372036854775808'"},
      {"to_string(f)", "'2.5'"},
      {"to_string(2.0)", "'2.0'"},
      {"to_string(1e20)", "'1e+20'"},
      {"to_string(0.1)", "'0.1'"},
      {"to_string(b)", "'true'"},
      {"to_string(c)", "'false'"},
      {"to_string(ts)", "'2024-03-01T12:30:45Z'"},
      {"to_string(ts2)", "'2024-03-02T12:30:45.500Z'"},
      {"to_string(ch)", "'ecom'"},
      {"to_string(s)", "'héllo'"},
      {"to_string(ni)", "null"},
      {"to_string(null)", "null"},
      {"'n=' || to_string(i)", "'n=7'"},
  });
}

TEST(Time, Functions) {
  RunCases({
      {"year(ts)", "2024"},
      {"month(ts)", "3"},
      {"day(ts)", "1"},
      {"hour(ts)", "12"},
      {"minute(ts)", "30"},
      {"day_of_week(ts)", "5"},
      {"day_of_week(timestamp '2024-03-03')", "7"},
      {"day_of_week(timestamp '2024-03-04')", "1"},
      {"year(timestamp '1969-12-31T23:59:59Z')", "1969"},
      {"year(nts)", "null"},
      {"seconds_between(ts, ts2)", "86400.5"},
      {"seconds_between(ts2, ts)", "-86400.5"},
      {"seconds_between(ts, nts)", "null"},
      {"epoch_seconds(ts)", "1709296245"},
      {"epoch_seconds(timestamp '1970-01-01T00:00:00.25Z')", "0.25"},
      {"epoch_seconds(timestamp '1969-12-31T23:59:59.75Z')", "-0.25"},
  });
}

TEST(Names, CaseInsensitiveKeywordsAndFunctions) {
  RunCases({
      {"ABS(j) + Abs(j)", "6"},
      {"i In (7) AnD NOT c", "true"},
      {"Case When b Then 'y' Else 'n' End", "'y'"},
  });
}

}  // namespace
}  // namespace sluice::expr::testing
