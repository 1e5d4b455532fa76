// CsvScanner::Scan (with its fast path) against CsvScanner::ScanGeneral,
// the reference tokenizer, on random CSV text: every prefix of the input,
// at and before its end, must give the same status, record and spans.

#include "io/internal/csv_scanner.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "io_test_util.h"

namespace sluice::io {
namespace {

using internal::CsvFieldSpan;
using internal::CsvScannedRecord;
using internal::CsvScanner;
using internal::CsvScanStatus;

// Random records: plain, quoted (with "" pairs, delimiters, LFs and CRs
// inside), malformed (quotes in unquoted fields, text after a closing
// quote, unterminated), with LF or CRLF line ends, blank lines, long fields
// that cross 64-byte blocks, and stray CRs.
std::string RandomCsv(std::mt19937& rng, char delimiter) {
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string out;
  int records = 1 + pick(6);
  for (int r = 0; r < records; ++r) {
    int fields = 1 + pick(5);
    for (int f = 0; f < fields; ++f) {
      if (f > 0) out += delimiter;
      int length = pick(10) == 0 ? 40 + pick(100) : pick(8);
      switch (pick(8)) {
        case 0:
        case 1:
        case 2:
          for (int k = 0; k < length; ++k) out += static_cast<char>('a' + pick(26));
          break;
        case 3:
        case 4: {
          out += '"';
          for (int k = 0; k < length; ++k) {
            static constexpr char kInside[] = {'x', 'y', '"', '\n', '\r', ',', ';', ' '};
            char c = kInside[pick(8)];
            out += c;
            if (c == '"' && pick(10) != 0) out += '"';  // mostly well-formed pairs
          }
          out += '"';
          if (pick(12) == 0) out += static_cast<char>("x\r \""[pick(4)]);
          break;
        }
        case 5:
          for (int k = 0; k < length; ++k) out += "ab\r \"\t"[pick(6)];
          break;
        case 6:
          if (pick(4) == 0) out += '"';  // maybe unterminated at the end
          break;
        default:
          break;
      }
    }
    switch (pick(6)) {
      case 0:
        out += "\r\n";
        break;
      case 1:
        if (r + 1 == records) break;  // no line end after the last record
        out += '\n';
        break;
      case 2:
        out += "\n\n";
        break;
      case 3:
        out += '\r';
        break;
      default:
        out += '\n';
        break;
    }
  }
  return out;
}

void ExpectSameScan(const std::string& input, char delimiter, uint32_t seed) {
  CsvScanner fast(delimiter);
  CsvScanner general(delimiter);
  for (size_t n = 0; n <= input.size(); ++n) {
    for (bool eof : {false, true}) {
      // Bytes past n are garbage that looks special: the scanners must not use them.
      std::string buffer = input.substr(0, n) + std::string(CsvScanner::kPadding, '"');
      for (size_t k = n; k < buffer.size(); k += 3) buffer[k] = k % 2 ? '\n' : delimiter;
      CsvScannedRecord a, b;
      a.length = b.length = 12345;  // the scanners must set every field
      CsvScanStatus sa = fast.Scan(buffer.data(), n, eof, &a);
      CsvScanStatus sb = general.ScanGeneral(buffer.data(), n, eof, &b);
      std::string where = "seed " + std::to_string(seed) + " n " + std::to_string(n) + " eof " +
                          std::to_string(eof) + " input " + ::testing::PrintToString(input);
      ASSERT_EQ(sa, sb) << where;
      if (sa != CsvScanStatus::kRecord) continue;
      EXPECT_EQ(a.length, b.length) << where;
      EXPECT_EQ(a.consumed, b.consumed) << where;
      EXPECT_EQ(a.newlines, b.newlines) << where;
      EXPECT_EQ(a.problem, b.problem) << where;
      EXPECT_EQ(a.problem_field, b.problem_field) << where;
      EXPECT_EQ(a.problem_char, b.problem_char) << where;
      ASSERT_EQ(fast.spans().size(), general.spans().size()) << where;
      for (size_t i = 0; i < fast.spans().size(); ++i) {
        const CsvFieldSpan& x = fast.spans()[i];
        const CsvFieldSpan& y = general.spans()[i];
        EXPECT_EQ(x.begin, y.begin) << where << " field " << i;
        EXPECT_EQ(x.end, y.end) << where << " field " << i;
        EXPECT_EQ(x.quoted, y.quoted) << where << " field " << i;
        EXPECT_EQ(x.escaped, y.escaped) << where << " field " << i;
      }
    }
  }
}

TEST(CsvScanner, FastPathMatchesGeneralOnEdgeCases) {
  for (const char* input : {
           "",         "a",          "a\n",       "a,b\r\n",
           "a,b\r",    "a,b\rc\n",   "\"a\"\r\n", "\"a\"\rx\n",
           "\"a\"\r",  "\"\"\"\"\n", "\"a\"\"\n", "\"a\nb\",c\n",
           "a\"b,c\n", "\"a\"b,c\n", ",,\n",      ",\r\n",
           "\r\n",     "\n",         "\"\n",      "\"unterminated\n,x",
       }) {
    ExpectSameScan(input, ',', 0);
  }
  // Fields that cross 64-byte blocks, with a quote right at a block edge.
  for (size_t pad = 55; pad < 70; ++pad) {
    ExpectSameScan(std::string(pad, 'x') + ",\"q\"\"" + std::string(70, 'y') + "\",z\n", ',', 0);
    ExpectSameScan("\"" + std::string(pad, 'x') + "\"\n" + "b\n", ',', 0);
  }
}

TEST(CsvScanner, FastPathMatchesGeneralOnRandomCsv) {
  for (uint32_t seed = 0; seed < 1500; ++seed) {
    std::mt19937 rng(seed);
    char delimiter = seed % 5 == 0 ? ';' : seed % 7 == 0 ? '\t' : ',';
    std::string input = RandomCsv(rng, delimiter);
    ExpectSameScan(input, delimiter, seed);
    if (::testing::Test::HasFailure()) return;
  }
}

// End to end through CsvSource: random records of the test schema, with
// quoted fields, CRLF, embedded line ends and malformed records, give the
// same rows and rejections at every chunk size from 1 to 64.
TEST(CsvScanner, SameRecordsAtEveryChunkSize) {
  std::mt19937 rng(7);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string input = "id,amount,name,ok,channel,ts,note\n";
  for (int r = 0; r < 60; ++r) {
    static const char* kNames[] = {"alice", "\"b,o\"\"b\"", "\"multi\nline\"",
                                   "\"\"",  "x\"y",         "\"q\"z"};
    static const char* kNotes[] = {"", "n", "\"c\r\nd\"", "\"\"", "long note text here ok"};
    static const char* kEnds[] = {"\n", "\r\n", "\n\n", "\r\n\r\n"};
    input += std::to_string(r) + "," + std::to_string(pick(1000)) + "." + std::to_string(pick(10)) +
             "," + kNames[pick(6)] + "," + (pick(2) ? "true" : "0") + "," +
             (pick(8) ? "pos" : "bad") + ",2024-03-01T12:" + std::to_string(10 + pick(50)) +
             ":00.25Z," + kNotes[pick(5)] + kEnds[pick(4)];
  }
  testing::ReadResult expected = testing::ReadAll(Format::kCsv, input);
  ASSERT_TRUE(expected.open.ok()) << expected.open.message();
  ASSERT_GT(expected.rows.size(), 10u);
  ASSERT_GT(expected.rejects.size(), 3u);
  for (size_t chunk = 1; chunk <= 64; ++chunk) {
    testing::ReadResult r = testing::ReadAll(Format::kCsv, input, chunk);
    EXPECT_EQ(r.rows, expected.rows) << "chunk " << chunk;
    EXPECT_EQ(r.raws, expected.raws) << "chunk " << chunk;
    ASSERT_EQ(r.rejects.size(), expected.rejects.size()) << "chunk " << chunk;
    for (size_t i = 0; i < r.rejects.size(); ++i) {
      EXPECT_EQ(r.rejects[i].reason, expected.rejects[i].reason) << "chunk " << chunk;
      EXPECT_EQ(r.rejects[i].line, expected.rejects[i].line) << "chunk " << chunk;
      EXPECT_EQ(r.rejects[i].raw, expected.rejects[i].raw) << "chunk " << chunk;
    }
  }
}

}  // namespace
}  // namespace sluice::io
