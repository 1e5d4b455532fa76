#include "common/names.h"

#include <gtest/gtest.h>

#include "common/diagnostic.h"

namespace sluice {
namespace {

TEST(EditDistance, CountsEditsCaseInsensitively) {
  EXPECT_EQ(EditDistance("card_id", "card_id"), 0);
  EXPECT_EQ(EditDistance("card_id", "CARD_ID"), 0);
  EXPECT_EQ(EditDistance("card_id", "crad_id"), 1);  // transposition
  EXPECT_EQ(EditDistance("amount", "amout"), 1);
  EXPECT_EQ(EditDistance("", "abc"), 3);
}

TEST(DidYouMean, SuggestsClosestNames) {
  std::vector<std::string> known = {"income", "incomes_total", "debt", "amount"};
  EXPECT_EQ(DidYouMean("incme", known), "; did you mean 'income'?");
  EXPECT_EQ(DidYouMean("xyz", known), "");
  EXPECT_EQ(ClosestNames("amout", known), std::vector<std::string>{"amount"});
}

TEST(FormatDiagnostic, NamesFileLineColumn) {
  Diagnostic d{{"p.yaml", 3, 7}, "expected bool, found int64"};
  EXPECT_EQ(FormatDiagnostic(d), "p.yaml:3:7: error: expected bool, found int64");
  Diagnostic whole{{"p.yaml", 0, 0}, "cannot read"};
  EXPECT_EQ(FormatDiagnostic(whole), "p.yaml: error: cannot read");
}

}  // namespace
}  // namespace sluice
