// End-to-end golden cases: each folder here holds
//   pipeline.yaml
//   input.csv or input.jsonl
//   expected.csv or expected.jsonl   (the output; its extension picks the format)
//   expected.rejects.jsonl           (dead letters; absent when none expected)
//   args                             (optional extra command-line arguments)
// `sluice run` must reproduce the expected files byte for byte, and its
// summary must account for every record.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(SLUICE_SOURCE_DIR) / "tests" / "golden";

std::vector<std::string> Cases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.is_directory() && fs::exists(e.path() / "pipeline.yaml")) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

fs::path FindOne(const fs::path& dir, const std::string& stem) {
  for (const char* ext : {".csv", ".jsonl"}) {
    if (fs::exists(dir / (stem + ext))) return dir / (stem + ext);
  }
  return {};
}

uint64_t JsonNumber(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\":([0-9]+)");
  if (!std::regex_search(json, m, re)) return UINT64_MAX;
  return std::stoull(m[1]);
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReproducesExpectedOutput) {
  const fs::path dir = kDir / GetParam();
  const fs::path input = FindOne(dir, "input");
  const fs::path expected = FindOne(dir, "expected");
  ASSERT_FALSE(input.empty()) << "no input.csv or input.jsonl in " << dir;
  ASSERT_FALSE(expected.empty()) << "no expected.csv or expected.jsonl in " << dir;

  const fs::path out_dir = fs::path(SLUICE_BINARY_DIR) / "golden_out" / GetParam();
  fs::remove_all(out_dir);
  fs::create_directories(out_dir);
  const fs::path output = out_dir / ("output" + expected.extension().string());
  const fs::path rejects = out_dir / "rejects.jsonl";
  const fs::path summary = out_dir / "summary.json";
  std::string args;
  if (fs::exists(dir / "args")) {
    args = testing::ReadFile(dir / "args");
    while (!args.empty() && (args.back() == '\n' || args.back() == ' ')) args.pop_back();
  }
  auto r = testing::RunShell("'" + testing::SluiceBinary() + "' run pipeline.yaml --input " +
                                 input.filename().string() + " --output '" + output.string() +
                                 "' --dead-letter '" + rejects.string() + "' --summary '" +
                                 summary.string() + "' --quiet " + args,
                             dir.string());
  const int expected_exit =
      fs::exists(dir / "expected_exit") ? std::stoi(testing::ReadFile(dir / "expected_exit")) : 0;
  EXPECT_EQ(r.exit_code, expected_exit) << r.output;

  const std::string actual_out = testing::ReadFile(output);
  const std::string actual_rejects = fs::exists(rejects) ? testing::ReadFile(rejects) : "";
  const fs::path expected_rejects = dir / "expected.rejects.jsonl";
  if (testing::UpdateGolden()) {
    testing::WriteFile(expected, actual_out);
    if (actual_rejects.empty())
      fs::remove(expected_rejects);
    else
      testing::WriteFile(expected_rejects, actual_rejects);
  }
  EXPECT_EQ(actual_out, testing::ReadFile(expected));
  EXPECT_EQ(actual_rejects,
            fs::exists(expected_rejects) ? testing::ReadFile(expected_rejects) : "");

  // The batch size never changes a result: the same run, one record per
  // batch, writes the same bytes.
  if (args.find("--batch-size") == std::string::npos) {
    const fs::path output1 = out_dir / ("output_b1" + expected.extension().string());
    const fs::path rejects1 = out_dir / "rejects_b1.jsonl";
    auto r1 = testing::RunShell("'" + testing::SluiceBinary() + "' run pipeline.yaml --input " +
                                    input.filename().string() + " --output '" + output1.string() +
                                    "' --dead-letter '" + rejects1.string() +
                                    "' --quiet --batch-size 1 " + args,
                                dir.string());
    EXPECT_EQ(r1.exit_code, expected_exit) << r1.output;
    EXPECT_EQ(testing::ReadFile(output1), actual_out);
    EXPECT_EQ(fs::exists(rejects1) ? testing::ReadFile(rejects1) : "", actual_rejects);
  }

  // Nothing is lost: read = written + rejected.
  const std::string s = testing::ReadFile(summary);
  const uint64_t read = JsonNumber(s, "records_read");
  const uint64_t written = JsonNumber(s, "records_written");
  const uint64_t rejected = JsonNumber(s, "records_rejected");
  ASSERT_NE(read, UINT64_MAX) << s;
  EXPECT_EQ(read, written + rejected) << s;
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace sluice
