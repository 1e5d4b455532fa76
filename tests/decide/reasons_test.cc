// Reasons (docs/policies.md, "Reasons"): texts that quote values, with
// decimals, null as 'unknown' and literal braces; codes from a model's
// contributions grouped by the codes' `features`; deduplication and
// max_reasons.

#include <gtest/gtest.h>

#include "decide_harness.h"

namespace sluice {
namespace {

using testing::CompileErrors;
using testing::CompilePipeline;
using testing::RunRecords;

const char* kSource = R"y(pipeline: reasons
source:
  schema:
    id: {type: int64, id: true}
    amount: {type: float64, nullable: true}
    avg_amount_30d: {type: float64, nullable: true}
    n: {type: int64, nullable: true}
    country: {type: string, nullable: true}
    tier: {type: enum, values: [BASIC, GOLD], nullable: true}
    ts: {type: timestamp, nullable: true}
)y";
const char* kHeader = "id,amount,avg_amount_30d,n,country,tier,ts\n";

std::shared_ptr<const runtime::Engine> MustCompile(const std::string& rest) {
  std::string errors;
  auto engine = CompilePipeline(std::string(kSource) + rest, &errors);
  EXPECT_TRUE(engine) << errors;
  return engine;
}

TEST(ReasonTexts, QuoteValues) {
  auto engine = MustCompile(R"y(policies:
  - name: band
    outputs:
      band: {type: enum, values: [A, B]}
    rules:
      - {id: a, when: amount > 100, set: {band: A}}
    default: {set: {band: B}}
decision:
  rules:
    - {id: high, when: amount > 100, action: review, reasons: [HIGH_AMOUNT, PLAIN, BAND, MIX]}
  default: {action: approve, reasons: [WHERE, BRACES]}
reason_codes:
  HIGH_AMOUNT: "Amount {amount:.2f} is {amount / avg_amount_30d:.1f} times this card's average"
  PLAIN: "Count {n}, int with decimals {n:.1f}, float {amount}"
  BAND: "Band {band.band} for tier {tier}"
  MIX: "{country}{n}"
  WHERE: "{country} at {ts}, {{literal}} and }} and {{"
  BRACES: "{{not a placeholder}}"
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) +
                                     "1,1234.5,100,3,US,GOLD,2024-01-01T00:00:00Z\n"
                                     "2,250,,,,,\n"
                                     "3,5,,7,FR,,2024-02-03T04:05:06Z\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["reasons"], "HIGH_AMOUNT,PLAIN,BAND,MIX");
  EXPECT_EQ(out[0]["texts"],
            "Amount 1234.50 is 12.3 times this card's average | "
            "Count 3, int with decimals 3.0, float 1234.5 | Band A for tier GOLD | US3");
  // Null values print 'unknown' (a division by a null average too).
  EXPECT_EQ(out[1]["texts"],
            "Amount 250.00 is unknown times this card's average | "
            "Count unknown, int with decimals unknown, float 250 | Band A for tier unknown | "
            "unknownunknown");
  EXPECT_EQ(out[2]["texts"],
            "FR at 2024-02-03T04:05:06Z, {literal} and } and { | {not a placeholder}");
}

TEST(ReasonTexts, PlaceholderErrorsAreLocatedAndClear) {
  const std::string rules = R"y(decision:
  rules:
    - {id: r, when: amount > 1, action: review, reason: R}
  default: approve
reason_codes:
)y";
  EXPECT_EQ(CompileErrors(std::string(kSource) + rules + "  R: \"Amount {amout}\"\n"),
            "p.yaml:16:15: error: unknown name 'amout'; did you mean 'amount'?\n");
  EXPECT_EQ(CompileErrors(std::string(kSource) + rules + "  R: \"Amount {amount\"\n"),
            "p.yaml:16:14: error: reason code 'R': the placeholder has no closing '}'; write "
            "'{{' for a brace\n");
  EXPECT_EQ(CompileErrors(std::string(kSource) + rules + "  R: \"Country {country:.2f}\"\n"),
            "p.yaml:16:15: error: reason code 'R': the format .2f needs a number, found "
            "string\n");
  EXPECT_EQ(CompileErrors(std::string(kSource) + rules + "  R: \"Amount {amount:.20f}\"\n"),
            "p.yaml:16:21: error: reason code 'R': unknown format ':.20f'; write {value:.Nf} "
            "with N from 0 to 12 decimals\n");
  EXPECT_EQ(CompileErrors(std::string(kSource) + rules + "  R: \"Amount } {amount}\"\n"),
            "p.yaml:16:14: error: reason code 'R': a '}' without its '{'; write '}}' for a "
            "brace\n");
  // A code no rule uses is checked too.
  EXPECT_EQ(
      CompileErrors(std::string(kSource) + rules + "  R: fine\n  UNUSED: \"Amount {amout:.2f}\"\n"),
      "p.yaml:17:20: error: unknown name 'amout'; did you mean 'amount'?\n");
}

