// Typed outputs (docs/policies.md, "Keys every policy has"): values from
// `set` on rules, thresholds and the default and from table cells; an int64
// value fills a float64 output; enum outputs take bare value names; a rule
// that sets nothing takes the default's value. And policies chain: later
// policies read NAME.action, NAME.rule and NAME.OUTPUT.

#include <gtest/gtest.h>

#include "decide_harness.h"

namespace sluice {
namespace {

using testing::CompileErrors;
using testing::CompilePipeline;
using testing::RunRecords;

const char* kSource = R"y(pipeline: outputs
source:
  schema:
    id: {type: int64, id: true}
    amount: float64
    n: {type: int64, nullable: true}
    country: string
    ts: timestamp
)y";
const char* kHeader = "id,amount,n,country,ts\n";

std::shared_ptr<const runtime::Engine> MustCompile(const std::string& rest) {
  std::string errors;
  auto engine = CompilePipeline(std::string(kSource) + rest, &errors);
  EXPECT_TRUE(engine) << errors;
  return engine;
}

TEST(Outputs, EveryTypeFromSetAndTheDefault) {
  auto engine = MustCompile(R"y(decision:
  outputs:
    limit: float64
    count: int64
    queue: {type: enum, values: [none, manual, senior]}
    note: string
    flag: bool
    until: timestamp
  rules:
    - id: big
      when: amount > 1000
      action: review
      set:
        limit: amount * 2
        count: n + 1
        queue: senior
        note: "'big ' || country"
        flag: "true"
        until: "timestamp '2030-01-01T00:00:00Z'"
    - id: medium
      when: amount > 100
      action: review
      set: {limit: 500, queue: "'manual'", flag: n > 3, until: ts}
    - id: nothing
      when: amount > 50
      action: review
      set: {limit: "null", note: "null"}
  default:
    action: approve
    set: {limit: 1000, count: 0, queue: none, note: "'ok'", flag: "false", until: ts}
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(
      *engine, std::string(kHeader) + "1,2000,4,FR,2024-05-01T10:00:00Z\n" +
                   "2,200,4,FR,2024-05-01T10:00:00Z\n" + "3,200,,FR,2024-05-01T10:00:00Z\n" +
                   "4,60,2,US,2024-05-01T10:00:00Z\n" + "5,10,2,US,2024-05-01T10:00:00Z\n" +
                   "6,2000,,FR,2024-05-01T10:00:00Z\n");
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0]["limit"], "4000");
  EXPECT_EQ(out[0]["count"], "5");
  EXPECT_EQ(out[0]["queue"], "senior");
  EXPECT_EQ(out[0]["note"], "big FR");
  EXPECT_EQ(out[0]["flag"], "true");
  EXPECT_EQ(out[0]["until"], "2030-01-01T00:00:00Z");
  // 'medium' sets some outputs; the others take the default's values.
  EXPECT_EQ(out[1]["limit"], "500");  // int64 literal into float64
  EXPECT_EQ(out[1]["count"], "0");
  EXPECT_EQ(out[1]["queue"], "manual");
  EXPECT_EQ(out[1]["note"], "ok");
  EXPECT_EQ(out[1]["flag"], "true");
  EXPECT_EQ(out[1]["until"], "2024-05-01T10:00:00Z");
  EXPECT_EQ(out[2]["flag"], "null");  // n > 3 with a null n
  // An explicit null is a value: it does not fall back to the default.
  EXPECT_EQ(out[3]["rule"], "nothing");
  EXPECT_EQ(out[3]["limit"], "null");
  EXPECT_EQ(out[3]["note"], "null");
  EXPECT_EQ(out[3]["count"], "0");
  EXPECT_EQ(out[4]["rule"], "default");
  EXPECT_EQ(out[4]["limit"], "1000");
  EXPECT_EQ(out[4]["queue"], "none");
  EXPECT_EQ(out[4]["note"], "ok");
  EXPECT_EQ(out[4]["flag"], "false");
  EXPECT_EQ(out[5]["count"], "null");  // n + 1 with a null n
}

