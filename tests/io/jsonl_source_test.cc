#include <gtest/gtest.h>

#include "io_test_util.h"

namespace sluice::io {
namespace {

using testing::ReadAll;
using testing::ReadResult;

constexpr char kGood[] =
    R"({"id":1,"amount":2.5,"name":"alice","ok":true,"channel":"pos","ts":"2024-03-01T12:30:00Z","note":"hi"})";

TEST(JsonlSource, DecodesEveryType) {
  ReadResult r = ReadAll(
      Format::kJsonl,
      std::string(kGood) + "\n" +
          R"({"note":null,"ts":"2024-03-01","channel":"atm","ok":false,"name":"b\u00e9\n","amount":3,"id":-7})"
          "\r\n");
  ASSERT_EQ(r.rows.size(), 2u) << (r.rejects.empty() ? "" : r.rejects[0].reason);
  EXPECT_EQ(r.rows[0], "1,2.5,'alice',true,pos,2024-03-01T12:30:00Z,'hi'");
  EXPECT_EQ(r.rows[1], "-7,3,'b\xC3\xA9\n',false,atm,2024-03-01T00:00:00Z,null");
  EXPECT_EQ(r.origins[1].line, 2u);
  EXPECT_EQ(r.raws[0], kGood);
}

TEST(JsonlSource, MissingKeyIsNullAndUnknownKeysIgnored) {
  ReadResult r = ReadAll(
      Format::kJsonl,
      R"({"id":1,"amount":2,"name":"a","ok":true,"channel":"pos","ts":"2024-01-01","x":{"y":[1,2]}})");
  ASSERT_EQ(r.rows.size(), 1u) << r.rejects[0].reason;
  EXPECT_EQ(r.rows[0], "1,2,'a',true,pos,2024-01-01T00:00:00Z,null");
}

TEST(JsonlSource, BlankLinesAreNotRecords) {
  std::string input = "\n" + std::string(kGood) + "\n  \n\r\n" + kGood;
  for (size_t chunk : {1, 5, 1 << 20}) {
    ReadResult r = ReadAll(Format::kJsonl, input, chunk);
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.origins[0].line, 2u);
    EXPECT_EQ(r.origins[0].record, 1u);
    EXPECT_EQ(r.origins[1].line, 5u);
    EXPECT_EQ(r.origins[1].record, 2u);
  }
}

struct RejectCase {
  std::string line;
  const char* field;
  const char* reason;
};

std::string With(const std::string& key, const std::string& json_value) {
  std::string base =
      R"({"id":1,"amount":2.5,"name":"alice","ok":true,"channel":"pos","ts":"2024-03-01T12:30:00Z")";
  size_t k = base.find("\"" + key + "\":");
  if (k == std::string::npos) return base + ",\"" + key + "\":" + json_value + "}";
  size_t v = k + key.size() + 3;
  size_t e = base.find_first_of(",}", v);
  if (base[v] == '"') e = base.find('"', v + 1) + 1;
  return base.substr(0, v) + json_value + base.substr(e) + "}";
}

TEST(JsonlSource, RejectionReasons) {
  const RejectCase cases[] = {
      {With("amount", "\"12\""), "amount", "field 'amount': expected float64, found string \"12\""},
      {With("id", "12.0"), "id", "field 'id': expected int64, found number 12.0"},
      {With("id", "1e3"), "id", "field 'id': expected int64, found number 1e3"},
      {With("id", "9223372036854775808"), "id",
       "field 'id': expected int64 (-9223372036854775808 to 9223372036854775807), found "
       "\"9223372036854775808\""},
      {With("id", "123456789012345678901234567890"), "id",
       "field 'id': expected int64 (-9223372036854775808 to 9223372036854775807), found "
       "\"123456789012345678901234567890\""},
      {With("amount", "1e999"), "amount",
       "field 'amount': expected float64 within +-1.8e308, found \"1e999\""},
      {With("amount", "\"NaN\""), "amount",
       "field 'amount': expected float64, found string \"NaN\""},
      {With("ok", "1"), "ok", "field 'ok': expected bool (true or false), found number 1"},
      {With("name", "[1]"), "name", "field 'name': expected string, found an array"},
      {With("name", "{\"a\":1}"), "name", "field 'name': expected string, found an object"},
      {With("channel", "\"xyz\""), "channel",
       "field 'channel': 'xyz' is not one of pos, ecom, atm"},
      {With("ts", "1709296200"), "ts",
       "field 'ts': expected an ISO-8601 timestamp, found number 1709296200"},
      {With("ts", "\"yesterday\""), "ts",
       "field 'ts': expected an ISO-8601 timestamp, found \"yesterday\""},
      {With("id", "null"), "id", "field 'id' is required but is null"},
      {R"({"id":1})", "amount", "field 'amount' is required but is null"},
      {With("id", "1,\"id\":2"), "id", "duplicate key \"id\""},
      {With("zz", "1,\"zz\":2"), "", "duplicate key \"zz\""},
      {"[1,2]", "", "expected a JSON object, found an array"},
      {"\"text\"", "", "expected a JSON object, found a string"},
      {"42", "", "expected a JSON object, found a number"},
      {"null", "", "expected a JSON object, found null"},
      {R"({"id":1,)", "", "malformed JSON: "},
      {R"({"id":1 "amount":2})", "", "malformed JSON: "},
      {R"({"id":1} {"id":2})", "", "malformed JSON: unexpected text after the object"},
      {"{\"id\":1,\"name\":\"caf\xE9\"}", "", "invalid UTF-8 in the line"},
      {R"({"id":1,"name":"caf\xE9"})", "", "malformed JSON: "},
      {R"(not json)", "", "malformed JSON: "},
      {R"(tru)", "", "malformed JSON: "},
      {R"("unterminated)", "", "malformed JSON: "},
      {R"({"id":[1,2)", "", "malformed JSON: "},
  };
  for (const RejectCase& c : cases) {
    ReadResult r = ReadAll(Format::kJsonl, c.line + "\n" + kGood + "\n");
    ASSERT_EQ(r.rejects.size(), 1u) << c.line;
    if (std::string(c.reason) == "malformed JSON: ") {
      EXPECT_EQ(r.rejects[0].reason.rfind("malformed JSON: ", 0), 0u)
          << c.line << " -> " << r.rejects[0].reason;
    } else {
      EXPECT_EQ(r.rejects[0].reason, c.reason) << c.line;
    }
    EXPECT_EQ(r.rejects[0].field, c.field) << c.line;
    EXPECT_EQ(r.rejects[0].raw, c.line);
    EXPECT_EQ(r.rejects[0].line, 1u);
    EXPECT_EQ(r.rows.size(), 1u) << c.line;  // the next line is unaffected
  }
}

TEST(JsonlSource, EpochTimestampsFromNumbers) {
  std::vector<SourceField> fields = {
      {"s", Type::Timestamp(), false, TimestampFormat::kEpochSeconds, 0},
      {"ms", Type::Timestamp(), false, TimestampFormat::kEpochMillis, 1}};
  ReadResult r = ReadAll(Format::kJsonl,
                         "{\"s\":1.25,\"ms\":1500}\n{\"s\":1e3,\"ms\":2}\n{\"s\":\"1\",\"ms\":2}\n",
                         1 << 20, {}, fields);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0], "1970-01-01T00:00:01.250Z,1970-01-01T00:00:01.500Z");
  EXPECT_EQ(r.rows[1], "1970-01-01T00:16:40Z,1970-01-01T00:00:00.002Z");
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason,
            "field 's': expected a timestamp in epoch seconds, found string \"1\"");
}

