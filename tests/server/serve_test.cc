// `sluice serve` as users run it: a child process on a free port, spoken to
// over HTTP with keep-alive. The decisions equal `sluice run`'s output byte
// for byte; bad requests are refused naming the field; tokens, limits,
// overload and SIGTERM behave as docs/serve.md says.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"
#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::ServeProcess;

// A small windowed pipeline with a model, reasons quoting values and an
// int64 feature that can overflow (a record error).
const char* kPipeline = R"(pipeline: cards
version: "7"
source:
  schema:
    txn_id:  {type: string, id: true}
    ts:      {type: timestamp, event_time: true}
    card_id: string
    amount:  {type: float64, nullable: true}
    channel: {type: enum, values: [pos, ecom, atm]}
    qty:     {type: int64, nullable: true}
features:
  txn_1h: count() over 1h by card_id
  amount_1h: sum(amount) over 1h by card_id
  qty_cubed: qty * qty * qty
models:
  risk:
    format: logistic
    link: logistic
    intercept: -3
    coefficients: {amount_1h: 0.004, txn_1h: 0.3}
decision:
  rules:
    - {id: velocity, when: txn_1h >= 3, action: decline, reason: VELOCITY}
    - {id: risky, when: risk.score >= 0.5, action: review, reason: RISK}
  default: approve
reason_codes:
  VELOCITY: "{txn_1h} payments on the card in the last hour"
  RISK: Risky
)";

std::string Event(const std::string& id, const std::string& ts, const std::string& card,
                  const std::string& amount = "10.5", const std::string& qty = "1") {
  return R"({"txn_id":")" + id + R"(","ts":")" + ts + R"(","card_id":")" + card + R"(","amount":)" +
         amount + R"(,"channel":"pos","qty":)" + qty + "}";
}

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    testing::WriteFile(dir_ / "p.yaml", kPipeline);
  }
  testing::CommandResult Sluice(const std::string& args) {
    return testing::RunShell("'" + testing::SluiceBinary() + "' " + args, dir_.string());
  }
  static httplib::Headers Json() { return {{"Accept", "application/json"}}; }
  fs::path dir_;
};

#define ASSERT_LISTENING(server) ASSERT_TRUE((server).listening()) << (server).log()

