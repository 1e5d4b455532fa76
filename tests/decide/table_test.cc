// Decision tables (docs/policies.md, "Decision tables"): every cell syntax,
// null inputs, each hit policy, record errors at run time, and tables of
// more than 64 rows checked against a brute-force evaluation.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "decide_harness.h"

namespace sluice {
namespace {

using testing::CompileErrors;
using testing::CompilePipeline;
using testing::Decided;
using testing::RunRecords;

const char* kSchema = R"y(pipeline: tables
source:
  schema:
    id: {type: int64, id: true}
    score: {type: int64, nullable: true}
    ratio: {type: float64, nullable: true}
    country: {type: string, nullable: true}
    tier: {type: enum, values: [BASIC, GOLD, PLATINUM], nullable: true}
    vip: {type: bool, nullable: true}
    ts: {type: timestamp, nullable: true}
    avg: {type: float64, nullable: true}
    home: {type: string, nullable: true}
)y";
const char* kHeader = "id,score,ratio,country,tier,vip,ts,avg,home\n";
const std::vector<std::string> kFields = {"id",  "score", "ratio", "country", "tier",
                                          "vip", "ts",    "avg",   "home"};

// A YAML double-quoted scalar.
std::string Q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A CSV record from "field=value" assignments (the others null); values
// with a comma or a quote are quoted.
std::string Record(int id, const std::vector<std::string>& assignments) {
  std::map<std::string, std::string> v;
  for (const auto& a : assignments) {
    const size_t eq = a.find('=');
    v[a.substr(0, eq)] = a.substr(eq + 1);
  }
  std::string line = std::to_string(id);
  for (size_t i = 1; i < kFields.size(); ++i) {
    std::string x = v[kFields[i]];
    if (x.find_first_of(",\"") != std::string::npos) {
      std::string q = "\"";
      for (char c : x) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      x = q + "\"";
    }
    line += "," + x;
  }
  return line + "\n";
}

std::shared_ptr<const runtime::Engine> MustCompile(const std::string& yaml) {
  std::string errors;
  auto engine = CompilePipeline(yaml, &errors);
  EXPECT_TRUE(engine) << errors << "\n" << yaml;
  return engine;
}

// ---------------------------------------------------------------------------
// Input cells, one at a time: a one-row table (hit policy first) whose row
// gives 'hit'; the default gives 'miss'.

struct CellCase {
  std::string input;
  std::string cell;
  std::vector<std::pair<std::vector<std::string>, bool>> records;  // values, matches
};

const std::vector<CellCase>& CellCases() {
  static const std::vector<CellCase> kCases = {
      // '-' and an empty cell match anything, null too.
      {"score", "-", {{{"score=5"}, true}, {{}, true}}},
      {"score", "", {{{"score=5"}, true}, {{}, true}}},
      {"score", "null", {{{}, true}, {{"score=0"}, false}}},
      {"score", "not null", {{{"score=0"}, true}, {{}, false}}},
      // Comparisons with a number; a null input matches none.
      {"score", "< 600", {{{"score=599"}, true}, {{"score=600"}, false}, {{}, false}}},
      {"score", "<= 600", {{{"score=600"}, true}, {{"score=601"}, false}, {{}, false}}},
      {"score", "> 600", {{{"score=601"}, true}, {{"score=600"}, false}, {{}, false}}},
      {"score", ">= 600", {{{"score=600"}, true}, {{"score=599"}, false}, {{}, false}}},
      {"score", ">=600", {{{"score=600"}, true}, {{"score=599"}, false}}},
      {"score", "> -5", {{{"score=-4"}, true}, {{"score=-5"}, false}}},
      {"score", "< 600.5", {{{"score=600"}, true}, {{"score=601"}, false}}},
      {"score", "= 600", {{{"score=600"}, true}, {{"score=601"}, false}, {{}, false}}},
      {"score", "== 600", {{{"score=600"}, true}, {{"score=601"}, false}}},
      {"score", "600", {{{"score=600"}, true}, {{"score=601"}, false}, {{}, false}}},
      {"score", "!= 600", {{{"score=601"}, true}, {{"score=600"}, false}, {{}, false}}},
      {"score", "<> 600", {{{"score=601"}, true}, {{"score=600"}, false}, {{}, false}}},
      // Lists.
      {"score", "600, 700", {{{"score=700"}, true}, {{"score=650"}, false}, {{}, false}}},
      // Ranges, each bracket.
      {"score",
       "[600..700)",
       {{{"score=600"}, true},
        {{"score=699"}, true},
        {{"score=700"}, false},
        {{"score=599"}, false},
        {{}, false}}},
      {"score",
       "(600..700]",
       {{{"score=600"}, false},
        {{"score=601"}, true},
        {{"score=700"}, true},
        {{"score=701"}, false}}},
      {"score",
       "[600..700]",
       {{{"score=600"}, true}, {{"score=700"}, true}, {{"score=701"}, false}}},
      {"score",
       "(600..700)",
       {{{"score=600"}, false}, {{"score=650"}, true}, {{"score=700"}, false}}},
      {"score", "[ 600 .. 700 )", {{{"score=600"}, true}, {{"score=700"}, false}}},
      {"score", "[-10..-5)", {{{"score=-10"}, true}, {{"score=-5"}, false}}},
      // not(...): a non-null input the inner test does not match.
      {"score", "not(< 600)", {{{"score=600"}, true}, {{"score=599"}, false}, {{}, false}}},
      {"score", "not(null)", {{{"score=1"}, true}, {{}, false}}},
      {"score", "not(not null)", {{{"score=1"}, false}, {{}, true}}},
      {"score",
       "not([600..700))",
       {{{"score=700"}, true}, {{"score=650"}, false}, {{"score=599"}, true}, {{}, false}}},
      {"score", "not(600, 700)", {{{"score=650"}, true}, {{"score=600"}, false}, {{}, false}}},
      {"score", "not ( >= 600 )", {{{"score=599"}, true}, {{"score=600"}, false}, {{}, false}}},
      // Floats: the literal is the float64 the expression language reads.
      {"ratio", "< 0.35", {{{"ratio=0.35"}, false}, {{"ratio=0.34"}, true}, {{}, false}}},
      {"ratio", "<= 0.1", {{{"ratio=0.1"}, true}, {{"ratio=0.11"}, false}}},
      {"ratio", "= 0.1", {{{"ratio=0.1"}, true}, {{"ratio=0.2"}, false}}},
      {"ratio", "> 0.3", {{{"ratio=0.3"}, false}, {{"ratio=0.31"}, true}}},
      {"ratio",
       "[0.1..0.3)",
       {{{"ratio=0.1"}, true}, {{"ratio=0.3"}, false}, {{"ratio=0.2"}, true}}},
      {"ratio", "(0.1..0.3]", {{{"ratio=0.1"}, false}, {{"ratio=0.3"}, true}}},
      {"ratio", ">= 1e3", {{{"ratio=1000"}, true}, {{"ratio=999.9"}, false}}},
      {"ratio", "> 2", {{{"ratio=2.5"}, true}, {{"ratio=2"}, false}}},
      {"ratio", "0.1, 0.7", {{{"ratio=0.7"}, true}, {{"ratio=0.1"}, true}, {{"ratio=0.3"}, false}}},
      // Strings.
      {"country", "'US'", {{{"country=US"}, true}, {{"country=CA"}, false}, {{}, false}}},
      {"country", "= 'US'", {{{"country=US"}, true}, {{"country=CA"}, false}}},
      {"country", "!= 'US'", {{{"country=CA"}, true}, {{"country=US"}, false}, {{}, false}}},
      {"country",
       "'US', 'CA', 'MX'",
       {{{"country=MX"}, true}, {{"country=US"}, true}, {{"country=FR"}, false}, {{}, false}}},
      {"country",
       "not('US', 'CA')",
       {{{"country=FR"}, true}, {{"country=US"}, false}, {{}, false}}},
      {"country", "'a,b'", {{{"country=a,b"}, true}, {{"country=a"}, false}}},
      {"country", "'it''s'", {{{"country=it's"}, true}, {{"country=its"}, false}}},
      // Enums: bare or quoted value names.
      {"tier", "GOLD", {{{"tier=GOLD"}, true}, {{"tier=BASIC"}, false}, {{}, false}}},
      {"tier", "'GOLD'", {{{"tier=GOLD"}, true}, {{"tier=BASIC"}, false}}},
      {"tier", "= GOLD", {{{"tier=GOLD"}, true}, {{"tier=PLATINUM"}, false}}},
      {"tier", "!= GOLD", {{{"tier=BASIC"}, true}, {{"tier=GOLD"}, false}, {{}, false}}},
      {"tier",
       "GOLD, PLATINUM",
       {{{"tier=PLATINUM"}, true}, {{"tier=GOLD"}, true}, {{"tier=BASIC"}, false}, {{}, false}}},
      {"tier", "not(GOLD)", {{{"tier=BASIC"}, true}, {{"tier=GOLD"}, false}, {{}, false}}},
      {"tier", "null", {{{}, true}, {{"tier=BASIC"}, false}}},
      {"tier", "> 'BASIC'", {{{"tier=GOLD"}, true}, {{"tier=BASIC"}, false}, {{}, false}}},
      // Bools.
      {"vip", "true", {{{"vip=true"}, true}, {{"vip=false"}, false}, {{}, false}}},
      {"vip", "false", {{{"vip=false"}, true}, {{"vip=true"}, false}, {{}, false}}},
      {"vip", "= false", {{{"vip=false"}, true}, {{"vip=true"}, false}}},
      {"vip", "not(true)", {{{"vip=false"}, true}, {{"vip=true"}, false}, {{}, false}}},
      // Timestamps: quoted dates.
      {"ts",
       ">= '2024-01-01T00:00:00Z'",
       {{{"ts=2024-01-01T00:00:00Z"}, true}, {{"ts=2023-12-31T23:59:59Z"}, false}, {{}, false}}},
      {"ts",
       "< '2024-01-01'",
       {{{"ts=2023-12-31T23:59:59Z"}, true}, {{"ts=2024-01-01T00:00:00Z"}, false}}},
      {"ts",
       "['2024-01-01'..'2024-02-01')",
       {{{"ts=2024-01-15T10:00:00Z"}, true},
        {{"ts=2024-02-01T00:00:00Z"}, false},
        {{"ts=2024-01-01T00:00:00Z"}, true}}},
      // Expression cells: compared with the input.
      {"ratio",
       "> avg * 3",
       {{{"ratio=4", "avg=1"}, true},
        {{"ratio=3", "avg=1"}, false},
        {{"ratio=4"}, false},
        {{"avg=1"}, false}}},
      {"country",
       "= home",
       {{{"country=US", "home=US"}, true},
        {{"country=US", "home=CA"}, false},
        {{"country=US"}, false}}},
      {"country",
       "!= home",
       {{{"country=US", "home=CA"}, true}, {{"country=US", "home=US"}, false}}},
      {"country", "home", {{{"country=US", "home=US"}, true}, {{"country=US", "home=CA"}, false}}},
      {"country",
       "home, 'XX'",
       {{{"country=XX", "home=US"}, true},
        {{"country=US", "home=US"}, true},
        {{"country=CA", "home=US"}, false}}},
      {"score",
       "[avg..avg * 2)",
       {{{"score=10", "avg=10"}, true},
        {{"score=19", "avg=10"}, true},
        {{"score=20", "avg=10"}, false},
        {{"score=9", "avg=10"}, false}}},
      {"ratio", "not(> avg * 3)", {{{"ratio=2", "avg=1"}, true}, {{"ratio=4", "avg=1"}, false}}},
      // Inputs may be expressions too.
      {"score * 2", ">= 10", {{{"score=5"}, true}, {{"score=4"}, false}, {{}, false}}},
  };
  return kCases;
}

class InputCell : public ::testing::TestWithParam<CellCase> {};

TEST_P(InputCell, MatchesAsDocumented) {
  const CellCase& c = GetParam();
  const std::string yaml = std::string(kSchema) + "decision:\n  table:\n    hit_policy: first\n" +
                           "    inputs: [" + Q(c.input) + "]\n    outputs: [action]\n" +
                           "    rows:\n      - [" + Q(c.cell) + ", hit]\n  default: miss\n";
  auto engine = MustCompile(yaml);
  ASSERT_TRUE(engine);
  std::string csv = kHeader;
  for (size_t i = 0; i < c.records.size(); ++i) {
    csv += Record(static_cast<int>(i + 1), c.records[i].first);
  }
  auto out = RunRecords(*engine, csv);
  ASSERT_EQ(out.size(), c.records.size());
  for (size_t i = 0; i < out.size(); ++i) {
    std::string values;
    for (const auto& v : c.records[i].first) values += v + " ";
    EXPECT_EQ(out[i]["action"], c.records[i].second ? "hit" : "miss")
        << c.input << " cell '" << c.cell << "' with " << (values.empty() ? "all null" : values);
    EXPECT_EQ(out[i]["rule"], c.records[i].second ? "row_1" : "default");
    EXPECT_EQ(out[i].error, "");
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, InputCell, ::testing::ValuesIn(CellCases()),
                         [](const ::testing::TestParamInfo<CellCase>& p) {
                           std::string name;
                           for (char c : p.param.input) {
                             if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                           }
                           return name + "_" + std::to_string(p.index);
                         });

// ---------------------------------------------------------------------------
// Hit policies.

// A table over score and tier whose rows overlap in a known way.
std::string HitTable(const std::string& hit, const std::string& extra = "") {
  return std::string(kSchema) + R"y(decision:
  actions: [decline, review, approve]
  table:
    hit_policy: )y" +
         hit + "\n" + extra +
         R"y(    inputs: [score, tier]
    outputs: [action]
    rows:
      - {id: low_any, when: ["< 500", "-"], then: [review]}
      - {id: low_basic, when: ["< 300", BASIC], then: [decline]}
      - {id: high_gold, when: [">= 700", "GOLD, PLATINUM"], then: [approve]}
      - {id: high_any, when: [">= 700", "-"], then: [review]}
  default: review
)y";
}

