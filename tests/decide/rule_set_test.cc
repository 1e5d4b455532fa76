// Decision rules through a compiled engine: first match wins, null
// conditions do not match, the default decides otherwise, and the reasons
// of the deciding rule are attached in order.

#include <gtest/gtest.h>

#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice {
namespace {

std::shared_ptr<const runtime::Engine> Build(const std::string& yaml,
                                             std::vector<Diagnostic>* diags) {
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", diags);
  if (!spec.ok()) return nullptr;
  return runtime::Engine::Compile(std::move(spec).value(), diags);
}

const char* kPipeline = R"(pipeline: rules
source:
  schema:
    x: {type: int64, nullable: true}
    tag: {type: string}
decision:
  rules:
    - {id: big, when: x > 100, action: decline, reasons: [BIG, VERY]}
    - {id: medium, when: x > 10, action: review, reason: MEDIUM}
    - {id: tagged, when: tag = 'vip', action: approve, reason: VIP}
  default: {action: approve, reason: FINE}
reason_codes:
  BIG: big amount
  VERY: really
  MEDIUM: medium amount
  VIP: known customer
  FINE: nothing found
)";

struct Row {
  std::optional<int64_t> x;
  std::string tag;
  std::string action, rule;
  std::vector<std::string> codes;
};

TEST(RuleSet, FirstMatchWinsAndNullDoesNotMatch) {
  std::vector<Diagnostic> diags;
  auto engine = Build(kPipeline, &diags);
  ASSERT_TRUE(engine) << FormatDiagnostics(diags);
  const std::vector<Row> rows = {
      {500, "vip", "decline", "big", {"BIG", "VERY"}},
      {50, "vip", "review", "medium", {"MEDIUM"}},
      {5, "vip", "approve", "tagged", {"VIP"}},
      {std::nullopt, "vip", "approve", "tagged", {"VIP"}},
      {std::nullopt, "other", "approve", "default", {"FINE"}},
      {101, "", "decline", "big", {"BIG", "VERY"}},
      {100, "", "review", "medium", {"MEDIUM"}},
  };
  // The same rows in batches of 1, 3 and all: identical decisions.
  for (size_t capacity : {size_t{1}, size_t{3}, rows.size()}) {
    Batch batch(engine->layout(), capacity);
    const int x_col = engine->source_fields()[0].column;
    const int tag_col = engine->source_fields()[1].column;
    for (size_t start = 0; start < rows.size(); start += capacity) {
      batch.Clear();
      for (size_t i = start; i < std::min(rows.size(), start + capacity); ++i) {
        size_t r = batch.AppendRow();
        batch.column(x_col).valid()[r] = rows[i].x.has_value();
        batch.column(x_col).data<int64_t>()[r] = rows[i].x.value_or(0);
        batch.column(tag_col).valid()[r] = 1;
        batch.column(tag_col).data<std::string_view>()[r] = batch.arena().Copy(rows[i].tag);
      }
      engine->Process(batch, nullptr);
      const auto* rules = engine->decision();
      for (size_t r = 0; r < batch.size(); ++r) {
        const Row& want = rows[start + r];
        const int32_t a = batch.column(rules->action_column()).data<int32_t>()[r];
        const int32_t id = batch.column(rules->rule_column()).data<int32_t>()[r];
        EXPECT_EQ(rules->action_type().domain->Name(a), want.action) << "row " << start + r;
        EXPECT_EQ(rules->rule_type().domain->Name(id), want.rule) << "row " << start + r;
        std::vector<std::string> codes;
        for (uint32_t k = 0; k < batch.reason_count()[r]; ++k) {
          codes.emplace_back(batch.reasons()[batch.reason_begin()[r] + k].code);
        }
        EXPECT_EQ(codes, want.codes) << "row " << start + r;
        EXPECT_EQ(batch.row_error(r), 0u);
      }
    }
  }
}

TEST(RuleSet, ReasonTextsComeFromTheTable) {
  std::vector<Diagnostic> diags;
  auto engine = Build(kPipeline, &diags);
  ASSERT_TRUE(engine);
  Batch batch(engine->layout(), 4);
  size_t r = batch.AppendRow();
  batch.column(0).valid()[r] = 1;
  batch.column(0).data<int64_t>()[r] = 1000;
  batch.column(1).valid()[r] = 1;
  engine->Process(batch, nullptr);
  ASSERT_EQ(batch.reason_count()[0], 2u);
  EXPECT_EQ(batch.reasons()[0].text, "big amount");
  EXPECT_EQ(batch.reasons()[1].text, "really");
}

TEST(RuleSet, ActionsFollowDeclarationOrder) {
  std::vector<Diagnostic> diags;
  std::string yaml = kPipeline;
  yaml.replace(yaml.find("decision:\n"), 10, "decision:\n  actions: [approve, review, decline]\n");
  auto engine = Build(yaml, &diags);
  ASSERT_TRUE(engine) << FormatDiagnostics(diags);
  EXPECT_EQ(TypeName(engine->decision()->action_type()), "enum(approve, review, decline)");
  EXPECT_EQ(TypeName(engine->decision()->rule_type()), "enum(big, medium, tagged, default)");
}

}  // namespace
}  // namespace sluice