// The events of a CSV file (header first, no quoted cells) as JSON objects,
// `numeric` columns as numbers, the others as strings.
std::vector<std::string> CsvToJson(const std::string& csv,
                                   const std::vector<std::string>& numeric) {
  std::vector<std::string> out;
  std::istringstream in(csv);
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ss(s);
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    return cells;
  };
  std::getline(in, line);
  header = split(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split(line);
    std::string json = "{";
    for (size_t i = 0; i < header.size(); ++i) {
      if (i > 0) json += ',';
      json += "\"" + header[i] + "\":";
      const bool number = std::find(numeric.begin(), numeric.end(), header[i]) != numeric.end();
      json += number ? cells[i] : "\"" + cells[i] + "\"";
    }
    out.push_back(json + "}");
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The card-fraud example (its pipeline and model files, copied so that the
// test does not depend on the example's folder) over generated events.
class ServeCardFraud : public Serve {
 protected:
  void SetUp() override {
    Serve::SetUp();
    const fs::path example = fs::path(SLUICE_SOURCE_DIR) / "examples" / "card_fraud";
    for (const auto& e : fs::directory_iterator(example)) {
      const std::string ext = e.path().extension().string();
      if (ext == ".yaml" || ext == ".json") fs::copy_file(e.path(), dir_ / e.path().filename());
    }
  }
  void Generate(int events, int cards) {
    auto g = testing::RunShell(
        "/usr/bin/python3 '" +
            (fs::path(SLUICE_SOURCE_DIR) / "examples/card_fraud/generate.py").string() +
            "' --events " + std::to_string(events) + " --cards " + std::to_string(cards) +
            " --output events.csv",
        dir_.string());
    ASSERT_EQ(g.exit_code, 0) << g.output;
  }
};

TEST_F(ServeCardFraud, DecisionsEqualSluiceRunByteForByte) {
  Generate(5000, 500);
  auto run = Sluice("run card_fraud.yaml -i events.csv -o batch.jsonl -q");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string expected = testing::ReadFile(dir_ / "batch.jsonl");
  const std::vector<std::string> events =
      CsvToJson(testing::ReadFile(dir_ / "events.csv"), {"amount", "mcc"});
  ASSERT_EQ(events.size(), 5000u);

  {
    // One event per request, over one keep-alive connection.
    ServeProcess server(dir_, {"card_fraud.yaml", "--audit", "audit.jsonl"});
    ASSERT_LISTENING(server);
    auto client = server.Client();
    std::string served;
    for (size_t i = 0; i < events.size(); ++i) {
      auto res = client->Post("/v1/decide", events[i], "application/json");
      ASSERT_TRUE(res) << "event " << i << ": " << httplib::to_string(res.error());
      ASSERT_EQ(res->status, 200) << "event " << i << ": " << res->body;
      served += res->body;
    }
    EXPECT_TRUE(served == expected)
        << "first difference at byte "
        << std::mismatch(served.begin(), served.end(), expected.begin(), expected.end()).first -
               served.begin();
    EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }
  // Every decision is in the audit file and replays exactly.
  EXPECT_EQ(Lines(testing::ReadFile(dir_ / "audit.jsonl")).size(), 5000u);
  auto replay = Sluice("replay card_fraud.yaml --audit audit.jsonl");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_NE(replay.output.find("5000 decisions reproduced exactly, 0 differ"), std::string::npos)
      << replay.output;

  // Batches of 97 events: {"decisions":[...]} holds the same objects.
  ServeProcess server(dir_, {"card_fraud.yaml", "--batch-size", "64"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  const std::vector<std::string> lines = Lines(expected);
  for (size_t begin = 0; begin < events.size(); begin += 97) {
    const size_t end = std::min(events.size(), begin + 97);
    std::string body = "[", want = "{\"decisions\":[";
    for (size_t i = begin; i < end; ++i) {
      body += (i > begin ? "," : "") + events[i];
      want += (i > begin ? "," : "") + lines[i];
    }
    body += "]";
    want += "]}\n";
    auto res = client->Post("/v1/decide", body, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    ASSERT_TRUE(res->body == want) << "batch at event " << begin;
  }
}

TEST_F(ServeCardFraud, ConcurrentClientsAreDecidedInArrivalOrder) {
  // Every feature of the example is per card. With one event time for all
  // events, none is late; each client sends the events of its own cards in
  // file order, so each card's events reach the state in the order `sluice
  // run` has them, however the requests of the clients interleave.
  Generate(2000, 200);
  std::string csv = testing::ReadFile(dir_ / "events.csv");
  csv = std::regex_replace(csv, std::regex("20[0-9][0-9]-[0-9-]+T[0-9:.]+Z"),
                           "2026-03-01T12:00:00.000Z");
  testing::WriteFile(dir_ / "same_time.csv", csv);
  auto run = Sluice("run card_fraud.yaml -i same_time.csv -o batch.jsonl -q");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<std::string> lines = Lines(testing::ReadFile(dir_ / "batch.jsonl"));
  const std::vector<std::string> events = CsvToJson(csv, {"amount", "mcc"});
  ASSERT_EQ(lines.size(), events.size());

  ServeProcess server(dir_, {"card_fraud.yaml", "--threads", "8"});
  ASSERT_LISTENING(server);
  constexpr int kClients = 4;
  std::vector<std::vector<size_t>> mine(kClients);
  for (size_t i = 0; i < events.size(); ++i) {
    const size_t card = events[i].find("\"card_id\":\"c");
    mine[std::stoul(events[i].substr(card + 12, 6)) % kClients].push_back(i);
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = server.Client();
      for (size_t i : mine[static_cast<size_t>(c)]) {
        auto res = client->Post("/v1/decide", events[i], "application/json");
        if (!res || res->status != 200) {
          ++failures;
          continue;
        }
        if (res->body != lines[i] + "\n") ++mismatches;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  // Requests of several connections were decided together.
  auto metrics = server.Client()->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("sluice_decision_batch_events_count"), std::string::npos);
}

TEST_F(Serve, RefusesBadRequestsNamingTheField) {
  ServeProcess server(dir_, {"p.yaml", "--max-body", "4096"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  struct Case {
    std::string body;
    int status;
    std::string answer;
  };
  const Case cases[] = {
      {"{\"txn_id\":\"a\",", 400,
       R"({"error":{"status":400,"code":"invalid_json","message":"malformed JSON: )"},
      {R"({"txn_id":"a","ts":"2026-01-01T00:00:00Z","card_id":"c1","amount":"12","channel":"pos"})",
       400,
       R"({"error":{"status":400,"code":"invalid_field","message":"field 'amount': expected float64, found string \"12\"","field":"amount"}})"
       "\n"},
      {R"({"txn_id":"a","ts":"2026-01-01T00:00:00Z","amount":12,"channel":"pos"})", 400,
       R"({"error":{"status":400,"code":"invalid_field","message":"field 'card_id' is required but is null","field":"card_id"}})"
       "\n"},
      {R"({"txn_id":"a","ts":"2026-01-01T00:00:00Z","card_id":"c1","channel":"bank"})", 400,
       R"({"error":{"status":400,"code":"invalid_field","message":"field 'channel': 'bank' is not one of pos, ecom, atm","field":"channel"}})"
       "\n"},
      {"[" + Event("a", "2026-01-01T00:00:00Z", "c1") + R"(,{"txn_id":7}])", 400,
       R"({"error":{"status":400,"code":"invalid_field","message":"event 1: field 'txn_id': expected string, found number 7","field":"txn_id","event":1}})"
       "\n"},
      {"[]", 400,
       R"({"error":{"status":400,"code":"empty_batch","message":"the batch is empty: give at least one event"}})"
       "\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 80));
    auto res = client->Post("/v1/decide", c.body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status);
    EXPECT_EQ(res->body.rfind(c.answer, 0), 0u) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  }
  {
    // A body over --max-body, on a connection of its own (the server does
    // not read the rest of it).
    auto res = server.Client()->Post("/v1/decide", std::string(5000, ' '), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413);
    EXPECT_EQ(
        res->body,
        R"J({"error":{"status":413,"code":"too_large","message":"the request body is larger than 4096 bytes (--max-body)"}})J"
        "\n");
  }
  // Nothing of those reached the state: the first event is decided fresh.
  auto first =
      client->Post("/v1/decide", Event("a", "2026-01-01T00:00:00Z", "c1"), "application/json");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_NE(first->body.find("\"txn_1h\":1,"), std::string::npos) << first->body;

  // Unknown paths and wrong methods.
  auto missing = client->Get("/v2/decide");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(
      missing->body,
      R"J({"error":{"status":404,"code":"not_found","message":"no endpoint GET /v2/decide (see /openapi.json)"}})J"
      "\n");
  auto get_decide = client->Get("/v1/decide");
  ASSERT_TRUE(get_decide);
  EXPECT_EQ(get_decide->status, 405);
  EXPECT_EQ(get_decide->get_header_value("Allow"), "POST");
  auto post_metrics = client->Post("/metrics", "", "text/plain");
  ASSERT_TRUE(post_metrics);
  EXPECT_EQ(post_metrics->status, 405);
  EXPECT_EQ(post_metrics->get_header_value("Allow"), "GET, HEAD");
  auto bad_param = client->Post("/v1/decide?scores=maybe", Event("b", "2026-01-01T00:00:01Z", "c1"),
                                "application/json");
  ASSERT_TRUE(bad_param);
  EXPECT_EQ(bad_param->status, 400);
  EXPECT_NE(bad_param->body.find("query parameter 'scores'"), std::string::npos);
}

TEST_F(Serve, LateEventsAre409AndNotProcessed) {
  ServeProcess server(dir_, {"p.yaml"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  auto post = [&](const std::string& body) {
    auto res = client->Post("/v1/decide", body, "application/json");
    EXPECT_TRUE(res);
    return res ? *res : httplib::Response();
  };
  EXPECT_EQ(post(Event("a", "2026-01-01T10:00:07Z", "c1")).status, 200);
  // Equal times are fine: ties go in arrival order, as in batch.
  EXPECT_EQ(post(Event("b", "2026-01-01T10:00:07Z", "c1")).status, 200);
  auto late = post(Event("c", "2026-01-01T10:00:01Z", "c1"));
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(
      late.body,
      R"({"error":{"status":409,"code":"late_event","message":"late: event time 2026-01-01T10:00:01Z is before 2026-01-01T10:00:07Z, the newest event time already processed; windowed state moves in event-time order, so an older event cannot be decided any more","field":"ts"}})"
      "\n");
  // In a batch, the late event is answered in its place; the others are decided.
  auto batch = post("[" + Event("d", "2026-01-01T10:00:08Z", "c1") + "," +
                    Event("e", "2026-01-01T10:00:02Z", "c1") + "," +
                    Event("f", "2026-01-01T10:00:09Z", "c1") + "]");
  EXPECT_EQ(batch.status, 200);
  EXPECT_NE(
      batch.body.find(
          R"({"error":{"status":409,"code":"late_event","message":"late: event time 2026-01-01T10:00:02Z is before 2026-01-01T10:00:08Z)"),
      std::string::npos)
      << batch.body;
  EXPECT_NE(batch.body.find(R"("field":"ts","event":1}})"), std::string::npos) << batch.body;
  // The late events did not count: f is the card's fourth event in the hour.
  EXPECT_NE(batch.body.find(R"("txn_id":"f","ts":"2026-01-01T10:00:09Z","txn_1h":4,)"),
            std::string::npos)
      << batch.body;
  // A record error (int64 overflow) is 422 with the pipeline's reason.
  auto overflow = post(Event("g", "2026-01-01T10:00:10Z", "c2", "1", "3000000"));
  EXPECT_EQ(overflow.status, 422);
  EXPECT_NE(overflow.body.find(R"("code":"pipeline_error","message":")"), std::string::npos)
      << overflow.body;
  EXPECT_NE(overflow.body.find("overflow"), std::string::npos) << overflow.body;
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("sluice_late_events_total 2\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("sluice_pipeline_errors_total 1\n"), std::string::npos);
}

TEST_F(Serve, WithoutWindowsNothingIsLate) {
  testing::WriteFile(dir_ / "plain.yaml", R"(pipeline: plain
source:
  schema:
    id: {type: string, id: true}
    at: {type: timestamp, nullable: true}
    amount: float64
features:
  big: amount > 100
decision:
  rules:
    - {id: big, when: big, action: review, reason: BIG}
  default: approve
reason_codes:
  BIG: "Amount {amount:.2f} is large"
)");
  ServeProcess server(dir_, {"plain.yaml"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  auto first = client->Post("/v1/decide", R"({"id":"a","at":"2026-01-02","amount":250})",
                            "application/json");
  auto older = client->Post("/v1/decide",
                            R"([{"id":"b","at":"2026-01-01","amount":5},{"id":"c","amount":1e3}])",
                            "application/json");
  ASSERT_TRUE(first && older);
  EXPECT_EQ(
      first->body,
      R"({"id":"a","big":true,"action":"review","rule":"big","reasons":[{"code":"BIG","text":"Amount 250.00 is large"}]})"
      "\n");
  EXPECT_EQ(
      older->body,
      R"({"decisions":[{"id":"b","big":false,"action":"approve","rule":"default","reasons":[]},)"
      R"({"id":"c","big":true,"action":"review","rule":"big","reasons":[{"code":"BIG","text":"Amount 1000.00 is large"}]}]})"
      "\n");
  auto info = client->Get("/v1/pipeline");
  ASSERT_TRUE(info);
  EXPECT_NE(info->body.find(R"("windowed":false})"), std::string::npos) << info->body;
}

TEST_F(Serve, ScoresOnRequest) {
  ServeProcess server(dir_, {"p.yaml"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  auto plain = client->Post("/v1/decide", Event("a", "2026-01-01T00:00:00Z", "c1", "100"),
                            "application/json");
  auto scored = client->Post("/v1/decide?scores=true",
                             Event("a", "2026-01-01T00:00:00Z", "c9", "100"), "application/json");
  ASSERT_TRUE(plain && scored);
  EXPECT_EQ(plain->body.find("\"scores\""), std::string::npos);
  // The same event on a fresh card: the same object, then every model output.
  const std::string same = plain->body.substr(0, plain->body.size() - 2);
  EXPECT_EQ(scored->body.rfind(same + ",\"scores\":{\"risk.score\":", 0), 0u) << scored->body;
  EXPECT_NE(scored->body.find(",\"risk.margin\":-2.3"), std::string::npos) << scored->body;
  EXPECT_EQ(scored->body.substr(scored->body.size() - 3), "}}\n");
}

TEST_F(Serve, LargeBodiesAreJsonWhateverTheContentType) {
  // curl -d sends application/x-www-form-urlencoded: a 120-event batch of
  // about 12 KB must still be decided (and --max-body still applies).
  ServeProcess server(dir_, {"p.yaml", "--max-body", "20000"});
  ASSERT_LISTENING(server);
  std::string batch = "[";
  for (int i = 0; i < 120; ++i) {
    if (i > 0) batch += ",";
    batch += Event("e" + std::to_string(i), "2026-01-01T00:00:00Z", "c" + std::to_string(i));
  }
  batch += "]";
  ASSERT_GT(batch.size(), 10000u);  // beyond httplib's 8 KiB for forms
  for (const char* type : {"application/x-www-form-urlencoded", "application/json", "text/plain"}) {
    auto r = server.Client()->Post("/v1/decide", batch, type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << type << ": " << r->body.substr(0, 300);
  }
  std::string big = batch.substr(0, batch.size() - 1);
  while (big.size() < 20001) big += "," + Event("z", "2026-01-01T00:00:00Z", "c1");
  auto r = server.Client()->Post("/v1/decide", big + "]", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 300);
  EXPECT_NE(r->body.find("\"code\":\"too_large\""), std::string::npos);
}

TEST_F(Serve, BearerTokenGuardsAllButHealth) {
  testing::WriteFile(dir_ / "token", "s3cret-token\n");
  ServeProcess server(dir_, {"p.yaml", "--token-file", "token"});
  ASSERT_LISTENING(server);
  auto anonymous = server.Client();
  auto wrong = server.Client();
  wrong->set_bearer_token_auth("s3cret-tokem");
  auto right = server.Client();
  right->set_bearer_token_auth("s3cret-token");
  const std::string event = Event("a", "2026-01-01T00:00:00Z", "c1");
  for (const char* path : {"/v1/pipeline", "/metrics", "/openapi.json"}) {
    SCOPED_TRACE(path);
    auto a = anonymous->Get(path);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 401);
    EXPECT_EQ(a->get_header_value("WWW-Authenticate"), "Bearer realm=\"sluice\"");
    auto w = wrong->Get(path);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->status, 401);
    EXPECT_NE(w->body.find("the bearer token is wrong"), std::string::npos);
    auto r = right->Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  auto a = anonymous->Post("/v1/decide", event, "application/json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 401);
  auto r = right->Post("/v1/decide", event, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  for (const char* path : {"/healthz", "/readyz"}) {
    auto h = anonymous->Get(path);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200) << path;
  }
  // Admin endpoints need the token.
  auto admin_anonymous = anonymous->Post("/admin/reload", "", "application/json");
  ASSERT_TRUE(admin_anonymous);
  EXPECT_EQ(admin_anonymous->status, 401);
  auto admin = right->Post("/admin/reload", "", "application/json");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 200) << admin->body;
  EXPECT_NE(admin->body.find("\"status\":\"reloaded\""), std::string::npos) << admin->body;
  auto unknown = right->Post("/admin/nothing", "", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(Serve, AdminEndpointsAreRefusedWithoutATokenFile) {
  ServeProcess server(dir_, {"p.yaml"});
  ASSERT_LISTENING(server);
  auto res = server.Client()->Post("/admin/reload", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find("--token-file"), std::string::npos);
}

TEST_F(Serve, BadOptionsAndAnEmptyTokenFileAreRefused) {
  testing::WriteFile(dir_ / "empty", "\n");
  auto empty = Sluice("serve p.yaml --token-file empty --listen 127.0.0.1:0");
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("the token file empty is empty"), std::string::npos);
  auto listen = Sluice("serve p.yaml --listen localhost");
  EXPECT_EQ(listen.exit_code, 2) << listen.output;
  EXPECT_NE(listen.output.find("--listen expects HOST:PORT"), std::string::npos);
  testing::WriteFile(dir_ / "bad.yaml", "pipeline: x\nsource: {schema: {a: nope}}\n");
  auto bad = Sluice("serve bad.yaml --listen 127.0.0.1:0");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
}

TEST_F(Serve, OverloadAnswers503WithRetryAfter) {
  // The decision thread sleeps 800 ms before each round, and the queue
  // holds two events: of six requests at once, some find it full.
  ServeProcess server(dir_, {"p.yaml", "--queue", "2", "--test-decision-delay-ms", "800",
                             "--timeout-ms", "10000", "--threads", "8"});
  ASSERT_LISTENING(server);
  constexpr int kRequests = 6;
  std::vector<int> status(kRequests);
  std::vector<std::string> retry_after(kRequests), body(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      auto res = server.Client()->Post(
          "/v1/decide",
          Event("e" + std::to_string(i), "2026-01-01T00:00:00Z", "c" + std::to_string(i)),
          "application/json");
      if (!res) return;
      status[static_cast<size_t>(i)] = res->status;
      retry_after[static_cast<size_t>(i)] = res->get_header_value("Retry-After");
      body[static_cast<size_t>(i)] = res->body;
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, overloaded = 0;
  for (int i = 0; i < kRequests; ++i) {
    const size_t k = static_cast<size_t>(i);
    if (status[k] == 200) ++ok;
    if (status[k] == 503) {
      ++overloaded;
      EXPECT_EQ(retry_after[k], "1");
      EXPECT_NE(body[k].find(R"("code":"overloaded")"), std::string::npos) << body[k];
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(overloaded, 1);
  EXPECT_EQ(ok + overloaded, kRequests);
  auto metrics = server.Client()->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("sluice_overload_total{reason=\"queue_full\"} " +
                               std::to_string(overloaded) + "\n"),
            std::string::npos)
      << metrics->body;
}

TEST_F(Serve, TimedOutRequestsAreNotProcessed) {
  ServeProcess server(dir_, {"p.yaml", "--test-decision-delay-ms", "500", "--timeout-ms", "100"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  auto res =
      client->Post("/v1/decide", Event("a", "2026-01-01T00:00:05Z", "c1"), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_NE(res->body.find(R"("code":"timeout")"), std::string::npos) << res->body;
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the round that skips it
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("sluice_decisions_total{action=\"approve\"} 0\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("sluice_overload_total{reason=\"timeout\"} 1\n"), std::string::npos);
}

TEST_F(Serve, PipelineInfoMetricsAndOpenApi) {
  ServeProcess server(dir_, {"p.yaml"});
  ASSERT_LISTENING(server);
  auto client = server.Client();
  for (int i = 0; i < 5; ++i) {
    auto res = client->Post(
        "/v1/decide",
        Event("t" + std::to_string(i), "2026-01-01T00:00:0" + std::to_string(i) + "Z", "c1"),
        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  auto bad = client->Post("/v1/decide", "{", "application/json");
  ASSERT_TRUE(bad);

  auto info = client->Get("/v1/pipeline");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  const std::regex head(
      R"(^\{"name":"cards","version":"7","content_hash":"[0-9a-f]{16}","file":"p.yaml","fields":\[)");
  EXPECT_TRUE(std::regex_search(info->body, head)) << info->body;
  EXPECT_NE(
      info->body.find(
          R"({"name":"channel","type":"enum","values":["pos","ecom","atm"],"nullable":false})"),
      std::string::npos)
      << info->body;
  EXPECT_NE(
      info->body.find(
          R"("features":["txn_1h","amount_1h","qty_cubed"],"models":[{"name":"risk","format":"logistic"}],"policies":[{"name":"champion","role":"champion","kind":"rules","actions":["decline","review","approve"]}])"),
      std::string::npos)
      << info->body;
  EXPECT_NE(info->body.find(R"("windowed":true})"), std::string::npos) << info->body;

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line : {
           "sluice_http_requests_total{code=\"200\",handler=\"decide\"} 5\n",
           "sluice_http_requests_total{code=\"400\",handler=\"decide\"} 1\n",
           "sluice_http_requests_total{code=\"200\",handler=\"pipeline\"} 1\n",
           "sluice_http_request_duration_seconds_count{handler=\"decide\"} 6\n",
           "sluice_http_request_duration_seconds_bucket{handler=\"decide\",le=\"0.001\"} ",
           "sluice_decisions_total{action=\"approve\"} 2\n",
           "sluice_decisions_total{action=\"decline\"} 3\n",
           "sluice_rejected_inputs_total{reason=\"invalid_json\"} 1\n",
           "sluice_late_events_total 0\n",
           "sluice_live_keys 1\n",
           "sluice_queued_events 0\n",
           "# TYPE sluice_decision_batch_events histogram\n",
           "sluice_pipeline_info{content_hash=\"",
       }) {
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << "\n" << metrics->body;
  }

  auto openapi = client->Get("/openapi.json");
  ASSERT_TRUE(openapi);
  EXPECT_EQ(openapi->status, 200);
  EXPECT_EQ(openapi->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(openapi->body ==
              testing::ReadFile(fs::path(SLUICE_SOURCE_DIR) / "docs" / "openapi.json"));

  auto health = client->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "{\"status\":\"ok\"}\n");
  auto ready = client->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->body, "{\"status\":\"ready\",\"pipeline\":\"cards\"}\n");
}

TEST_F(Serve, SigtermFinishesTheRequestsInFlight) {
  ServeProcess server(dir_, {"p.yaml", "--test-decision-delay-ms", "600"});
  ASSERT_LISTENING(server);
  int status = 0;
  std::string body;
  std::thread request([&] {
    auto res = server.Client()->Post("/v1/decide", Event("a", "2026-01-01T00:00:00Z", "c1"),
                                     "application/json");
    if (res) {
      status = res->status;
      body = res->body;
    }
  });
  // Wait until the request waits in the queue (the decision thread sleeps).
  auto observer = server.Client();
  for (int i = 0; i < 250; ++i) {
    auto m = observer->Get("/metrics");
    if (m && m->body.find("\nsluice_queued_events 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  observer.reset();
  const int port = server.port();
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  request.join();
  EXPECT_EQ(status, 200) << body;
  EXPECT_NE(body.find("\"txn_id\":\"a\""), std::string::npos) << body;
  EXPECT_NE(server.log().find("SIGTERM: finishing the requests in flight"), std::string::npos);
  // Nothing listens any more.
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1, 0);
  EXPECT_FALSE(after.Get("/healthz"));
}

}  // namespace
}  // namespace sluice
