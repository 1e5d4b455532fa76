#include <gtest/gtest.h>

#include "io/internal/field_decoder.h"
#include "io_test_util.h"

namespace sluice::io {
namespace {

using testing::ReadAll;
using testing::ReadResult;

constexpr char kHeader[] = "id,amount,name,ok,channel,ts,note\n";

std::string Csv(const std::string& body) {
  return kHeader + body;
}

// Every chunk size gives the same result: records may span chunk boundaries.
void ExpectSameForAllChunks(const std::string& input, const ReadResult& expected) {
  for (size_t chunk : {1, 2, 3, 5, 7, 16, 64}) {
    ReadResult r = ReadAll(Format::kCsv, input, chunk);
    EXPECT_EQ(r.rows, expected.rows) << "chunk " << chunk;
    ASSERT_EQ(r.rejects.size(), expected.rejects.size()) << "chunk " << chunk;
    for (size_t i = 0; i < r.rejects.size(); ++i) {
      EXPECT_EQ(r.rejects[i].reason, expected.rejects[i].reason) << "chunk " << chunk;
      EXPECT_EQ(r.rejects[i].line, expected.rejects[i].line) << "chunk " << chunk;
      EXPECT_EQ(r.rejects[i].raw, expected.rejects[i].raw) << "chunk " << chunk;
    }
  }
}

TEST(CsvSource, DecodesEveryType) {
  ReadResult r = ReadAll(Format::kCsv, Csv("1,2.5,alice,true,pos,2024-03-01T12:30:00Z,hi\n"
                                           "-7, 1e3 ,bob, FALSE ,atm, 2024-03-01 ,\n"));
  ASSERT_TRUE(r.open.ok()) << r.open.message();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0], "1,2.5,'alice',true,pos,2024-03-01T12:30:00Z,'hi'");
  EXPECT_EQ(r.rows[1], "-7,1000,'bob',false,atm,2024-03-01T00:00:00Z,null");
  EXPECT_TRUE(r.rejects.empty());
  EXPECT_EQ(r.records_read, 2u);
}

TEST(CsvSource, SetsOrigins) {
  ReadResult r = ReadAll(Format::kCsv, Csv("1,2,\"a\nb\",1,pos,2024-01-01,x\r\n"
                                           "2,3,c,0,ecom,2024-01-01,y\r\n"));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.origins[0].record, 1u);
  EXPECT_EQ(r.origins[0].line, 2u);
  EXPECT_EQ(r.raws[0], "1,2,\"a\nb\",1,pos,2024-01-01,x");
  EXPECT_EQ(r.origins[1].record, 2u);
  EXPECT_EQ(r.origins[1].line, 4u);
  EXPECT_EQ(r.raws[1], "2,3,c,0,ecom,2024-01-01,y");
}

TEST(CsvSource, HeaderInAnyOrderAndExtraColumnsIgnored) {
  ReadResult r = ReadAll(Format::kCsv,
                         "extra,note,ts,channel,ok,name,amount,id\n"
                         "\"bad\"x,n,2024-01-01,pos,1,a,1.5,9\n");
  ASSERT_TRUE(r.open.ok());
  ASSERT_EQ(r.rows.size(), 0u);  // the extra column is tokenized: quoting errors still count
  r = ReadAll(Format::kCsv,
              "extra,note,ts,channel,ok,name,amount,id\n"
              "\xff\xfe not utf8 nor a number,n,2024-01-01,pos,1,a,1.5,9\n");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0], "9,1.5,'a',true,pos,2024-01-01T00:00:00Z,'n'");
}

TEST(CsvSource, BomAndCrlf) {
  ReadResult r = ReadAll(Format::kCsv,
                         "\xEF\xBB\xBFid,amount,name,ok,channel,ts,note\r\n"
                         "1,2,a,1,pos,2024-01-01,\r\n");
  ASSERT_TRUE(r.open.ok()) << r.open.message();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0], "1,2,'a',true,pos,2024-01-01T00:00:00Z,null");
  ExpectSameForAllChunks(
      "\xEF\xBB\xBFid,amount,name,ok,channel,ts,note\r\n"
      "1,2,a,1,pos,2024-01-01,\r\n",
      r);
}