TEST(HitPolicy, FirstTakesTheFirstMatchingRowInTableOrder) {
  auto engine = MustCompile(HitTable("first"));
  ASSERT_TRUE(engine);
  auto out = RunRecords(
      *engine, std::string(kHeader) + Record(1, {"score=200", "tier=BASIC"}) +
                   Record(2, {"score=800", "tier=GOLD"}) + Record(3, {"score=800", "tier=BASIC"}) +
                   Record(4, {"score=600", "tier=BASIC"}) + Record(5, {"tier=GOLD"}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["rule"], "low_any");
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[1]["rule"], "high_gold");
  EXPECT_EQ(out[1]["action"], "approve");
  EXPECT_EQ(out[2]["rule"], "high_any");
  EXPECT_EQ(out[3]["rule"], "default");
  EXPECT_EQ(out[4]["rule"], "default");  // a null score matches no comparison
}

TEST(HitPolicy, PriorityTakesTheRowWhoseActionComesFirstInActions) {
  // actions: [decline, review, approve]: decline ranks highest.
  auto engine = MustCompile(HitTable("priority"));
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=200", "tier=BASIC"}) +
                                     Record(2, {"score=800", "tier=GOLD"}) +
                                     Record(3, {"score=400", "tier=GOLD"}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["rule"], "low_basic");  // decline beats review
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[1]["rule"], "high_any");  // review beats approve
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[2]["rule"], "low_any");
}

