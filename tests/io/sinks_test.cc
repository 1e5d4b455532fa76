#include "io/internal/sinks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "io/internal/text.h"
#include "io_test_util.h"

namespace sluice::io {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(SLUICE_BINARY_DIR) + "/io_test_" + std::to_string(::getpid()) + "_" + name;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A batch with one row per test value; columns of every type.
struct Fixture {
  std::vector<SourceField> fields = testing::TestFields();
  BatchLayout layout = testing::LayoutFor(fields);
  Batch batch{layout, 8};

  void Row(int64_t id, double amount, std::string_view name, bool ok, int32_t channel, int64_t ts,
           std::optional<std::string_view> note) {
    size_t r = batch.AppendRow();
    auto set = [&](int c) { batch.column(c).valid()[r] = 1; };
    batch.column(0).data<int64_t>()[r] = id, set(0);
    batch.column(1).data<double>()[r] = amount, set(1);
    batch.column(2).data<std::string_view>()[r] = batch.arena().Copy(name), set(2);
    batch.column(3).data<uint8_t>()[r] = ok, set(3);
    batch.column(4).data<int32_t>()[r] = channel, set(4);
    batch.column(5).data<int64_t>()[r] = ts, set(5);
    if (note) {
      batch.column(6).data<std::string_view>()[r] = batch.arena().Copy(*note), set(6);
    } else {
      batch.column(6).valid()[r] = 0;
    }
  }
  std::vector<OutputColumn> Columns() {
    std::vector<OutputColumn> out;
    for (const SourceField& f : fields)
      out.push_back({f.name, OutputColumn::Kind::kValue, f.column});
    return out;
  }
};

TEST(FormatFloat64, ShortestRoundTrip) {
  char buf[40];
  auto f = [&](double v) { return std::string(buf, internal::FormatFloat64(v, buf)); };
  EXPECT_EQ(f(1), "1.0");
  EXPECT_EQ(f(-0.0), "-0.0");
  EXPECT_EQ(f(0.1), "0.1");
  EXPECT_EQ(f(1e300), "1e+300");
  EXPECT_EQ(f(123456789012.0), "123456789012.0");
  EXPECT_EQ(f(2.5e-8), "2.5e-08");
}

TEST(CsvSink, FormatsEveryTypeAndQuotesOnlyWhenNeeded) {
  Fixture fx;
  fx.Row(1, 2.0, "plain", true, 0, 1'709'296'200'000'000'000, "a,b");
  fx.Row(-5, 0.25, "", false, 2, 500'000'000, std::nullopt);
  fx.Row(3, 1e21, "say \"hi\"\nthere", true, 1, 1, "cr\r");
  fx.batch.SetRowError(2, 7);
  fx.Row(4, 1.5, "x", true, 1, 0, "ok");
  std::string path = TempPath("out.csv");
  auto sink = RecordSink::Open(path, Format::kCsv, fx.Columns());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(fx.batch).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->records_written(), 3u);
  EXPECT_EQ(Slurp(path),
            "id,amount,name,ok,channel,ts,note\n"
            "1,2.0,plain,true,pos,2024-03-01T12:30:00Z,\"a,b\"\n"
            "-5,0.25,\"\",false,atm,1970-01-01T00:00:00.500Z,\n"
            "4,1.5,x,true,ecom,1970-01-01T00:00:00Z,ok\n");
  std::remove(path.c_str());
}

