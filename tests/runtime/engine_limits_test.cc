// Hostile pipelines: expressions nested or chained far beyond any real use
// get a clear error instead of exhausting the stack.

#include <gtest/gtest.h>

#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice::runtime {
namespace {

std::string Compile(const std::string& expression) {
  const std::string yaml =
      "pipeline: x\nsource:\n  schema:\n    a: int64\nfeatures:\n  f: " + expression + "\n";
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", &diags);
  if (spec.ok()) Engine::Compile(std::move(spec).value(), &diags);
  return FormatDiagnostics(diags);
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(EngineLimits, DeepNestingIsAnErrorNotACrash) {
  const std::string kTooDeep = "error: expression is nested too deeply (more than 256 levels)\n";
  EXPECT_EQ(Compile(Repeat("(", 100000) + "a" + Repeat(")", 100000)), "p.yaml:6:262: " + kTooDeep);
  EXPECT_EQ(Compile(Repeat("-", 100000) + "a"), "p.yaml:6:261: " + kTooDeep);
  EXPECT_EQ(Compile(Repeat("not ", 100000) + "true"), "p.yaml:6:1026: " + kTooDeep);
  EXPECT_EQ(Compile(Repeat("abs(", 100000) + "a" + Repeat(")", 100000)),
            "p.yaml:6:1030: " + kTooDeep);
  std::string chain = "a";
  for (int i = 0; i < 200000; ++i) chain += " + a";
  EXPECT_EQ(Compile(chain), "p.yaml:6:1028: " + kTooDeep);
  std::string in_chain = "a";
  for (int i = 0; i < 1000; ++i) in_chain = "(" + in_chain + " in (1)) is null";
  EXPECT_NE(Compile(in_chain).find(kTooDeep), std::string::npos);
}

TEST(EngineLimits, ReasonableNestingCompiles) {
  EXPECT_EQ(Compile(Repeat("(", 200) + "a" + Repeat(")", 200)), "");
  std::string chain = "a";
  for (int i = 0; i < 200; ++i) chain += " + a";
  EXPECT_EQ(Compile(chain), "");
  EXPECT_EQ(Compile(Repeat("abs(", 200) + "a" + Repeat(")", 200)), "");
}

}  // namespace
}  // namespace sluice::runtime