TEST(HitPolicy, PriorityOnAnEnumOutputRanksByTheEnumsValues) {
  auto engine = MustCompile(std::string(kSchema) + R"y(policies:
  - name: queue
    outputs:
      q: {type: enum, values: [senior, manual, none]}
    table:
      hit_policy: priority
      inputs: [score, country]
      outputs: [q]
      rows:
        - ["-", "-", none]
        - ["< 500", "-", manual]
        - ["-", "'XX'", senior]
decision:
  rules:
    - {id: any, when: "true", action: approve}
  default: approve
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=800", "country=US"}) +
                                     Record(2, {"score=100", "country=US"}) +
                                     Record(3, {"score=100", "country=XX"}) +
                                     Record(4, {"score=900", "country=XX"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["queue.q"], "none");
  EXPECT_EQ(out[1]["queue.q"], "manual");
  EXPECT_EQ(out[1]["queue.rule"], "row_2");
  EXPECT_EQ(out[2]["queue.q"], "senior");
  EXPECT_EQ(out[2]["queue.rule"], "row_3");
  EXPECT_EQ(out[3]["queue.q"], "senior");
}

TEST(HitPolicy, UniqueWithStaticCellsNeverOverlaps) {
  auto engine = MustCompile(std::string(kSchema) + R"y(decision:
  table:
    inputs: [score]
    outputs: [action]
    rows:
      - ["< 500", decline]
      - ["[500..700)", review]
      - [">= 700", approve]
      - ["null", review]
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + Record(1, {"score=499"}) +
                              Record(2, {"score=500"}) + Record(3, {"score=700"}) + Record(4, {}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[2]["action"], "approve");
  EXPECT_EQ(out[3]["action"], "review");
  EXPECT_EQ(out[3]["rule"], "row_4");
}

TEST(HitPolicy, UniqueOverlapThroughExpressionCellsIsARecordError) {
  auto engine = MustCompile(std::string(kSchema) + R"y(decision:
  table:
    hit_policy: unique
    inputs: [ratio]
    outputs: [action]
    rows:
      - {id: above_avg, when: ["> avg"], then: [review]}
      - {id: big, when: [">= 10"], then: [decline]}
  default: approve
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + Record(1, {"ratio=5", "avg=1"}) +
                              Record(2, {"ratio=20", "avg=1"}) + Record(3, {"ratio=20", "avg=30"}) +
                              Record(4, {"ratio=0", "avg=1"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].error, "");
  EXPECT_EQ(out[0]["rule"], "above_avg");
  EXPECT_EQ(out[1].error,
            "the decision: more than one row of the table matches (hit policy unique)");
  EXPECT_EQ(out[1]["action"], "null");
  EXPECT_EQ(out[2]["rule"], "big");
  EXPECT_EQ(out[3]["rule"], "default");
}

TEST(HitPolicy, AnyAcceptsOverlapsThatAgreeAndRejectsConflicts) {
  auto engine = MustCompile(std::string(kSchema) + R"y(decision:
  outputs:
    limit: float64
  table:
    hit_policy: any
    inputs: [score, ratio]
    outputs: [action, limit]
    rows:
      - ["< 500", "-", decline, 0]
      - ["-", "> 0.9", decline, "0.0"]
      - ["-", "> avg", review, 100]
  default: {action: approve, set: {limit: 1000}}
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=100", "ratio=0.95"}) +
                                     Record(2, {"score=800", "ratio=0.5", "avg=0.1"}) +
                                     Record(3, {"score=100", "ratio=0.5", "avg=0.1"}) +
                                     Record(4, {"score=800", "ratio=0.5", "avg=0.9"}));
  ASSERT_EQ(out.size(), 4u);
  // Rows 1 and 2 overlap and agree (0 and 0.0 are the same float64).
  EXPECT_EQ(out[0].error, "");
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[0]["limit"], "0");
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[1]["limit"], "100");
  EXPECT_EQ(out[2].error,
            "the decision: rows of the table that match give different outputs (hit policy any)");
  EXPECT_EQ(out[3]["action"], "approve");
  EXPECT_EQ(out[3]["limit"], "1000");
}

std::string CollectTable(const std::string& aggregate, const std::string& type, bool with_default) {
  return std::string(kSchema) + R"y(policies:
  - name: points
    outputs:
      total: )y" +
         type + R"y(
    table:
      hit_policy: collect
      aggregate: )y" +
         aggregate + R"y(
      inputs: [score, country]
      outputs: [total]
      rows:
        - {id: low, when: ["< 500", "-"], then: [10], reason: LOW}
        - {id: foreign, when: ["-", "!= 'US'"], then: [25], reason: FOREIGN}
        - {id: very_low, when: ["< 300", "-"], then: [5], reason: LOW}
        - {id: unknown, when: ["-", "'ZZ'"], then: ["-"]}
)y" + (with_default ? "    default: {set: {total: 99}}\n" : "") +
         R"y(decision:
  rules:
    - {id: high, when: points.total >= 30, action: review}
  default: approve
