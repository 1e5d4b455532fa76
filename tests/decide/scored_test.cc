// Scored rule sets (docs/policies.md, "Scored rule sets"): every true rule
// adds its points, the highest threshold reached decides, the default takes
// the totals below every threshold, and the reasons come most points first.

#include <gtest/gtest.h>

#include "decide_harness.h"

namespace sluice {
namespace {

using testing::CompilePipeline;
using testing::RunRecords;

const char* kPipeline = R"y(pipeline: scored
source:
  schema:
    id: {type: int64, id: true}
    device_age_days: {type: int64, nullable: true}
    hour: int64
    amount: float64
    avg_30d: {type: float64, nullable: true}
policies:
  - name: fraud_points
    scored:
      rules:
        - {id: new_device,   when: device_age_days < 1,  points: 25, reason: NEW_DEVICE}
        - {id: night,        when: hour < 5,             points: 10, reason: NIGHT}
        - {id: high_amount,  when: amount > 3 * avg_30d, points: 30, reason: HIGH_AMOUNT}
        - {id: tiny,         when: amount < 1,           points: -5, reason: TINY}
      thresholds:
        - {at_least: 30, action: review, reason: REVIEW_BAND}
        - {at_least: 60, action: decline, reasons: [DECLINE_BAND, NIGHT]}
        - {at_least: 12.5, action: watch}
    default: approve
decision:
  rules:
    - {id: scored_decline, when: fraud_points.action = 'decline', action: decline}
    - {id: many_points, when: fraud_points.points >= 30, action: review}
  default: approve
reason_codes:
  NEW_DEVICE: New device
  NIGHT: At night
  HIGH_AMOUNT: High amount
  TINY: Tiny amount
  REVIEW_BAND: Review band
  DECLINE_BAND: Decline band
)y";

const char* kHeader = "id,device_age_days,hour,amount,avg_30d\n";

TEST(Scored, PointsAddUpAndTheHighestThresholdReachedDecides) {
  std::string errors;
  auto engine = CompilePipeline(kPipeline, &errors);
  ASSERT_TRUE(engine) << errors;
  auto out = RunRecords(*engine, std::string(kHeader) +
                                     "1,0,3,400,100\n"   // 25 + 10 + 30 = 65
                                     "2,0,12,400,100\n"  // 25 + 30 = 55
                                     "3,5,3,100,100\n"   // 10
                                     "4,,12,100,\n"      // nulls add nothing: 0
                                     "5,0,12,50,100\n"   // 25
                                     "6,5,3,0.5,\n"      // 10 - 5 = 5
                                     "7,0,4,0.5,0.1\n"   // 25 + 10 + 30 - 5 = 60
                                     "8,5,3,40,10\n");   // 10 + 30 = 40
  ASSERT_EQ(out.size(), 8u);
  const std::vector<std::vector<std::string>> want = {
      // points, action, rule, reasons
      {"65", "decline", "at_least_60", "HIGH_AMOUNT,NEW_DEVICE,NIGHT,DECLINE_BAND"},
      {"55", "review", "at_least_30", "HIGH_AMOUNT,NEW_DEVICE,REVIEW_BAND"},
      {"10", "approve", "default", "NIGHT"},
      {"0", "approve", "default", ""},
      {"25", "watch", "at_least_12_5", "NEW_DEVICE"},
      {"5", "approve", "default", "NIGHT,TINY"},
      {"60", "decline", "at_least_60", "HIGH_AMOUNT,NEW_DEVICE,NIGHT,TINY"},
      {"40", "review", "at_least_30", "HIGH_AMOUNT,NIGHT,REVIEW_BAND"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(out[i]["fraud_points.points"], want[i][0]) << "record " << i + 1;
    EXPECT_EQ(out[i]["fraud_points.action"], want[i][1]) << "record " << i + 1;
    EXPECT_EQ(out[i]["fraud_points.rule"], want[i][2]) << "record " << i + 1;
    EXPECT_EQ(out[i]["fraud_points.reasons"], want[i][3]) << "record " << i + 1;
    EXPECT_EQ(out[i].error, "");
  }
  // The decision reads the scored set's action and points.
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[1]["rule"], "many_points");
  EXPECT_EQ(out[2]["action"], "approve");
}

TEST(Scored, ActionsAreInOrderOfFirstAppearance) {
  std::string errors;
  auto engine = CompilePipeline(kPipeline, &errors);
  ASSERT_TRUE(engine) << errors;
  const auto& p = engine->decision()->policies()[0];
  EXPECT_EQ(p.name(), "fraud_points");
  // Thresholds are taken highest first; the default comes last.
  EXPECT_EQ(TypeName(p.action_type()), "enum(decline, review, watch, approve)");
  EXPECT_EQ(TypeName(p.rule_type()),
            "enum(new_device, night, high_amount, tiny, at_least_60, at_least_30, "
            "at_least_12_5, default)");
  EXPECT_EQ(p.points_column() >= 0, true);
  EXPECT_EQ(engine->layout().column(p.points_column()).type.kind, TypeKind::kFloat64);
}

TEST(Scored, ThresholdsSetOutputsAndMaxReasonsCuts) {
  std::string errors;
  auto engine = CompilePipeline(R"y(pipeline: scored
source:
  schema:
    id: {type: int64, id: true}
    a: bool
    b: bool
    c: bool
decision:
  max_reasons: 2
  outputs:
    limit: int64
  scored:
    rules:
      - {id: ra, when: a, points: 1, reason: A}
      - {id: rb, when: b, points: 2, reason: B}
      - {id: rc, when: c, points: 2, reason: C}
    thresholds:
      - {at_least: 2, action: review, reason: T, set: {limit: 100}}
  default: {action: approve, set: {limit: 1000}}
reason_codes:
  A: a
  B: b
  C: c
  T: threshold
)y",
                                &errors);
  ASSERT_TRUE(engine) << errors;
  auto out =
      RunRecords(*engine, "id,a,b,c\n1,true,true,true\n2,true,false,false\n3,false,false,true\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[0]["rule"], "at_least_2");
  EXPECT_EQ(out[0]["limit"], "100");
  EXPECT_EQ(out[0]["reasons"], "B,C");  // ties keep rule order; cut at 2
  EXPECT_EQ(out[1]["action"], "approve");
  EXPECT_EQ(out[1]["limit"], "1000");
  EXPECT_EQ(out[1]["reasons"], "A");
  EXPECT_EQ(out[2]["reasons"], "C,T");
}

TEST(Scored, WithoutThresholdsOnlyPoints) {
  std::string errors;
  auto engine = CompilePipeline(R"y(pipeline: scored
source:
  schema:
    id: {type: int64, id: true}
    a: {type: int64, nullable: true}
policies:
  - name: pts
    scored:
      rules:
        - {id: big, when: a > 10, points: 2.5}
        - {id: huge, when: a > 100, points: 4}
decision:
  rules:
    - {id: r, when: pts.points > 5, action: review}
  default: approve
)y",
                                &errors);
  ASSERT_TRUE(engine) << errors;
  EXPECT_FALSE(engine->decision()->policies()[0].has_action());
  auto out = RunRecords(*engine, "id,a\n1,5\n2,50\n3,500\n4,\n");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["pts.points"], "0");
  EXPECT_EQ(out[1]["pts.points"], "2.5");
  EXPECT_EQ(out[2]["pts.points"], "6.5");
  EXPECT_EQ(out[2]["action"], "review");
  EXPECT_EQ(out[3]["pts.points"], "0");
  EXPECT_EQ(out[3]["pts.rule"], "default");
}

}  // namespace
}  // namespace sluice