// The CSV writer's quoting (which scans 8 bytes at a time) against the
// rule written plainly: quote when empty or holding ',', '"', CR or LF, and
// double inner quotes. Strings of many lengths, a special byte anywhere,
// and reasons whose joined text needs quotes or is empty.
TEST(CsvSink, QuotesStringsAndReasonsLikeTheReferenceRule) {
  auto reference = [](std::string_view s) {
    bool quote = s.empty() || s.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!quote) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
      out += c;
      if (c == '"') out += '"';
    }
    return out + "\"";
  };
  std::vector<std::string> names;
  for (size_t length = 0; length < 20; ++length) {
    names.push_back(std::string(length, 'a'));
    for (size_t at = 0; at < length; ++at) {
      for (char special : {',', '"', '\r', '\n', '\x80', '|'}) {
        std::string s(length, 'b');
        s[at] = special;
        names.push_back(s);
      }
    }
  }
  std::vector<std::string> codes = {"", "A", "B,C", "D\"E", "F"};
  std::vector<std::string> texts;
  for (const std::string& c : codes) texts.push_back(c + " text");
  Fixture fx;
  auto set_reasons = [&] {
    fx.batch.reasons().clear();
    for (size_t k = 0; k < codes.size(); ++k) fx.batch.reasons().push_back({codes[k], texts[k]});
  };
  set_reasons();
  std::string path = TempPath("quotes.csv");
  auto sink = RecordSink::Open(path, Format::kCsv,
                               {{"name", OutputColumn::Kind::kValue, 2},
                                {"codes", OutputColumn::Kind::kReasonCodes, -1},
                                {"texts", OutputColumn::Kind::kReasonTexts, -1}});
  ASSERT_TRUE(sink.ok());
  std::string expected = "name,codes,texts\n";
  for (size_t i = 0; i < names.size(); ++i) {
    if (fx.batch.full()) {
      ASSERT_TRUE((*sink)->Write(fx.batch).ok());
      fx.batch.Clear();
      set_reasons();
    }
    size_t row = fx.batch.size();
    fx.Row(0, 0, names[i], true, 0, 0, std::nullopt);
    // Reasons [begin, begin + count) of the codes above, cycling through all spans.
    uint32_t begin = static_cast<uint32_t>(i % codes.size());
    uint32_t count = static_cast<uint32_t>((i / codes.size()) % (codes.size() - begin + 1));
    fx.batch.reason_begin()[row] = begin;
    fx.batch.reason_count()[row] = count;
    std::string joined_codes, joined_texts;
    for (uint32_t k = begin; k < begin + count; ++k) {
      if (k > begin) joined_codes += "|", joined_texts += " | ";
      joined_codes += codes[k];
      joined_texts += texts[k];
    }
    expected += reference(names[i]) + "," + (joined_codes.empty() ? "" : reference(joined_codes)) +
                "," + (joined_texts.empty() ? "" : reference(joined_texts)) + "\n";
  }
  ASSERT_TRUE((*sink)->Write(fx.batch).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(Slurp(path), expected);
  std::remove(path.c_str());
}

TEST(JsonlSink, FormatsEveryTypeAndEscapes) {
  Fixture fx;
  fx.Row(1, 2.0, "q\"\\\n\x01\xff", true, 0, 0, std::nullopt);
  std::string path = TempPath("out.jsonl");
  auto sink = RecordSink::Open(path, Format::kJsonl, fx.Columns());
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(fx.batch).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(Slurp(path),
            "{\"id\":1,\"amount\":2.0,\"name\":\"q\\\"\\\\\\u000a\\u0001\xEF\xBF\xBD\",\"ok\":true,"
            "\"channel\":\"pos\",\"ts\":\"1970-01-01T00:00:00Z\",\"note\":null}\n");
  std::remove(path.c_str());
}