TEST(CsvSource, QuotedFields) {
  std::string input =
      Csv("1,2,\"a,b\",1,pos,2024-01-01,\"say \"\"hi\"\"\"\n"
          "2,3,\"line1\r\nline2\",0,\"ecom\",\"2024-01-01\",\"\"\n"
          "3,4,\"\",0,atm,2024-01-01,\n");
  ReadResult r = ReadAll(Format::kCsv, input);
  ASSERT_EQ(r.rows.size(), 3u) << (r.rejects.empty() ? "" : r.rejects[0].reason);
  EXPECT_EQ(r.rows[0], "1,2,'a,b',true,pos,2024-01-01T00:00:00Z,'say \"hi\"'");
  EXPECT_EQ(r.rows[1], "2,3,'line1\r\nline2',false,ecom,2024-01-01T00:00:00Z,''");
  EXPECT_EQ(r.rows[2], "3,4,'',false,atm,2024-01-01T00:00:00Z,null");
  EXPECT_EQ(r.origins[2].line, 5u);
  ExpectSameForAllChunks(input, r);
}

TEST(CsvSource, UnescapedStringsPointIntoTheRawCopy) {
  std::vector<SourceField> fields = {{"s", Type::String(), false, TimestampFormat::kIso8601, 0}};
  BatchLayout layout = testing::LayoutFor(fields);
  Batch batch(layout, 4);
  auto source = internal::OpenCsvSource(internal::MemoryByteSource("s\nplain\n\"q\"\"x\"\n"),
                                        "INPUT", fields, {});
  ASSERT_TRUE(source.ok());
  testing::CollectRejects rejects;
  ASSERT_TRUE((*source)->Fill(batch, rejects).ok());
  ASSERT_EQ(batch.size(), 2u);
  std::string_view s0 = batch.column(0).data<std::string_view>()[0];
  EXPECT_EQ(s0, "plain");
  EXPECT_EQ(s0.data(), batch.origin(0).raw.data());
  EXPECT_EQ(batch.column(0).data<std::string_view>()[1], "q\"x");
}

TEST(CsvSource, NullMarkers) {
  SourceOptions options;
  options.null_markers = {"", "NA"};
  ReadResult r = ReadAll(Format::kCsv,
                         Csv("1,2,a,1,pos,2024-01-01,NA\n"
                             "1,2,a,1,pos,2024-01-01,\"NA\"\n"
                             "NA,2,a,1,pos,2024-01-01,x\n"),
                         1 << 20, options);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0], "1,2,'a',true,pos,2024-01-01T00:00:00Z,null");
  EXPECT_EQ(r.rows[1], "1,2,'a',true,pos,2024-01-01T00:00:00Z,'NA'");
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "field 'id' is required but is null");
  EXPECT_EQ(r.rejects[0].field, "id");
  EXPECT_EQ(r.rejects[0].record, 3u);
  EXPECT_EQ(r.rejects[0].line, 4u);
}

TEST(CsvSource, QuotedEmptyIsAValueNotNull) {
  ReadResult r =
      ReadAll(Format::kCsv, Csv("1,2,\"\",1,pos,2024-01-01,x\n1,2,,1,pos,2024-01-01,x\n"));
  ASSERT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "field 'name' is required but is null");
}

struct RejectCase {
  const char* record;
  const char* field;
  const char* reason;
};

