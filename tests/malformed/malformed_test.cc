// Data-driven malformed-input corpus. Each csv/NAME.csv or jsonl/NAME.jsonl
// is read with a fixed schema (int64, float64, string, bool, enum, timestamp
// and one nullable string field) and the outcome is compared byte for byte
// with NAME.expected:
//
//   error: <the Open() message, with the file path written as INPUT>
// or
//   accepted: <number of records appended>
//   <the dead-letter file, one JSON line per rejected record>
//
// Every file is also read with tiny chunk sizes: the outcome must not
// change. Set SLUICE_UPDATE_MALFORMED=1 to rewrite the .expected files
// (then review the diff).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/internal/byte_source.h"
#include "io/internal/sources.h"
#include "io/record_io.h"

namespace sluice::io {
namespace {

namespace fs = std::filesystem;

std::vector<SourceField> Schema() {
  Type channel =
      Type::Enum(std::make_shared<EnumDomain>(std::vector<std::string>{"pos", "ecom", "atm"}));
  std::vector<SourceField> f = {
      {"id", Type::Int64()},          {"amount", Type::Float64()}, {"name", Type::String()},
      {"ok", Type::Bool()},           {"channel", channel},        {"ts", Type::Timestamp()},
      {"note", Type::String(), true},
  };
  for (size_t i = 0; i < f.size(); ++i) f[i].column = static_cast<int>(i);
  return f;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// Reads `bytes` (chunk 0: from the file through RecordSource::Open) and
// returns the outcome text.
std::string Outcome(const fs::path& file, Format format, size_t chunk, SourceOptions options = {}) {
  std::vector<SourceField> fields = Schema();
  options.read_chunk_bytes = chunk == 0 ? options.read_chunk_bytes : chunk;
  Result<std::unique_ptr<RecordSource>> source =
      chunk == 0               ? RecordSource::Open(file.string(), format, fields, options)
      : format == Format::kCsv ? internal::OpenCsvSource(internal::MemoryByteSource(Slurp(file)),
                                                         file.string(), fields, options)
                               : internal::OpenJsonlSource(internal::MemoryByteSource(Slurp(file)),
                                                           file.string(), fields, options);
  if (!source.ok())
    return "error: " + ReplaceAll(source.status().message(), file.string(), "INPUT") + "\n";
  BatchLayout layout;
  for (const SourceField& f : fields) layout.Add({f.name, f.type, std::nullopt});
  Batch batch(layout, 4);
  std::string dead = std::string(SLUICE_BINARY_DIR) + "/malformed_" + std::to_string(::getpid()) +
                     "_" + file.filename().string() + ".dead";
  std::remove(dead.c_str());
  DeadLetterFile rejects(dead);
  uint64_t accepted = 0;
  while (!(*source)->done()) {
    batch.Clear();
    Status st = (*source)->Fill(batch, rejects);
    if (!st.ok()) return "read error: " + st.message() + "\n";
    accepted += batch.size();
  }
  EXPECT_TRUE(rejects.Close().ok());
  EXPECT_EQ((*source)->records_read(), accepted + rejects.count()) << file;
  std::string out = "accepted: " + std::to_string(accepted) + "\n";
  if (rejects.count() > 0) out += Slurp(dead);
  std::remove(dead.c_str());
  return out;
}

void RunCorpus(const std::string& dir, const std::string& ext, Format format) {
  fs::path root = fs::path(SLUICE_SOURCE_DIR) / "tests" / "malformed" / dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.path().extension() == ext) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u);
  bool update = std::getenv("SLUICE_UPDATE_MALFORMED") != nullptr;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    std::string actual = Outcome(file, format, 0);
    fs::path expected_path = file;
    expected_path.replace_extension(".expected");
    if (update) {
      std::ofstream(expected_path, std::ios::binary) << actual;
    } else {
      ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
      EXPECT_EQ(actual, Slurp(expected_path));
    }
    for (size_t chunk : {1, 2, 5, 64}) {
      EXPECT_EQ(Outcome(file, format, chunk), actual) << "chunk " << chunk;
    }
  }
}

TEST(Malformed, CsvCorpus) {
  RunCorpus("csv", ".csv", Format::kCsv);
}
TEST(Malformed, JsonlCorpus) {
  RunCorpus("jsonl", ".jsonl", Format::kJsonl);
}

// Very long fields are generated rather than committed.
TEST(Malformed, VeryLongFields) {
  fs::path dir = fs::path(SLUICE_BINARY_DIR);
  std::string pid = std::to_string(::getpid());
  std::string huge(9u << 20, 'x');  // above the default 8 MiB record limit
  {
    fs::path csv = dir / ("long_" + pid + ".csv");
    std::ofstream(csv, std::ios::binary)
        << "id,amount,name,ok,channel,ts,note\n1,1," << huge << ",true,pos,2024-03-01,\n"
        << "2,1,\"" << huge.substr(0, 100000) << "\",true,pos,2024-03-01,\n"
        << "3,1,ok,true,pos,2024-03-01,\n";
    std::string out = Outcome(csv, Format::kCsv, 0);
    EXPECT_EQ(out.substr(0, out.find('\n')), "accepted: 2");
    EXPECT_NE(out.find("{\"record\":1,\"line\":2,\"field\":\"\",\"reason\":\"record is longer than "
                       "8388608 bytes (max_record_bytes)\",\"raw\":\"1,1,xxx"),
              std::string::npos);
    EXPECT_NE(out.find("\"raw_truncated\":true}\n"), std::string::npos);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
    EXPECT_EQ(Outcome(csv, Format::kCsv, 4096), out);
    fs::remove(csv);
  }
  {
    fs::path jsonl = dir / ("long_" + pid + ".jsonl");
    std::ofstream(jsonl, std::ios::binary)
        << "{\"id\":1,\"amount\":1,\"name\":\"" << huge
        << "\",\"ok\":true,\"channel\":\"pos\",\"ts\":\"2024-03-01\"}\n"
        << "{\"id\":2,\"amount\":1,\"name\":\"" << huge.substr(0, 100000)
        << "\",\"ok\":true,\"channel\":\"pos\",\"ts\":\"2024-03-01\"}\n";
    std::string out = Outcome(jsonl, Format::kJsonl, 0);
    EXPECT_EQ(out.substr(0, out.find('\n')), "accepted: 1");
    EXPECT_NE(out.find("\"reason\":\"record is longer than 8388608 bytes (max_record_bytes)\""),
              std::string::npos);
    fs::remove(jsonl);
  }
}

}  // namespace
}  // namespace sluice::io