reason_codes:
  LOW: Low score
  FOREIGN: Foreign card
)y";
}

TEST(HitPolicy, CollectSumAddsTheMatchingRowsAndGivesZeroWithoutAMatch) {
  auto engine = MustCompile(CollectTable("sum", "int64", false));
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=200", "country=FR"}) +
                                     Record(2, {"score=400", "country=US"}) +
                                     Record(3, {"score=900", "country=US"}) +
                                     Record(4, {"score=900", "country=ZZ"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["points.total"], "40");
  EXPECT_EQ(out[0]["points.reasons"], "LOW,FOREIGN");  // deduplicated, in row order
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[1]["points.total"], "10");
  EXPECT_EQ(out[2]["points.total"], "0");
  EXPECT_EQ(out[2]["points.rule"], "default");
  EXPECT_EQ(out[3]["points.total"], "25");  // the '-' cell of row 'unknown' adds nothing
}

TEST(HitPolicy, CollectSumIntoFloat) {
  auto engine = MustCompile(CollectTable("sum", "float64", false));
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=200", "country=FR"}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["points.total"], "40");
}

TEST(HitPolicy, CollectMinAndMax) {
  for (const auto& [agg, want] :
       std::vector<std::pair<std::string, std::string>>{{"min", "5"}, {"max", "25"}}) {
    auto engine = MustCompile(CollectTable(agg, "int64", true));
    ASSERT_TRUE(engine);
    auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=200", "country=FR"}) +
                                       Record(2, {"score=900", "country=US"}) +
                                       Record(3, {"score=900", "country=ZZ"}));
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0]["points.total"], want) << agg;
    EXPECT_EQ(out[1]["points.total"], "99") << agg << ": no match takes the default";
    EXPECT_EQ(out[1]["points.rule"], "default");
    EXPECT_EQ(out[2]["points.total"], "25") << agg << ": a '-' value is left out";
  }
}