TEST(Sinks, Reasons) {
  Fixture fx;
  fx.Row(1, 1, "a", true, 0, 0, "n");
  fx.Row(2, 1, "b", true, 0, 0, "n");
  fx.batch.reasons() = {{"VELOCITY", "Too many, too fast"}, {"AMT", "Amount \"high\""}};
  fx.batch.reason_begin()[0] = 0;
  fx.batch.reason_count()[0] = 2;
  fx.batch.reason_count()[1] = 0;
  std::vector<OutputColumn> cols = {{"id", OutputColumn::Kind::kValue, 0},
                                    {"codes", OutputColumn::Kind::kReasonCodes, -1},
                                    {"texts", OutputColumn::Kind::kReasonTexts, -1},
                                    {"reasons", OutputColumn::Kind::kReasons, -1}};
  std::string csv = TempPath("r.csv"), jsonl = TempPath("r.jsonl");
  {
    auto sink = RecordSink::Open(csv, Format::kCsv, cols);
    ASSERT_TRUE((*sink)->Write(fx.batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  {
    auto sink = RecordSink::Open(jsonl, Format::kJsonl, cols);
    ASSERT_TRUE((*sink)->Write(fx.batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(Slurp(csv),
            "id,codes,texts,reasons\n"
            "1,VELOCITY|AMT,\"Too many, too fast | Amount \"\"high\"\"\",VELOCITY|AMT\n"
            "2,,,\n");
  EXPECT_EQ(Slurp(jsonl),
            "{\"id\":1,\"codes\":[\"VELOCITY\",\"AMT\"],\"texts\":[\"Too many, too fast\","
            "\"Amount \\\"high\\\"\"],\"reasons\":[{\"code\":\"VELOCITY\",\"text\":\"Too many, "
            "too fast\"},{\"code\":\"AMT\",\"text\":\"Amount \\\"high\\\"\"}]}\n"
            "{\"id\":2,\"codes\":[],\"texts\":[],\"reasons\":[]}\n");
  std::remove(csv.c_str());
  std::remove(jsonl.c_str());
}

TEST(Sinks, WriteErrorsAreReported) {
  // /dev/full (writes fail with ENOSPC) is part of every Linux system.
  ASSERT_EQ(::access("/dev/full", W_OK), 0) << "no writable /dev/full";
  Fixture fx;
  for (int i = 0; i < 8; ++i) fx.Row(i, 1, std::string(200000, 'x'), true, 0, 0, "n");
  auto sink = RecordSink::Open("/dev/full", Format::kCsv, fx.Columns());
  ASSERT_TRUE(sink.ok());
  Status w = (*sink)->Write(fx.batch);
  Status c = (*sink)->Close();
  EXPECT_FALSE(w.ok() && c.ok());
  const Status& bad = w.ok() ? c : w;
  EXPECT_EQ(bad.code(), StatusCode::kIoError);
  EXPECT_EQ(bad.message(), "cannot write /dev/full: No space left on device");
  auto missing = RecordSink::Open("/nonexistent/dir/out.csv", Format::kCsv, fx.Columns());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
}

// Write -> read gives back the same values, for both formats.
TEST(Sinks, RoundTrip) {
  Fixture fx;
  fx.Row(INT64_MIN, 0.1, "a,b \"c\"\nd", true, 0, 1'709'296'200'123'456'789, std::nullopt);
  fx.Row(INT64_MAX, -1e-300, "", false, 2, -1'000'000'000, "");
  fx.Row(0, 123456.789, "caf\xC3\xA9 \x01", true, 1, 0, "x");
  for (Format format : {Format::kCsv, Format::kJsonl}) {
    std::string path = TempPath(format == Format::kCsv ? "rt.csv" : "rt.jsonl");
    {
      auto sink = RecordSink::Open(path, format, fx.Columns());
      ASSERT_TRUE((*sink)->Write(fx.batch).ok());
      ASSERT_TRUE((*sink)->Close().ok());
    }
    auto source = RecordSource::Open(path, format, fx.fields, {});
    ASSERT_TRUE(source.ok()) << source.status().message();
    Batch back(fx.layout, 8);
    testing::CollectRejects rejects;
    ASSERT_TRUE((*source)->Fill(back, rejects).ok());
    EXPECT_TRUE(rejects.all.empty()) << rejects.all[0].reason;
    ASSERT_EQ(back.size(), 3u);
    for (size_t row = 0; row < 3; ++row) {
      for (int c = 0; c < 7; ++c) {
        EXPECT_EQ(testing::ValueText(back.column(c), row),
                  testing::ValueText(fx.batch.column(c), row))
            << "row " << row << " column " << c;
      }
    }
    std::remove(path.c_str());
  }
}

TEST(ResolveFormat, FlagsAndExtensions) {
  EXPECT_EQ(*ResolveFormat("x.csv", ""), Format::kCsv);
  EXPECT_EQ(*ResolveFormat("x.CSV", ""), Format::kCsv);
  EXPECT_EQ(*ResolveFormat("x.jsonl", ""), Format::kJsonl);
  EXPECT_EQ(*ResolveFormat("x.ndjson", ""), Format::kJsonl);
  EXPECT_EQ(*ResolveFormat("x.json", ""), Format::kJsonl);
  EXPECT_EQ(*ResolveFormat("-", "ndjson"), Format::kJsonl);
  EXPECT_EQ(*ResolveFormat("x.jsonl", "csv"), Format::kCsv);
  EXPECT_EQ(ResolveFormat("-", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveFormat("x.txt", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveFormat("x.csv", "xml").status().message(),
            "unknown format 'xml': expected csv or jsonl (also json, ndjson)");
}

TEST(DeadLetterFile, CreatedOnFirstRejectionWithExactRawBytes) {
  std::string path = TempPath("dead.jsonl");
  std::remove(path.c_str());
  {
    DeadLetterFile dl(path);
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
    Rejection r{3, 4, "amount", "field 'amount': expected float64, found \"x\"", "1,x\t,\"q\""};
    dl.Reject(r);
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
    Rejection bad{5, 9, "", "invalid UTF-8",
                  std::string_view("a\xff"
                                   "b",
                                   3)};
    dl.Reject(bad);
    std::string big(70000, 'z');
    Rejection long_raw{6, 10, "", "too long", big};
    dl.Reject(long_raw);
    EXPECT_EQ(dl.count(), 3u);
    ASSERT_TRUE(dl.Close().ok());
  }
  std::string text = Slurp(path);
  std::string first = text.substr(0, text.find('\n'));
  EXPECT_EQ(first,
            "{\"record\":3,\"line\":4,\"field\":\"amount\",\"reason\":\"field 'amount': expected "
            "float64, found \\\"x\\\"\",\"raw\":\"1,x\\u0009,\\\"q\\\"\"}");
  std::string second =
      text.substr(first.size() + 1, text.find('\n', first.size() + 1) - first.size() - 1);
  EXPECT_EQ(
      second,
      "{\"record\":5,\"line\":9,\"field\":\"\",\"reason\":\"invalid UTF-8\",\"raw\":\"a\xEF\xBF\xBD"
      "b\",\"raw_base64\":\"Yf9i\"}");
  std::string third = text.substr(first.size() + second.size() + 2);
  EXPECT_EQ(third, "{\"record\":6,\"line\":10,\"field\":\"\",\"reason\":\"too long\",\"raw\":\"" +
                       std::string(65536, 'z') + "\",\"raw_truncated\":true}\n");
  std::remove(path.c_str());
}

TEST(DeadLetterFile, NoRejectionNoFile) {
  std::string path = TempPath("none.jsonl");
  std::remove(path.c_str());
  {
    DeadLetterFile dl(path);
    EXPECT_TRUE(dl.Close().ok());
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(Text, Base64AndUtf8) {
  std::string out;
  internal::AppendBase64("Man", out);
  internal::AppendBase64("Ma", out);
  internal::AppendBase64("M", out);
  EXPECT_EQ(out, "TWFuTWE=TQ==");
  EXPECT_TRUE(internal::IsValidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(internal::IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(internal::IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(internal::IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(internal::IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_EQ(internal::Utf8Prefix("a\xC3\xA9", 2), "a");
  EXPECT_EQ(internal::Excerpt(std::string(50, 'a')), "\"" + std::string(40, 'a') + "...\"");
}

}  // namespace
}  // namespace sluice::io
