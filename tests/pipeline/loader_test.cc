#include <gtest/gtest.h>

#include "pipeline/internal/yaml_locator.h"
#include "pipeline/spec.h"

namespace sluice::pipeline {
namespace {

PipelineSpec Load(const std::string& text, std::vector<Diagnostic>* diags) {
  auto r = LoadPipelineText(text, "p.yaml", diags);
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(r).value() : PipelineSpec{};
}

TEST(LoadPipeline, ReadsEveryPart) {
  std::vector<Diagnostic> diags;
  PipelineSpec p = Load(R"(pipeline: demo
version: 2
source:
  format: jsonl
  null_values: ["", NA]
  schema:
    id: {type: string, id: true}
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    amount: {type: float64, nullable: true}
    channel: {type: enum, values: [pos, ecom]}
features:
  big: amount > 10
  doubled: {expr: amount * 2, description: twice}
decision:
  actions: [ok, no]
  rules:
    - {id: r1, when: big, action: no, reasons: [BIG, ODD]}
  default: {action: ok, reason: FINE}
reason_codes:
  BIG: Big
  ODD: Odd
  FINE: Fine
output:
  fields: [id, big]
  decision: false
)",
                        &diags);
  ASSERT_TRUE(diags.empty()) << FormatDiagnostics(diags);
  EXPECT_EQ(p.name, "demo");
  EXPECT_EQ(p.version, "2");
  EXPECT_EQ(p.input_format, "jsonl");
  EXPECT_EQ(p.null_values, (std::vector<std::string>{"", "NA"}));
  ASSERT_EQ(p.fields.size(), 4u);
  EXPECT_TRUE(p.fields[0].is_id);
  EXPECT_TRUE(p.fields[1].is_event_time);
  EXPECT_EQ(p.fields[1].timestamp_format, TimestampFormat::kEpochMillis);
  EXPECT_TRUE(p.fields[2].nullable);
  EXPECT_EQ(TypeName(p.fields[3].type), "enum(pos, ecom)");
  ASSERT_EQ(p.features.size(), 2u);
  EXPECT_EQ(p.features[1].expression.text, "amount * 2");
  EXPECT_EQ(p.features[1].description, "twice");
  ASSERT_TRUE(p.decision.has_value());
  ASSERT_EQ(p.decision->rules.size(), 1u);
  EXPECT_EQ(p.decision->rules[0].reasons.codes.size(), 2u);
  EXPECT_EQ(p.decision->default_value->action->name, "ok");
  EXPECT_EQ(p.decision->default_value->reasons.codes[0].name, "FINE");
  EXPECT_EQ(p.reason_codes.size(), 3u);
  EXPECT_EQ(p.output_fields.size(), 2u);
  EXPECT_FALSE(p.output_decision);
  EXPECT_EQ(p.content_hash.size(), 16u);
}

TEST(LoadPipeline, HashChangesWithContent) {
  std::vector<Diagnostic> d1, d2;
  auto a = Load("pipeline: a\nsource: {schema: {x: int64}}\n", &d1);
  auto b = Load("pipeline: a\nsource: {schema: {x: float64}}\n", &d2);
  EXPECT_NE(a.content_hash, b.content_hash);
}

// Locating characters of expressions: plain, quoted, block and folded scalars.
struct LocatorCase {
  std::string yaml;
  std::string feature;
  size_t offset;  // into the expression text
  int line, column;
};

TEST(ScalarLocator, MapsExpressionOffsetsToFilePositions) {
  const LocatorCase cases[] = {
      {"pipeline: p\nsource: {schema: {x: int64}}\nfeatures:\n  f: x + y\n", "f", 4, 4, 10},
      {"pipeline: p\nsource: {schema: {x: int64}}\nfeatures:\n  f: \"x + 'y'\"\n", "f", 4, 4, 11},
      {"pipeline: p\nsource: {schema: {x: int64}}\nfeatures:\n  f: |\n    x +\n    yy\n", "f", 4, 6,
       5},
      {"pipeline: p\nsource: {schema: {x: int64}}\nfeatures:\n  f: >\n    x +\n    yy\n", "f", 4, 6,
       5},
      {"pipeline: p\nsource: {schema: {x: int64}}\nfeatures:\n  f: {expr: x * zz}\n", "f", 4, 4,
       17},
  };
  for (const auto& c : cases) {
    std::vector<Diagnostic> diags;
    PipelineSpec p = Load(c.yaml, &diags);
    ASSERT_EQ(p.features.size(), 1u) << c.yaml;
    SourceLocation at = p.features[0].expression.locator->Locate(c.offset);
    EXPECT_EQ(at.line, c.line) << c.yaml;
    EXPECT_EQ(at.column, c.column) << c.yaml;
    EXPECT_EQ(at.file, "p.yaml");
  }
}

TEST(LoadPipeline, RejectsNotYaml) {
  std::vector<Diagnostic> diags;
  auto r = LoadPipelineText("pipeline: [a\n", "p.yaml", &diags);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].where.line, 2);
}

TEST(LoadPipeline, RejectsDeepNestingWithoutRecursing) {
  std::vector<Diagnostic> diags;
  std::string text = "pipeline: p\nsource: " + std::string(100000, '[') + std::string(100000, ']');
  auto r = LoadPipelineText(text, "p.yaml", &diags);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "lists and mappings are nested more than 64 levels deep");
}

}  // namespace
}  // namespace sluice::pipeline