TEST(JsonlSource, TooLongLine) {
  SourceOptions options;
  options.max_record_bytes = 120;
  std::string long_line = With("name", "\"" + std::string(200, 'x') + "\"");
  std::string input = std::string(kGood) + "\n" + long_line + "\n" + kGood + "\n";
  for (size_t chunk : {1, 7, 1 << 20}) {
    ReadResult r = ReadAll(Format::kJsonl, input, chunk, options);
    ASSERT_EQ(r.rows.size(), 2u);
    ASSERT_EQ(r.rejects.size(), 1u);
    EXPECT_EQ(r.rejects[0].reason, "record is longer than 120 bytes (max_record_bytes)");
    EXPECT_EQ(r.rejects[0].line, 2u);
    EXPECT_EQ(r.rejects[0].raw, long_line.substr(0, 120));
    EXPECT_EQ(r.origins[1].line, 3u);
  }
}

TEST(JsonlSource, UnescapedStringsPointIntoTheRawCopy) {
  std::vector<SourceField> fields = {{"s", Type::String(), false, TimestampFormat::kIso8601, 0}};
  BatchLayout layout = testing::LayoutFor(fields);
  Batch batch(layout, 4);
  auto source = internal::OpenJsonlSource(
      internal::MemoryByteSource("{\"s\": \"plain\" }\n{\"s\":\"a\\\"b\"}\n"), "INPUT", fields, {});
  ASSERT_TRUE(source.ok());
  testing::CollectRejects rejects;
  ASSERT_TRUE((*source)->Fill(batch, rejects).ok());
  ASSERT_EQ(batch.size(), 2u);
  std::string_view s0 = batch.column(0).data<std::string_view>()[0];
  EXPECT_EQ(s0, "plain");
  EXPECT_EQ(s0.data(), batch.origin(0).raw.data() + 7);
  EXPECT_EQ(batch.column(0).data<std::string_view>()[1], "a\"b");
}

}  // namespace
}  // namespace sluice::io