TEST(CsvSource, RejectionReasons) {
  const RejectCase cases[] = {
      {"1,2,a,1,pos,2024-01-01", "", "expected 7 fields, found 6"},
      {"1,2,a,1,pos,2024-01-01,x,y", "", "expected 7 fields, found 8"},
      {"12.0,2,a,1,pos,2024-01-01,x", "id", "field 'id': expected int64, found \"12.0\""},
      {"9223372036854775808,2,a,1,pos,2024-01-01,x", "id",
       "field 'id': expected int64 (-9223372036854775808 to 9223372036854775807), found "
       "\"9223372036854775808\""},
      {"1,NaN,a,1,pos,2024-01-01,x", "amount",
       "field 'amount': expected a finite float64, found \"NaN\""},
      {"1,-Infinity,a,1,pos,2024-01-01,x", "amount",
       "field 'amount': expected a finite float64, found \"-Infinity\""},
      {"1,inf,a,1,pos,2024-01-01,x", "amount",
       "field 'amount': expected a finite float64, found \"inf\""},
      {"1,0x1p3,a,1,pos,2024-01-01,x", "amount",
       "field 'amount': expected float64, found \"0x1p3\""},
      {"1,1e999,a,1,pos,2024-01-01,x", "amount",
       "field 'amount': expected float64 within +-1.8e308, found \"1e999\""},
      {"1,2,a,yes,pos,2024-01-01,x", "ok",
       "field 'ok': expected bool (true, false, 1 or 0), found \"yes\""},
      {"1,2,a,1,xyz,2024-01-01,x", "channel",
       "field 'channel': 'xyz' is not one of pos, ecom, atm"},
      {"1,2,a,1,pos,2024-02-30,x", "ts",
       "field 'ts': expected an ISO-8601 timestamp, found \"2024-02-30\""},
      {"1,2,\xC3(,1,pos,2024-01-01,x", "name", "field 'name': invalid UTF-8 in string value"},
      {"1,2,a,1,p\xffs,2024-01-01,x", "channel", "field 'channel': invalid UTF-8 in enum value"},
      {"1,2,\"a\"b,1,pos,2024-01-01,x", "name",
       "field 'name': unexpected character \"b\" after a closing quote (expected a delimiter or "
       "a line end)"},
      {"1,2,a\"b,1,pos,2024-01-01,x", "name",
       "field 'name': a quote inside an unquoted field (quote the whole field and double inner "
       "quotes)"},
      {"1,2,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,1,pos,2024-01-01,x,y", "",
       "expected 7 fields, found 8"},
      {"1,2,a,1,pos,2024-01-01 99:00,x", "ts",
       "field 'ts': expected an ISO-8601 timestamp, found \"2024-01-01 99:00\""},
  };
  for (const RejectCase& c : cases) {
    ReadResult r =
        ReadAll(Format::kCsv, Csv(std::string(c.record) + "\n1,2,ok,1,pos,2024-01-01,x\n"));
    ASSERT_TRUE(r.open.ok());
    ASSERT_EQ(r.rejects.size(), 1u) << c.record;
    EXPECT_EQ(r.rejects[0].reason, c.reason) << c.record;
    EXPECT_EQ(r.rejects[0].field, c.field) << c.record;
    EXPECT_EQ(r.rejects[0].raw, c.record);
    EXPECT_EQ(r.rejects[0].record, 1u);
    EXPECT_EQ(r.rejects[0].line, 2u);
    EXPECT_EQ(r.rows.size(), 1u) << c.record;  // the next record is unaffected
    EXPECT_EQ(r.records_read, 2u);
  }
}

TEST(CsvSource, LongFoundTextIsCut) {
  std::string big(100, '7');
  ReadResult r = ReadAll(Format::kCsv, Csv("1," + big + "x,a,1,pos,2024-01-01,x\n"));
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason,
            "field 'amount': expected float64, found \"" + std::string(40, '7') + "...\"");
}

TEST(CsvSource, UnterminatedQuoteAtEndOfInput) {
  std::string input = Csv("1,2,a,1,pos,2024-01-01,x\n2,3,\"open\n3,4,b,1,pos,2024-01-01,x\n");
  ReadResult r = ReadAll(Format::kCsv, input);
  ASSERT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "field 'name': unterminated quoted field at end of input");
  EXPECT_EQ(r.rejects[0].line, 3u);
  EXPECT_EQ(r.rejects[0].raw, "2,3,\"open\n3,4,b,1,pos,2024-01-01,x\n");
  ExpectSameForAllChunks(input, r);
}

TEST(CsvSource, LastRecordWithoutNewline) {
  ReadResult r =
      ReadAll(Format::kCsv, Csv("1,2,a,1,pos,2024-01-01,x\n2,3,b,0,atm,2024-01-01,\"z\""));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1], "2,3,'b',false,atm,2024-01-01T00:00:00Z,'z'");
}

