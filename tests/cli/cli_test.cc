// The command line as a user meets it: stdin and stdout, exit codes, messages
// for inputs that fail as a whole, default dead-letter files, summaries, and
// progress on a terminal.

#include <gtest/gtest.h>

#include <filesystem>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    const fs::path golden = fs::path(SLUICE_SOURCE_DIR) / "tests" / "golden" / "csv_basic";
    fs::copy_file(golden / "pipeline.yaml", dir_ / "p.yaml");
    fs::copy_file(golden / "input.csv", dir_ / "in.csv");
    expected_ = testing::ReadFile(golden / "expected.csv");
  }
  testing::CommandResult Sluice(const std::string& args) {
    return testing::RunShell("'" + testing::SluiceBinary() + "' " + args, dir_.string());
  }
  fs::path dir_;
  std::string expected_;
};

TEST_F(Cli, ReadsStdinAndWritesStdout) {
  auto r = Sluice("run p.yaml -i - -o - --input-format csv -q < in.csv");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, expected_);
}

TEST_F(Cli, StdoutTakesTheInputFormatAndFlagsOverride) {
  auto r = Sluice("run p.yaml -i in.csv -o - -q");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, expected_);
  auto j = Sluice("run p.yaml -i in.csv -o - --output-format jsonl -q");
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_EQ(j.output.substr(0, 8), "{\"id\":\"A");
}

TEST_F(Cli, StdinNeedsAFormat) {
  auto r = Sluice("run p.yaml -i - -o out.csv < in.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output,
            "sluice: cannot tell the format of stdin/stdout ('-'): give the format (csv or "
            "jsonl)\n");
}

TEST_F(Cli, InputsThatFailAsAWholeExitThree) {
  auto missing = Sluice("run p.yaml -i nofile.csv -o out.csv");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.output, "sluice: cannot open nofile.csv: No such file or directory\n");

  testing::WriteFile(dir_ / "dup.csv", "id,amount,qty,country,channel,vip,amount\n");
  auto dup = Sluice("run p.yaml -i dup.csv -o out.csv");
  EXPECT_EQ(dup.exit_code, 3);
  EXPECT_EQ(dup.output,
            "sluice: dup.csv:1: duplicate column 'amount' in the header (columns 2 and 7)\n");

  testing::WriteFile(dir_ / "lacks.csv", "id,amount\nA,1\n");
  auto lacks = Sluice("run p.yaml -i lacks.csv -o out.csv");
  EXPECT_EQ(lacks.exit_code, 3);
  EXPECT_EQ(lacks.output,
            "sluice: lacks.csv:1: the header lacks schema fields 'qty', 'country', 'channel', "
            "'vip' (found columns: id, amount)\n");

  testing::WriteFile(dir_ / "empty.csv", "");
  auto empty = Sluice("run p.yaml -i empty.csv -o out.csv");
  EXPECT_EQ(empty.exit_code, 3);
  EXPECT_NE(empty.output.find("input is empty: expected a header line"), std::string::npos)
      << empty.output;
}

TEST_F(Cli, UnknownOutputExtensionIsAUsageError) {
  auto r = Sluice("run p.yaml -i in.csv -o out.txt");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output,
            "sluice: cannot tell the format of 'out.txt' from its extension (.csv, .jsonl, "
            ".ndjson or .json): give the format (csv or jsonl)\n");
}

