// `sluice check` on every pipeline in this folder: NAME.yaml is checked and
// the exit code and everything printed must equal NAME.expected.

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(SLUICE_SOURCE_DIR) / "tests" / "check";

std::vector<std::string> Cases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class CheckCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckCorpus, PrintsExactDiagnostics) {
  const std::string name = GetParam();
  auto r =
      testing::RunShell("'" + testing::SluiceBinary() + "' check " + name + ".yaml", kDir.string());
  std::string actual = "exit: " + std::to_string(r.exit_code) + "\n" + r.output;
  fs::path expected_path = kDir / (name + ".expected");
  if (testing::UpdateGolden()) testing::WriteFile(expected_path, actual);
  ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path;
  EXPECT_EQ(actual, testing::ReadFile(expected_path));
  // Broken pipelines exit 1, valid ones 0.
  EXPECT_EQ(r.exit_code, name.rfind("valid_", 0) == 0 ? 0 : 1) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Pipelines, CheckCorpus, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(CheckCorpus, HasAtLeastThirtyBrokenPipelines) {
  size_t broken = 0;
  for (const auto& n : Cases()) broken += n.rfind("valid_", 0) != 0;
  EXPECT_GE(broken, 30u);
}

TEST(CheckCommand, MissingFileIsAnError) {
  auto r =
      testing::RunShell("'" + testing::SluiceBinary() + "' check no_such_file.yaml", kDir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output,
            "no_such_file.yaml: error: cannot open the pipeline file\n"
            "1 error in no_such_file.yaml\n");
}

}  // namespace
}  // namespace sluice