TEST(CsvSource, BlankLinesAreSkipped) {
  std::string input = Csv("\n1,2,a,1,pos,2024-01-01,x\n\r\n\n2,3,b,0,atm,2024-01-01,y\n\n");
  ReadResult r = ReadAll(Format::kCsv, input);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.rejects.empty());
  EXPECT_EQ(r.origins[0].line, 3u);
  EXPECT_EQ(r.origins[0].record, 1u);
  EXPECT_EQ(r.origins[1].line, 6u);
  EXPECT_EQ(r.origins[1].record, 2u);
  ExpectSameForAllChunks(input, r);
}

TEST(CsvSource, BlankLineIsARecordWithOneColumn) {
  std::vector<SourceField> fields = {{"s", Type::String(), true, TimestampFormat::kIso8601, 0}};
  ReadResult r = ReadAll(Format::kCsv, "s\na\n\nb\n", 1 << 20, {}, fields);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[1], "null");
}

TEST(CsvSource, TooLongRecordIsRejectedAndReadingResumes) {
  SourceOptions options;
  options.max_record_bytes = 40;
  std::string longrec = "1,2," + std::string(60, 'x') + ",1,pos,2024-01-01,x";
  std::string input = Csv("1,2,a,1,pos,2024-01-01,x\n" + longrec + "\n2,3,b,1,pos,2024-01-01,y\n");
  for (size_t chunk : {1, 3, 16, 1 << 20}) {
    ReadResult r = ReadAll(Format::kCsv, input, chunk, options);
    ASSERT_EQ(r.rows.size(), 2u) << chunk;
    ASSERT_EQ(r.rejects.size(), 1u) << chunk;
    EXPECT_EQ(r.rejects[0].reason, "record is longer than 40 bytes (max_record_bytes)");
    EXPECT_EQ(r.rejects[0].record, 2u);
    EXPECT_EQ(r.rejects[0].line, 3u);
    EXPECT_EQ(r.rejects[0].raw, longrec.substr(0, 40));
    EXPECT_EQ(r.origins[1].line, 4u) << chunk;
    EXPECT_EQ(r.origins[1].record, 3u);
  }
}

TEST(CsvSource, RecordOfExactlyMaxBytesIsAccepted) {
  SourceOptions options;
  std::string rec = "1,2,abcdefghijklmnopqrstuvwxyz,1,pos,2024-01-01,x";
  options.max_record_bytes = rec.size();
  for (const char* eol : {"\n", "\r\n", ""}) {
    ReadResult r = ReadAll(Format::kCsv, Csv(rec + eol), 1 << 20, options);
    EXPECT_EQ(r.rows.size(), 1u) << eol;
  }
}

TEST(CsvSource, HeaderOnlyAndEmpty) {
  ReadResult r = ReadAll(Format::kCsv, "id,amount,name,ok,channel,ts,note");
  EXPECT_TRUE(r.open.ok());
  EXPECT_TRUE(r.rows.empty());
  r = ReadAll(Format::kCsv, "");
  EXPECT_EQ(r.open.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(r.open.message(), "INPUT: input is empty: expected a header line");
  r = ReadAll(Format::kCsv, "\xEF\xBB\xBF");
  EXPECT_EQ(r.open.message(), "INPUT: input is empty: expected a header line");
}

TEST(CsvSource, HeaderErrors) {
  ReadResult r = ReadAll(Format::kCsv, "id,amount,name,ok,channel,ts,note,id\n");
  EXPECT_EQ(r.open.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(r.open.message(), "INPUT:1: duplicate column 'id' in the header (columns 1 and 8)");
  r = ReadAll(Format::kCsv, "id,amount,ok,channel,ts\n");
  EXPECT_EQ(r.open.message(),
            "INPUT:1: the header lacks schema fields 'name', 'note' (found columns: id, "
            "amount, ok, channel, ts)");
  r = ReadAll(Format::kCsv, "id,\"amo\"unt\n");
  EXPECT_EQ(r.open.message(),
            "INPUT:1: malformed header: column 2: unexpected character \"u\" after a "
            "closing quote (expected a delimiter or a line end)");
}

TEST(CsvSource, QuotedHeaderNamesAreUnescaped) {
  std::vector<SourceField> fields = {
      {"a \"b\"", Type::Int64(), false, TimestampFormat::kIso8601, 0}};
  ReadResult r = ReadAll(Format::kCsv, "\"a \"\"b\"\"\"\n5\n", 1 << 20, {}, fields);
  ASSERT_TRUE(r.open.ok()) << r.open.message();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0], "5");
}