TEST(HitPolicy, CollectCountCountsMatchingRows) {
  std::string yaml = CollectTable("count", "int64", false);
  auto engine = MustCompile(yaml);
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=200", "country=FR"}) +
                                     Record(2, {"score=900", "country=US"}) +
                                     Record(3, {"score=900", "country=ZZ"}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["points.total"], "3");
  EXPECT_EQ(out[1]["points.total"], "0");
  EXPECT_EQ(out[2]["points.total"], "2");
}

TEST(HitPolicy, CollectMinWithoutDefaultAndNoMatchIsARecordError) {
  // Static cells leave an uncovered record, which check reports; with an
  // expression cell that is known only at run time.
  auto engine = MustCompile(std::string(kSchema) + R"y(policies:
  - name: lowest
    outputs:
      v: float64
    table:
      hit_policy: collect
      aggregate: min
      inputs: [ratio]
      outputs: [v]
      rows:
        - ["> avg", 1.5]
        - ["> avg * 2", 0.5]
decision:
  rules:
    - {id: r, when: lowest.v < 1, action: review}
  default: approve
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + Record(1, {"ratio=5", "avg=1"}) +
                              Record(2, {"ratio=1.5", "avg=1"}) + Record(3, {"ratio=0", "avg=1"}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["lowest.v"], "0.5");
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[1]["lowest.v"], "1.5");
  EXPECT_EQ(out[2].error, "policy 'lowest': no row of the table matches, and it has no default");
}

TEST(HitPolicy, CollectSumOverflowIsARecordError) {
  auto engine = MustCompile(std::string(kSchema) + R"y(policies:
  - name: big
    outputs:
      v: int64
    table:
      hit_policy: collect
      aggregate: sum
      inputs: [score]
      outputs: [v]
      rows:
        - ["-", 9223372036854775807]
        - ["> 0", 1]
decision:
  rules:
    - {id: r, when: big.v > 0, action: review}
  default: approve
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + Record(1, {"score=0"}) + Record(2, {"score=1"}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].error, "");
  EXPECT_EQ(out[0]["big.v"], "9223372036854775807");
  EXPECT_EQ(out[1].error, "policy 'big': integer overflow in the sum of 'v' (hit policy collect)");
}

// ---------------------------------------------------------------------------
// No match.

TEST(NoMatch, ATableWithoutDefaultAndExpressionCellsGivesARecordError) {
  auto engine = MustCompile(std::string(kSchema) + R"y(decision:
  table:
    inputs: [ratio]
    outputs: [action]
    rows:
      - ["> avg", review]
      - ["<= avg", approve]
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"ratio=2", "avg=1"}) +
                                     Record(2, {"ratio=1", "avg=1"}) + Record(3, {"ratio=1"}) +
                                     Record(4, {"avg=1"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["action"], "review");
  EXPECT_EQ(out[1]["action"], "approve");
  const std::string msg = "the decision: no row of the table matches, and it has no default";
  EXPECT_EQ(out[2].error, msg);  // null avg: neither comparison is true
  EXPECT_EQ(out[3].error, msg);  // null input
}

TEST(NoMatch, ANullInputOfAStaticTableWithoutDefaultIsARecordError) {
  // Coverage is checked for non-null inputs only.
  auto engine = MustCompile(std::string(kSchema) + R"y(decision:
  table:
    inputs: [score]
    outputs: [action]
    rows:
      - ["< 500", decline]
      - [">= 500", approve]
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"score=1"}) + Record(2, {}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[1].error, "the decision: no row of the table matches, and it has no default");
}

// ---------------------------------------------------------------------------
// Mapping rows: ids, reasons; rows without an action in a policy that only
// fills outputs.