TEST(Outputs, IntExpressionsWidenIntoFloatOutputs) {
  auto engine = MustCompile(R"y(decision:
  outputs:
    limit: float64
  rules:
    - {id: r, when: n > 0, action: review, set: {limit: n * 3}}
  default: {action: approve, set: {limit: "-1"}}
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + "1,0,7,US,2024-01-01\n2,0,,US,2024-01-01\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["limit"], "21");
  EXPECT_EQ(out[1]["limit"], "-1");
  EXPECT_EQ(engine->layout().column(engine->decision()->outputs()[0].column).type.kind,
            TypeKind::kFloat64);
}

TEST(Outputs, TableCellsGiveOutputsAndDashTakesTheDefault) {
  auto engine = MustCompile(R"y(decision:
  outputs:
    limit: float64
    queue: {type: enum, values: [none, manual, senior]}
  table:
    hit_policy: first
    inputs: [country, amount]
    outputs: [action, queue, limit]
    rows:
      - ["'US'", "> 1000", review, manual, "amount / 2"]
      - ["'US'", "-", approve, "-", "-"]
      - ["-", "-", decline, "'senior'", 0]
  default: {action: approve, set: {queue: none, limit: 10}}
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + "1,3000,1,US,2024-01-01\n" +
                                     "2,30,1,US,2024-01-01\n3,30,1,FR,2024-01-01\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[0]["queue"], "manual");
  EXPECT_EQ(out[0]["limit"], "1500");
  EXPECT_EQ(out[1]["action"], "approve");
  EXPECT_EQ(out[1]["queue"], "none");
  EXPECT_EQ(out[1]["limit"], "10");
  EXPECT_EQ(out[2]["action"], "decline");
  EXPECT_EQ(out[2]["queue"], "senior");
  EXPECT_EQ(out[2]["limit"], "0");
}

TEST(Outputs, APolicyWithoutActionsOnlyFillsOutputs) {
  auto engine = MustCompile(R"y(policies:
  - name: tier
    outputs:
      level: {type: enum, values: [low, high]}
      cap: int64
    rules:
      - {id: rich, when: amount > 1000, set: {level: high, cap: 50}}
    default: {set: {level: low, cap: 5}}
  - name: queue
    outputs:
      q: {type: enum, values: [low, high]}
    rules:
      - {id: copy, when: tier.rule = 'rich', set: {q: tier.level}}
    default: {set: {q: low}}
decision:
  outputs:
    level: {type: enum, values: [low, high]}
  rules:
    - {id: high, when: tier.level = 'high' and queue.q = 'high', action: review, set: {level: queue.q}}
  default: {action: approve, set: {level: tier.level}}
)y");
  ASSERT_TRUE(engine);
  EXPECT_FALSE(engine->decision()->policies()[0].has_action());
  auto out = RunRecords(
      *engine, std::string(kHeader) + "1,3000,1,US,2024-01-01\n" + "2,30,1,US,2024-01-01\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["tier.level"], "high");
  EXPECT_EQ(out[0]["tier.cap"], "50");
  EXPECT_EQ(out[0]["queue.q"], "high");
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[0]["level"], "high");
  EXPECT_EQ(out[1]["tier.rule"], "default");
  EXPECT_EQ(out[1]["level"], "low");
  EXPECT_EQ(out[1]["action"], "approve");
}

TEST(Outputs, TypeErrorsAreLocated) {
  EXPECT_EQ(CompileErrors(std::string(kSource) + R"y(decision:
  outputs:
    limit: int64
  rules:
    - {id: r, when: amount > 0, action: review, set: {limit: amount}}
  default: {action: approve, set: {limit: 1}}
)y"),
            "p.yaml:13:62: error: output 'limit' of the decision is int64; the value in rule 'r' "
            "is float64; convert it with to_int(round(...)) or declare the output float64\n");
}

}  // namespace
}  // namespace sluice