TEST(CsvSource, OtherDelimiter) {
  SourceOptions options;
  options.delimiter = ';';
  ReadResult r =
      ReadAll(Format::kCsv, "id;amount;name;ok;channel;ts;note\n1;2,5;\"a;b\";1;pos;2024-01-01;x\n",
              1 << 20, options);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "field 'amount': expected float64, found \"2,5\"");
}

TEST(CsvSource, EpochTimestamps) {
  std::vector<SourceField> fields = {
      {"s", Type::Timestamp(), false, TimestampFormat::kEpochSeconds, 0},
      {"ms", Type::Timestamp(), false, TimestampFormat::kEpochMillis, 1}};
  ReadResult r = ReadAll(Format::kCsv, "s,ms\n1.5,1500\nx,1\n", 1 << 20, {}, fields);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0], "1970-01-01T00:00:01.500Z,1970-01-01T00:00:01.500Z");
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "field 's': expected a timestamp in epoch seconds, found \"x\"");
}

TEST(CsvSource, ManyRecordsAcrossBatchesAndChunks) {
  std::string input = kHeader;
  for (int i = 0; i < 500; ++i) {
    input += std::to_string(i) + "," + std::to_string(i) + ".5,\"n\"\"" + std::to_string(i) +
             "\",1,pos,2024-01-01,\"multi\nline\"\n";
  }
  ReadResult big = ReadAll(Format::kCsv, input, 1 << 20, {}, testing::TestFields(), 64);
  ASSERT_EQ(big.rows.size(), 500u);
  EXPECT_EQ(big.rows[499], "499,499.5,'n\"499',true,pos,2024-01-01T00:00:00Z,'multi\nline'");
  EXPECT_EQ(big.origins[499].line, 2u + 2 * 499);
  for (size_t chunk : {1, 13, 100}) {
    ReadResult r = ReadAll(Format::kCsv, input, chunk);
    EXPECT_EQ(r.rows, big.rows) << chunk;
  }
}

TEST(FieldDecoder, Numbers) {
  using internal::DecodeError;
  int64_t i = 0;
  EXPECT_EQ(internal::DecodeInt64("-9223372036854775808", &i), DecodeError::kOk);
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_EQ(internal::DecodeInt64("+42", &i), DecodeError::kOk);
  EXPECT_EQ(i, 42);
  EXPECT_EQ(internal::DecodeInt64("-", &i), DecodeError::kSyntax);
  EXPECT_EQ(internal::DecodeInt64("1 2", &i), DecodeError::kSyntax);
  EXPECT_EQ(internal::DecodeInt64("99999999999999999999999", &i), DecodeError::kOutOfRange);
  double d = 0;
  EXPECT_EQ(internal::DecodeFloat64("+1.5", &d), DecodeError::kOk);
  EXPECT_EQ(d, 1.5);
  EXPECT_EQ(internal::DecodeFloat64(".5", &d), DecodeError::kOk);
  EXPECT_EQ(internal::DecodeFloat64("+-1", &d), DecodeError::kSyntax);
  EXPECT_EQ(internal::DecodeFloat64("nan(0x1)", &d), DecodeError::kNotFinite);
  EXPECT_EQ(internal::DecodeFloat64("INF", &d), DecodeError::kNotFinite);
  EXPECT_EQ(internal::DecodeFloat64("0x10", &d), DecodeError::kSyntax);
  EXPECT_EQ(internal::DecodeFloat64("", &d), DecodeError::kSyntax);
  uint8_t b = 0;
  EXPECT_EQ(internal::DecodeBool("TrUe", &b), DecodeError::kOk);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(internal::DecodeBool("0", &b), DecodeError::kOk);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(internal::DecodeBool("2", &b), DecodeError::kSyntax);
}

}  // namespace
}  // namespace sluice::io