TEST(Rows, MappingRowsGiveTheirIdAndReasons) {
  auto engine = MustCompile(std::string(kSchema) + R"y(policies:
  - name: band
    outputs:
      band: {type: enum, values: [A, B, C, D]}
    table:
      hit_policy: first
      inputs: [score, ratio]
      outputs: [band]
      rows:
        - [">= 720",      "< 0.35", A]
        - ["[650..720)",  "< 0.35", B]
        - ["[650..720)",  ">= 0.35", C]
        - {id: thin_file, when: ["null", "-"], then: [D], reason: THIN_FILE}
    default: {set: {band: D}}
decision:
  rules:
    - {id: d, when: band.band = 'D', action: review}
  default: approve
reason_codes:
  THIN_FILE: Thin credit file
)y");
  ASSERT_TRUE(engine);
  auto out = RunRecords(
      *engine, std::string(kHeader) + Record(1, {"score=750", "ratio=0.2"}) +
                   Record(2, {"score=700", "ratio=0.2"}) + Record(3, {"score=700", "ratio=0.35"}) +
                   Record(4, {"ratio=0.2"}) + Record(5, {"score=500", "ratio=0.2"}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["band.band"], "A");
  EXPECT_EQ(out[0]["band.rule"], "row_1");
  EXPECT_EQ(out[1]["band.band"], "B");
  EXPECT_EQ(out[2]["band.band"], "C");
  EXPECT_EQ(out[3]["band.band"], "D");
  EXPECT_EQ(out[3]["band.rule"], "thin_file");
  EXPECT_EQ(out[3]["band.reasons"], "THIN_FILE");
  EXPECT_EQ(out[3]["band.texts"], "Thin credit file");
  EXPECT_EQ(out[3]["action"], "review");
  EXPECT_EQ(out[4]["band.band"], "D");
  EXPECT_EQ(out[4]["band.rule"], "default");
  EXPECT_EQ(out[0]["action"], "approve");
}

// ---------------------------------------------------------------------------
// More than 64 rows: the bitsets span several words. Random tables and
// records, checked against a direct evaluation of the cells.

struct RandomCell {
  enum Kind { kAny, kNull, kNotNull, kLess, kLessEq, kGreater, kGreaterEq, kEq, kNe, kIn, kRange };
  Kind kind = kAny;
  bool negate = false;  // not(...)
  double a = 0, b = 0;
  bool a_in = true, b_in = true;
  std::vector<double> list;        // numbers
  std::vector<std::string> names;  // enum values or strings
};

struct RandomValue {
  bool null = false;
  double number = 0;
  std::string name;
};

bool Inner(const RandomCell& c, const RandomValue& v, bool is_number) {
  switch (c.kind) {
    case RandomCell::kAny:
      return true;
    case RandomCell::kNull:
      return v.null;
    case RandomCell::kNotNull:
      return !v.null;
    case RandomCell::kLess:
      return v.number < c.a;
    case RandomCell::kLessEq:
      return v.number <= c.a;
    case RandomCell::kGreater:
      return v.number > c.a;
    case RandomCell::kGreaterEq:
      return v.number >= c.a;
    case RandomCell::kEq:
    case RandomCell::kIn:
      if (is_number) return std::find(c.list.begin(), c.list.end(), v.number) != c.list.end();
      return std::find(c.names.begin(), c.names.end(), v.name) != c.names.end();
    case RandomCell::kNe:
      if (is_number) return v.number != c.list[0];
      return v.name != c.names[0];
    case RandomCell::kRange:
      return (c.a_in ? v.number >= c.a : v.number > c.a) &&
             (c.b_in ? v.number <= c.b : v.number < c.b);
  }
  return false;
}

bool CellMatches(const RandomCell& c, const RandomValue& v, bool is_number) {
  if (c.kind == RandomCell::kAny) return true;
  if (c.kind == RandomCell::kNull || c.kind == RandomCell::kNotNull) {
    return Inner(c, v, is_number) != c.negate;
  }
  if (v.null) return false;
  return Inner(c, v, is_number) != c.negate;
}

std::string Num(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

std::string CellText(const RandomCell& c, bool is_number, bool is_enum) {
  auto lit = [&](size_t i) {
    return is_number ? Num(c.list[i]) : is_enum ? c.names[i] : "'" + c.names[i] + "'";
  };
  std::string s;
  switch (c.kind) {
    case RandomCell::kAny:
      return "-";
    case RandomCell::kNull:
      s = "null";
      break;
    case RandomCell::kNotNull:
      s = "not null";
      break;
    case RandomCell::kLess:
      s = "< " + Num(c.a);
      break;
    case RandomCell::kLessEq:
      s = "<= " + Num(c.a);
      break;
    case RandomCell::kGreater:
      s = "> " + Num(c.a);
      break;
    case RandomCell::kGreaterEq:
      s = ">= " + Num(c.a);
      break;
    case RandomCell::kEq:
      s = "= " + lit(0);
      break;
    case RandomCell::kNe:
      s = "!= " + lit(0);
      break;
    case RandomCell::kIn:
      for (size_t i = 0; i < (is_number ? c.list.size() : c.names.size()); ++i) {
        s += (i ? ", " : "") + lit(i);
      }
      break;
    case RandomCell::kRange:
      s = std::string(c.a_in ? "[" : "(") + Num(c.a) + ".." + Num(c.b) + (c.b_in ? "]" : ")");
      break;
  }
  return c.negate ? "not(" + s + ")" : s;
}

class RandomTable : public ::testing::TestWithParam<int> {};

TEST_P(RandomTable, MatchesABruteForceEvaluation) {
  std::mt19937_64 rng(static_cast<uint64_t>(GetParam()));
  const size_t num_rows = 65 + rng() % 150;
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  // Cells on the int64 input also use fractions and numbers beyond int64.
  // Odd seeds use few literals per input, even seeds many (the lookup
  // counts up to 16 points and searches more).
  const bool many = GetParam() % 2 == 0;
  std::vector<double> score_points = {100, 300, 500, 650, 650.5, 700, 720, 900, -0.5, 1e19, -1e19};
  std::vector<double> score_values = {100, 300, 500, 650, 651, 700, 720, 900, 0, -1};
  std::vector<double> ratio_points = {0.1, 0.2, 0.3, 0.35, 0.5, 0.7, 1.5};
  if (many) {
    for (double x : {150, 250, 350, 450, 550, 600, 680, 750, 800, 850}) {
      score_points.push_back(x);
      score_values.push_back(x);
    }
    for (double x : {0.05, 0.15, 0.25, 0.33, 0.4, 0.45, 0.6, 0.8, 0.9, 1.0, 1.2, 2.0}) {
      ratio_points.push_back(x);
    }
  }
  const std::vector<std::string> tiers = {"BASIC", "GOLD", "PLATINUM"};
  const std::vector<std::string> countries = {"US", "CA", "MX", "FR"};
  // Inputs: score (int64), ratio (float64), tier (enum), country (string).
  auto random_cell = [&](int input) {
    RandomCell c;
    const bool number = input < 2;
    const auto& points = input == 0 ? score_points : ratio_points;
    const auto& names = input == 2 ? tiers : countries;
    const size_t k = pick(number ? 13 : 6);
    if (k < 3) return c;  // '-' often, so that rows overlap
    if (number) {
      c.kind = static_cast<RandomCell::Kind>(k - 2);
      c.a = points[pick(points.size())];
      c.b = points[pick(points.size())];
      if (c.a > c.b) std::swap(c.a, c.b);
      c.a_in = rng() % 2;
      c.b_in = rng() % 2;
      for (size_t i = 0, n = 1 + pick(3); i < n; ++i) c.list.push_back(points[pick(points.size())]);
      if (c.kind == RandomCell::kEq || c.kind == RandomCell::kNe) c.list.resize(1);
    } else {
      const RandomCell::Kind kinds[] = {RandomCell::kNull, RandomCell::kEq, RandomCell::kNe,
                                        RandomCell::kIn};
      c.kind = kinds[k - 3 < 4 ? k - 3 : 3];
      for (size_t i = 0, n = 1 + pick(2); i < n; ++i) c.names.push_back(names[pick(names.size())]);
      if (c.kind != RandomCell::kIn) c.names.resize(1);
    }
    c.negate = c.kind != RandomCell::kNe && pick(6) == 0;
    return c;
  };
  std::vector<std::array<RandomCell, 4>> rows(num_rows);
  std::vector<int64_t> weights(num_rows);
  std::string table_rows;
  for (size_t r = 0; r < num_rows; ++r) {
    table_rows += "        - [";
    for (int i = 0; i < 4; ++i) {
      rows[r][static_cast<size_t>(i)] = random_cell(i);
      table_rows += Q(CellText(rows[r][static_cast<size_t>(i)], i < 2, i == 2)) + ", ";
    }
    weights[r] = static_cast<int64_t>(1 + rng() % 1000000);
    table_rows += std::to_string(r + 1) + "]\n";
  }
  auto policy = [&](const std::string& name, const std::string& hit, bool weighted) {
    std::string rows_text = table_rows;
    if (weighted) {
      rows_text.clear();
      std::istringstream lines(table_rows);
      std::string line;
      size_t r = 0;
      while (std::getline(lines, line)) {
        line = line.substr(0, line.rfind(", ") + 2) + std::to_string(weights[r++]) + "]";
        rows_text += line + "\n";
      }
    }
    return "  - name: " + name + "\n    outputs:\n      n: int64\n    table:\n" +
           "      hit_policy: " + hit + "\n      inputs: [score, ratio, tier, country]\n" +
           "      outputs: [n]\n      rows:\n" + rows_text + "    default: {set: {n: 0}}\n";
  };
  const std::string yaml =
      std::string(kSchema) + "policies:\n" + policy("first_row", "first", false) +
      policy("matches", "collect\n      aggregate: count", false) +
      policy("weight", "collect\n      aggregate: sum", true) +
      "decision:\n  rules:\n    - {id: r, when: first_row.n > 0, action: hit}\n  default: miss\n";
  auto engine = MustCompile(yaml);
  ASSERT_TRUE(engine);

  std::vector<std::array<RandomValue, 4>> records(500);
  std::string csv = kHeader;
  for (size_t k = 0; k < records.size(); ++k) {
    auto& v = records[k];
    std::vector<std::string> assign;
    for (int i = 0; i < 4; ++i) {
      auto& x = v[static_cast<size_t>(i)];
      x.null = pick(10) == 0;
      if (x.null) continue;
      if (i < 2) {
        const auto& points = i == 0 ? score_values : ratio_points;
        // Often a literal of the table (boundaries), else somewhere between.
        x.number = pick(2) ? points[pick(points.size())]
                           : (i == 0 ? static_cast<double>(pick(1000))
                                     : static_cast<double>(pick(200)) / 100.0);
        assign.push_back(std::string(i == 0 ? "score=" : "ratio=") + Num(x.number));
      } else {
        const auto& names = i == 2 ? tiers : countries;
        x.name = pick(5) == 0 && i == 3 ? "DE" : names[pick(names.size())];
        assign.push_back(std::string(i == 2 ? "tier=" : "country=") + x.name);
      }
    }
    csv += Record(static_cast<int>(k + 1), assign);
  }
  auto out = RunRecords(*engine, csv);
  ASSERT_EQ(out.size(), records.size());
  for (size_t k = 0; k < records.size(); ++k) {
    int64_t first = 0, count = 0, sum = 0;
    for (size_t r = 0; r < num_rows; ++r) {
      bool all = true;
      for (size_t i = 0; i < 4 && all; ++i) all = CellMatches(rows[r][i], records[k][i], i < 2);
      if (!all) continue;
      if (first == 0) first = static_cast<int64_t>(r + 1);
      ++count;
      sum += weights[r];
    }
    // On a mismatch, the record and the rows that match it by the reference.
    auto explain = [&] {
      std::string text = "record " + std::to_string(k + 1) + ":";
      for (const auto& v : records[k]) {
        text += " " + (v.null ? "null" : v.name.empty() ? Num(v.number) : v.name);
      }
      for (size_t r = 0; r < num_rows; ++r) {
        bool all = true;
        for (size_t i = 0; i < 4 && all; ++i) all = CellMatches(rows[r][i], records[k][i], i < 2);
        if (!all) continue;
        text += "\n  row " + std::to_string(r + 1) + ":";
        for (size_t i = 0; i < 4; ++i) text += " [" + CellText(rows[r][i], i < 2, i == 2) + "]";
      }
      return text;
    };
    ASSERT_EQ(out[k]["first_row.n"], std::to_string(first)) << explain();
    ASSERT_EQ(out[k]["first_row.rule"], first ? "row_" + std::to_string(first) : "default");
    ASSERT_EQ(out[k]["matches.n"], std::to_string(count)) << explain();
    ASSERT_EQ(out[k]["weight.n"], std::to_string(count ? sum : 0)) << explain();
    ASSERT_EQ(out[k]["action"], first ? "hit" : "miss");
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomTable, ::testing::Range(1, 9));

// Expression cells in rows past the first 64: row r tests ratio >= avg + (130 - r).
TEST(ManyRows, ExpressionCellsPastTheFirstWord) {
  std::string rows;
  for (int r = 1; r <= 130; ++r) {
    rows += "        - [\">= avg + " + std::to_string(130 - r) + "\", " + std::to_string(r) + "]\n";
  }
  auto engine = MustCompile(std::string(kSchema) + "policies:\n  - name: t\n    outputs:\n" +
                            "      n: int64\n    table:\n      hit_policy: first\n" +
                            "      inputs: [ratio]\n      outputs: [n]\n      rows:\n" + rows +
                            "    default: {set: {n: 0}}\n  - name: c\n    outputs:\n" +
                            "      n: int64\n    table:\n      hit_policy: collect\n" +
                            "      aggregate: count\n      inputs: [ratio]\n      outputs: [n]\n" +
                            "      rows:\n" + rows +
                            "decision:\n  rules:\n    - {id: r, when: t.n > 100, action: high}\n" +
                            "  default: low\n");
  ASSERT_TRUE(engine);
  // ratio - avg = x: the first row with 130 - r <= x is r = 130 - floor(x);
  // the rows from there to 130 all match.
  auto out = RunRecords(*engine, std::string(kHeader) + Record(1, {"ratio=1000", "avg=0"}) +
                                     Record(2, {"ratio=65.5", "avg=0"}) +
                                     Record(3, {"ratio=10", "avg=9"}) +
                                     Record(4, {"ratio=10", "avg=10.5"}) + Record(5, {"ratio=10"}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["t.n"], "1");
  EXPECT_EQ(out[0]["c.n"], "130");
  EXPECT_EQ(out[1]["t.n"], "65");
  EXPECT_EQ(out[1]["t.rule"], "row_65");
  EXPECT_EQ(out[1]["c.n"], "66");
  EXPECT_EQ(out[2]["t.n"], "129");
  EXPECT_EQ(out[2]["c.n"], "2");
  EXPECT_EQ(out[2]["action"], "high");
  EXPECT_EQ(out[3]["t.n"], "0");
  EXPECT_EQ(out[3]["t.rule"], "default");
  EXPECT_EQ(out[3]["c.n"], "0");
  EXPECT_EQ(out[4]["t.n"], "0");  // a null avg: no expression cell is true
}

// The audit trail's view of a record: the rows evaluated and those matched.
TEST(Trace, ListsTheRowsThatMatch) {
  auto engine = MustCompile(HitTable("first"));
  ASSERT_TRUE(engine);
  const decide::Policy* p = engine->decision()->champion();
  ASSERT_NE(p, nullptr);
  Batch batch(engine->layout(), 4);
  const size_t r = batch.AppendRow();
  for (const auto& f : engine->source_fields()) batch.column(f.column).valid()[r] = 0;
  const int score = engine->source_fields()[1].column;
  const int tier = engine->source_fields()[4].column;
  batch.column(score).valid()[r] = 1;
  batch.column(score).data<int64_t>()[r] = 200;
  batch.column(tier).valid()[r] = 1;
  batch.column(tier).data<int32_t>()[r] = 0;  // BASIC
  batch.column(engine->source_fields()[0].column).valid()[r] = 1;
  engine->Process(batch, nullptr);
  std::vector<std::string_view> evaluated, matched;
  p->Trace(batch, r, &evaluated, &matched);
  EXPECT_EQ(evaluated,
            (std::vector<std::string_view>{"low_any", "low_basic", "high_gold", "high_any"}));
  EXPECT_EQ(matched, (std::vector<std::string_view>{"low_any", "low_basic"}));
}

// ---------------------------------------------------------------------------
// A table's result chains into later policies and into the decision.

TEST(Chaining, ATablesOutputIsUsedByTheRulesOfTheDecision) {
  auto engine = MustCompile(std::string(kSchema) + R"y(policies:
  - name: risk
    outputs:
      band: {type: enum, values: [low, mid, high]}
      cap: int64
    table:
      hit_policy: first
      inputs: [score]
      outputs: [band, cap]
      rows:
        - [">= 700", low, 5000]
        - [">= 500", mid, 1000]
    default: {set: {band: high, cap: 0}}
decision:
  outputs:
    limit: float64
  rules:
    - {id: high_risk, when: risk.band = 'high', action: decline, set: {limit: 0}}
    - {id: mid_risk, when: risk.band = 'mid' and risk.cap < ratio, action: review}
  default: {action: approve, set: {limit: risk.cap}}
)y");
  ASSERT_TRUE(engine);
  auto out =
      RunRecords(*engine, std::string(kHeader) + Record(1, {"score=800", "ratio=1"}) +
                              Record(2, {"score=600", "ratio=5000"}) +
                              Record(3, {"score=600", "ratio=1"}) + Record(4, {"score=100"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["action"], "approve");
  EXPECT_EQ(out[0]["limit"], "5000");  // int64 widened into the float64 output
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[1]["rule"], "mid_risk");
  EXPECT_EQ(out[1]["limit"], "1000");  // a rule without set takes the default's value
  EXPECT_EQ(out[2]["action"], "approve");
  EXPECT_EQ(out[3]["action"], "decline");
  EXPECT_EQ(out[3]["limit"], "0");
}

// A cell that is not a test of the input is reported, located.
TEST(CellErrors, ReportedAtTheCell) {
  EXPECT_EQ(CompileErrors(std::string(kSchema) + R"y(decision:
  table:
    inputs: [tier]
    outputs: [action]
    rows:
      - [GOLDD, review]
  default: approve
)y"),
            "p.yaml:18:10: error: 'GOLDD' is not a value of input 'tier' (enum(BASIC, GOLD, "
            "PLATINUM)) in row 1; did you mean 'GOLD'?\n");
  EXPECT_EQ(CompileErrors(std::string(kSchema) + R"y(decision:
  table:
    inputs: [country]
    outputs: [action]
    rows:
      - [US, review]
  default: approve
)y"),
            "p.yaml:18:10: error: unknown name 'US' in row 1; to compare input 'country' with the "
            "text, quote it: 'US'\n");
}

}  // namespace
}  // namespace sluice