TEST_F(Cli, RefusesToWriteOverTheInput) {
  const std::string before = testing::ReadFile(dir_ / "in.csv");
  auto r = Sluice("run p.yaml -i in.csv -o ./in.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "sluice: the output ./in.csv is the same file as in.csv\n");
  EXPECT_EQ(testing::ReadFile(dir_ / "in.csv"), before);
  auto d = Sluice("run p.yaml -i in.csv -o out.csv --dead-letter in.csv");
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_EQ(testing::ReadFile(dir_ / "in.csv"), before);
}

TEST_F(Cli, OutputAppearsOnlyWhenTheRunEnds) {
  // A run that fails half way (the dead-letter file cannot be written)
  // leaves no output file behind, and no partial one.
  testing::WriteFile(dir_ / "bad.csv", "id,amount,qty,country,channel,vip\nA1,x,2,US,pos,false\n");
  auto r = Sluice("run p.yaml -i bad.csv -o out.csv --dead-letter no/such/dir/r.jsonl -q");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
  EXPECT_FALSE(fs::exists(dir_ / "out.csv.partial"));
  auto ok = Sluice("run p.yaml -i in.csv -o out.csv -q");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(testing::ReadFile(dir_ / "out.csv"), expected_);
  EXPECT_FALSE(fs::exists(dir_ / "out.csv.partial"));
}

TEST_F(Cli, BadCommandLineExitsTwo) {
  EXPECT_EQ(Sluice("run p.yaml --bogus").exit_code, 2);
  EXPECT_EQ(Sluice("").exit_code, 2);
  EXPECT_EQ(Sluice("frobnicate").exit_code, 2);
  auto v = Sluice("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.output, "sluice 0.1.0\n");
}

TEST_F(Cli, DeadLettersGoBesideTheOutputOnlyWhenNeeded) {
  auto ok = Sluice("run p.yaml -i in.csv -o out.csv -q");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "out.csv.rejects.jsonl"));

  testing::WriteFile(
      dir_ / "bad.csv",
      "id,amount,qty,country,channel,vip\nA1,x,2,US,pos,false\nA2,1,1,US,pos,true\n");
  auto bad = Sluice("run p.yaml -i bad.csv -o out.csv --summary s.json");
  EXPECT_EQ(bad.exit_code, 0);  // rejections do not fail a run
  EXPECT_EQ(testing::ReadFile(dir_ / "out.csv.rejects.jsonl"),
            "{\"record\":1,\"line\":2,\"field\":\"amount\",\"reason\":\"field 'amount': expected "
            "float64, found \\\"x\\\"\",\"raw\":\"A1,x,2,US,pos,false\"}\n");
  const std::string summary = testing::ReadFile(dir_ / "s.json");
  EXPECT_NE(summary.find("\"records_read\":2,\"records_written\":1,\"records_rejected\":1"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"dead_letter\":\"out.csv.rejects.jsonl\""), std::string::npos);
  EXPECT_NE(summary.find("\"status\":\"ok\""), std::string::npos);
  EXPECT_NE(bad.output.find("rejected             1  (1 on input, 0 in the pipeline; see "
                            "out.csv.rejects.jsonl)"),
            std::string::npos)
      << bad.output;
}

TEST_F(Cli, MaxErrorsStopsWithExitFourAndAccountsForEverything) {
  std::string text = "id,amount,qty,country,channel,vip\n";
  for (int i = 0; i < 100; ++i) text += "A" + std::to_string(i) + ",bad,1,US,pos,true\n";
  testing::WriteFile(dir_ / "bad.csv", text);
  auto r = Sluice("run p.yaml -i bad.csv -o out.csv --max-errors 5 --summary s.json -q");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.output,
            "sluice: stopped: 6 records rejected, more than --max-errors 5 (see "
            "out.csv.rejects.jsonl)\n");
  const std::string summary = testing::ReadFile(dir_ / "s.json");
  EXPECT_NE(summary.find("\"records_read\":6,\"records_written\":0,\"records_rejected\":6"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"status\":\"max_errors_exceeded\""), std::string::npos);
}

TEST_F(Cli, SummaryCountsActionsAndReasons) {
  auto r = Sluice("run p.yaml -i in.csv -o out.csv --summary s.json");
  EXPECT_EQ(r.exit_code, 0);
  const std::string summary = testing::ReadFile(dir_ / "s.json");
  EXPECT_NE(summary.find("\"actions\":{\"decline\":1,\"review\":1,\"approve\":4}"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"reasons\":{\"VIP\":2,\"FOREIGN\":1,\"ONLINE\":1,\"TOO_LARGE\":1}"),
            std::string::npos)
      << summary;
  EXPECT_NE(
      r.output.find("sluice run: pipeline golden_csv_basic\n  read                 6 records"),
      std::string::npos)
      << r.output;
}

TEST_F(Cli, ShowsProgressOnATerminal) {
  // A FIFO lets the input arrive slowly; `script` gives sluice a terminal.
  ASSERT_EQ(testing::RunShell("mkfifo slow.csv", dir_.string()).exit_code, 0);
  auto r = testing::RunShell(
      "(timeout 10 sh -c '(cat in.csv; sleep 1.2) > slow.csv' &) ; timeout 20 script -qfec \"'" +
          testing::SluiceBinary() +
          "' run p.yaml -i slow.csv -o out.csv --batch-size 1\" /dev/null < /dev/null",
      dir_.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sluice: 6 records read ("), std::string::npos) << r.output;
  // Without a terminal there is none.
  auto quiet = Sluice("run p.yaml -i in.csv -o out2.csv --batch-size 1");
  EXPECT_EQ(quiet.output.find("records read ("), std::string::npos);
}

}  // namespace
}  // namespace sluice