TEST(Reasons, DeduplicatedAndCutAtMaxReasons) {
  auto engine = MustCompile(R"y(policies:
  - name: few
    max_reasons: 2
    rules:
      - {id: r, when: amount > 1, action: x, reasons: [A, B, A, C]}
    default: {action: y, reasons: [C, C]}
  - name: none
    max_reasons: 0
    rules:
      - {id: r, when: amount > 1, action: x, reasons: [A]}
    default: y
decision:
  rules:
    - {id: r, when: amount > 1, action: review, reasons: [A, B, A, C, D, E]}
  default: {action: approve, reasons: [E]}
reason_codes:
  A: a
  B: b
  C: c
  D: d
  E: e
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + "1,5,,,,,\n2,0,,,,,\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["few.reasons"], "A,B");
  EXPECT_EQ(out[0]["none.reasons"], "");
  EXPECT_EQ(out[0]["reasons"], "A,B,C,D");  // default max_reasons: 4
  EXPECT_EQ(out[1]["few.reasons"], "C");
  EXPECT_EQ(out[1]["reasons"], "E");
}

// A logistic model over amount, n and ratio: contributions are
// coefficient * (x - reference).
const char* kModel = R"y(features:
  ratio: amount / nullif(avg_amount_30d, 0)
models:
  lr:
    format: logistic
    link: logistic
    intercept: -1
    coefficients: {amount: 0.01, ratio: 0.5, n: 0.2}
)y";

TEST(TopReasons, GroupedCodesAddTheirInputsContributions) {
  // amount and ratio both stand for HIGH_AMOUNT; n for MANY (by name: n).
  auto engine = MustCompile(std::string(kModel) + R"y(decision:
  rules:
    - {id: risky, when: lr.score > 0.5, action: decline, reasons: [RISK, "top(lr)"]}
    - {id: one, when: lr.score > 0.2, action: review, reasons: "top(lr, 1)"}
  default: approve
reason_codes:
  RISK: High model risk
  HIGH_AMOUNT:
    text: "Amount {amount:.0f} is {ratio:.1f} times the average"
    features: [amount, ratio]
  n: Many transactions
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) +
                                     // amount 100: 1.0 + ratio 2: 1.0 = 2.0 > n 9: 1.8
                                     "1,100,50,9,,,\n"
                                     // amount 10: 0.1 + ratio 0.1: 0.05 = 0.15 < n 20: 4.0
                                     "2,10,100,20,,,\n"
                                     // n negative: it pushed the score down, no reason.
                                     "3,200,100,-5,,,\n"
                                     // margin -1 + 0 + 0 + 0.4 = -0.6: score 0.35: one reason.
                                     "4,0,,2,,,\n");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[0]["reasons"], "RISK,HIGH_AMOUNT,n");
  EXPECT_EQ(out[0]["texts"],
            "High model risk | Amount 100 is 2.0 times the average | Many transactions");
  EXPECT_EQ(out[1]["reasons"], "RISK,n,HIGH_AMOUNT");
  EXPECT_EQ(out[2]["reasons"], "RISK,HIGH_AMOUNT");
  EXPECT_EQ(out[3]["action"], "review");
  EXPECT_EQ(out[3]["reasons"], "n");
}

TEST(TopReasons, FromTheRulesOfAScoredSetAndTheRowsOfATable) {
  auto engine = MustCompile(std::string(kModel) + R"y(policies:
  - name: pts
    scored:
      rules:
        - {id: risky, when: lr.score > 0.5, points: 10, reasons: ["top(lr, 1)"]}
        - {id: big, when: amount > 50, points: 20, reason: BIG}
      thresholds:
        - {at_least: 25, action: review}
    default: approve
  - name: tab
    table:
      hit_policy: first
      inputs: [lr.score]
      outputs: [action]
      rows:
        - {when: ["> 0.5"], then: [review], reasons: [BIG, "top(lr)"]}
    default: approve
decision:
  rules:
    - {id: r, when: pts.action = 'review', action: review}
  default: approve
reason_codes:
  BIG: Big
  HIGH_AMOUNT:
    text: High amount
    features: [amount, ratio]
  n: Many transactions
)y");
  ASSERT_TRUE(engine);
  // As in the test above: record 1 pushes up HIGH_AMOUNT (2.0) then n (1.8).
  auto out = RunRecords(*engine, std::string(kHeader) + "1,100,50,9,,,\n2,60,,0,,,\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["pts.points"], "30");
  EXPECT_EQ(out[0]["pts.reasons"], "BIG,HIGH_AMOUNT");  // 20 points before 10
  EXPECT_EQ(out[0]["tab.reasons"], "BIG,HIGH_AMOUNT,n");
  // Record 2: margin -1 + 0.6 = -0.4, score below 0.5: only 'big' adds points.
  EXPECT_EQ(out[1]["pts.points"], "20");
  EXPECT_EQ(out[1]["pts.reasons"], "BIG");
  EXPECT_EQ(out[1]["tab.reasons"], "");
}

TEST(TopReasons, AModelInputWithoutACodeIsReported) {
  EXPECT_EQ(CompileErrors(std::string(kSource) + kModel + R"y(decision:
  rules:
    - {id: risky, when: lr.score > 0.5, action: decline, reasons: "top(lr)"}
  default: approve
reason_codes:
  HIGH_AMOUNT:
    text: High amount
    features: [amount]
)y"),
            "p.yaml:21:67: error: top(lr) needs a reason code for each input of model 'lr'; add "
            "'ratio', 'n' under 'reason_codes' (or list them in the 'features' of a code)\n");
}

}  // namespace
}  // namespace sluice
