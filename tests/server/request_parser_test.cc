// DecideRequestParser: one event or a batch, decoded with the JSON Lines
// typing rules; every refusal names the event, the field and the reason.

#include "server/request_parser.h"

#include <gtest/gtest.h>

#include "io/record_io.h"
#include "types/timestamp.h"

namespace sluice::server {
namespace {

std::vector<io::SourceField> Fields() {
  auto channel = std::make_shared<EnumDomain>(std::vector<std::string>{"pos", "ecom", "atm"});
  std::vector<io::SourceField> f = {
      {"id", Type::String(), false, TimestampFormat::kIso8601, 7},
      {"ts", Type::Timestamp(), false, TimestampFormat::kIso8601, 3},
      {"amount", Type::Float64(), true, TimestampFormat::kIso8601, 1},
      {"qty", Type::Int64(), false, TimestampFormat::kIso8601, 0},
      {"channel", Type::Enum(channel), false, TimestampFormat::kIso8601, 2},
      {"ok", Type::Bool(), true, TimestampFormat::kIso8601, 5},
  };
  return f;
}

constexpr char kEvent[] =
    R"({"id":"a1","ts":"2026-01-02T03:04:05Z","amount":12.5,"qty":3,"channel":"ecom","ok":true})";

TEST(DecideRequestParser, OneEvent) {
  DecideRequestParser parser(Fields(), 10);
  DecideRequest r;
  ASSERT_EQ(parser.Parse(kEvent, &r), std::nullopt);
  ASSERT_FALSE(r.is_batch);
  ASSERT_EQ(r.events->size(), 1u);
  const Batch& b = *r.events;
  // Field i is in column i, whatever the `column` of the given fields.
  EXPECT_EQ(b.column(0).data<std::string_view>()[0], "a1");
  EXPECT_EQ(FormatIso8601(b.column(1).data<int64_t>()[0]), "2026-01-02T03:04:05Z");
  EXPECT_EQ(b.column(2).data<double>()[0], 12.5);
  EXPECT_EQ(b.column(3).data<int64_t>()[0], 3);
  EXPECT_EQ(b.column(4).data<int32_t>()[0], 1);
  EXPECT_EQ(b.column(5).data<uint8_t>()[0], 1);
  EXPECT_EQ(b.origin(0).raw, kEvent);
}

TEST(DecideRequestParser, BatchKeepsOrderAndIgnoresUnknownKeys) {
  DecideRequestParser parser(Fields(), 10);
  DecideRequest r;
  const std::string body =
      " [ {\"id\":\"x\",\"ts\":\"2026-01-01\",\"qty\":1,\"channel\":\"pos\",\"label\":[1,{}]},\n"
      "   {\"qty\":2,\"channel\":\"atm\",\"id\":\"y\",\"ts\":\"2026-01-03\",\"amount\":null} ] \n";
  ASSERT_EQ(parser.Parse(body, &r), std::nullopt);
  ASSERT_TRUE(r.is_batch);
  ASSERT_EQ(r.events->size(), 2u);
  EXPECT_EQ(r.events->column(0).data<std::string_view>()[0], "x");
  EXPECT_EQ(r.events->column(0).data<std::string_view>()[1], "y");
  EXPECT_FALSE(r.events->column(2).is_valid(0));  // missing nullable: null
  EXPECT_FALSE(r.events->column(2).is_valid(1));  // null
  EXPECT_EQ(r.events->column(4).data<int32_t>()[1], 2);
  EXPECT_EQ(r.events->origin(1).raw,
            R"({"qty":2,"channel":"atm","id":"y","ts":"2026-01-03","amount":null})");
}

TEST(DecideRequestParser, ParserIsReusable) {
  DecideRequestParser parser(Fields(), 10);
  for (int i = 0; i < 3; ++i) {
    DecideRequest bad, good;
    EXPECT_NE(parser.Parse(R"({"id":1})", &bad), std::nullopt);
    EXPECT_EQ(parser.Parse(kEvent, &good), std::nullopt);
    EXPECT_EQ(parser.Parse(std::string("[") + kEvent + "," + kEvent + "]", &good), std::nullopt);
    EXPECT_EQ(good.events->size(), 2u);
  }
}

struct RefusalCase {
  std::string body;
  int status;
  const char* code;
  const char* field;
  int64_t event;
  const char* message;
};

TEST(DecideRequestParser, RefusalsNameTheEventTheFieldAndTheReason) {
  const std::string e = kEvent;
  const RefusalCase cases[] = {
      {"", 400, "invalid_json", "", -1,
       "the request body is empty: expected one event (a JSON object) or a batch (a JSON array of "
       "objects)"},
      {" \n", 400, "invalid_json", "", -1, "the request body is empty"},
      {"{\"id\":\"a\",", 400, "invalid_json", "", -1, "malformed JSON: "},
      {"{\"id\":\"a\"} x", 400, "invalid_json", "", -1, "malformed JSON"},
      {"\"text\"", 400, "invalid_json", "", -1, "expected a JSON object, found a string"},
      {"nul", 400, "invalid_json", "", -1, "malformed JSON"},
      {"{\"id\":\"a\xff\"}", 400, "invalid_json", "", -1, "the request body is not valid UTF-8"},
      {R"({"id":"a","id":"b"})", 400, "invalid_json", "id", -1, "duplicate key \"id\""},
      {R"({"id":"a","ts":"2026-01-02T03:04:05Z","amount":"12","qty":1,"channel":"pos"})", 400,
       "invalid_field", "amount", -1, "field 'amount': expected float64, found string \"12\""},
      {R"({"id":"a","ts":"2026-01-02T03:04:05Z","qty":1.5,"channel":"pos"})", 400, "invalid_field",
       "qty", -1, "field 'qty': expected int64, found number 1.5"},
      {R"({"id":"a","ts":"yesterday","qty":1,"channel":"pos"})", 400, "invalid_field", "ts", -1,
       "field 'ts': expected an ISO-8601 timestamp, found \"yesterday\""},
      {R"({"id":"a","ts":"2026-01-02","qty":1,"channel":"shop"})", 400, "invalid_field", "channel",
       -1, "field 'channel': 'shop' is not one of pos, ecom, atm"},
      {R"({"id":"a","ts":"2026-01-02","channel":"pos"})", 400, "invalid_field", "qty", -1,
       "field 'qty' is required but is null"},
      {R"({"id":null,"ts":"2026-01-02","qty":1,"channel":"pos"})", 400, "invalid_field", "id", -1,
       "field 'id' is required but is null"},
      {R"({"id":"a","ts":"2026-01-02","qty":1,"channel":"pos","ok":1})", 400, "invalid_field", "ok",
       -1, "field 'ok': expected bool (true or false), found number 1"},
      {"[]", 400, "empty_batch", "", -1, "the batch is empty"},
      {"[" + e + "," + e + "," + e + "]", 413, "too_many_events", "", -1,
       "the batch holds 3 events; a request holds at most 2"},
      {"[" + e + ",3]", 400, "invalid_json", "", 1,
       "event 1: expected a JSON object, found a number"},
      {"[" + e + ",[]]", 400, "invalid_json", "", 1,
       "event 1: expected a JSON object, found an array"},
      {"[" + e + R"(,{"id":"a","ts":"2026-01-02","qty":"7","channel":"pos"}])", 400,
       "invalid_field", "qty", 1, "event 1: field 'qty': expected int64, found string \"7\""},
      {"[" + e + "," + e, 400, "invalid_json", "", -1, "malformed JSON in the request body"},
      {"[" + e + "] x", 400, "invalid_json", "", -1, "malformed JSON in the request body"},
      {"[" + e + ",]", 400, "invalid_json", "", -1, "malformed JSON in the request body"},
  };
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.body);
    DecideRequestParser parser(Fields(), 2);
    DecideRequest r;
    std::optional<RequestError> error = parser.Parse(c.body, &r);
    ASSERT_NE(error, std::nullopt);
    EXPECT_EQ(error->status, c.status);
    EXPECT_EQ(error->code, c.code);
    EXPECT_EQ(error->field, c.field);
    EXPECT_EQ(error->event, c.event);
    EXPECT_EQ(error->message.rfind(c.message, 0), 0u) << error->message;
    EXPECT_EQ(r.events, nullptr);
  }
}

}  // namespace
}  // namespace sluice::server
