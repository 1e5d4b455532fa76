// Hot reload of `sluice serve` (POST /admin/reload and SIGHUP): a valid new
// pipeline is swapped in between batches and keeps the windowed state of
// the aggregates it still defines the same way; an invalid one is refused
// with its errors while the old one keeps serving; under load, no request
// fails because of a reload. Also --stamp-time.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"
#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::ServeProcess;

// {RULE} and {EXTRA} are replaced to make versions of the pipeline.
const char* kTemplate = R"(pipeline: cards
version: "{VERSION}"
source:
  schema:
    txn_id:  {type: string, id: true}
    ts:      {type: timestamp, event_time: true}
    card_id: string
    amount:  {type: float64, nullable: true}
{FIELDS}features:
  txn_1h: count() over 1h by card_id
  amount_1h: sum(amount) over {WINDOW} by card_id
{EXTRA}decision:
  rules:
    - {id: velocity, when: txn_1h >= {LIMIT}, action: decline, reason: VELOCITY}
  default: approve
reason_codes:
  VELOCITY: "{txn_1h} payments on the card in the last hour"
)";

struct Version {
  std::string version = "1";
  std::string window = "1h";
  std::string limit = "3";
  std::string extra;
  std::string fields;
};

std::string Pipeline(const Version& v) {
  std::string p = kTemplate;
  auto put = [&p](const std::string& key, const std::string& value) {
    for (size_t at = p.find(key); at != std::string::npos; at = p.find(key, at + value.size())) {
      p.replace(at, key.size(), value);
    }
  };
  put("{VERSION}", v.version);
  put("{WINDOW}", v.window);
  put("{LIMIT}", v.limit);
  put("{EXTRA}", v.extra);
  put("{FIELDS}", v.fields);
  return p;
}

std::string Event(int id, const std::string& ts, const std::string& card, double amount) {
  std::string e = R"({"txn_id":"t)" + std::to_string(id) + R"(",)";
  if (!ts.empty()) e += R"("ts":")" + ts + R"(",)";
  return e + R"("card_id":")" + card + R"(","amount":)" + std::to_string(amount) + "}";
}

class Reload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    testing::WriteFile(dir_ / "token", "s3cret\n");
    testing::WriteFile(dir_ / "p.yaml", Pipeline({}));
  }
  static httplib::Headers Auth() { return {{"Authorization", "Bearer s3cret"}}; }
  fs::path dir_;
};

#define ASSERT_LISTENING(server) ASSERT_TRUE((server).listening()) << (server).log()

TEST_F(Reload, KeepsTheStateOfUnchangedFeaturesAndUsesTheNewRules) {
  ServeProcess server(dir_, {"p.yaml", "--token-file", "token", "--audit", "audit.jsonl"});
  ASSERT_LISTENING(server);
  auto c = server.Client();
  for (int i = 0; i < 3; ++i) {
    auto r = c->Post("/v1/decide", Auth(),
                     Event(i, "2026-01-01T10:00:0" + std::to_string(i) + "Z", "c1", 10), "");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  // v2: a higher limit, amount_1h over another window (its state starts
  // empty), a new feature.
  Version v2;
  v2.version = "2";
  v2.window = "2h";
  v2.limit = "5";
  v2.extra = "  big: amount > 100\n";
  testing::WriteFile(dir_ / "p.yaml", Pipeline(v2));
  auto reload = c->Post("/admin/reload", Auth(), "", "application/json");
  ASSERT_TRUE(reload);
  ASSERT_EQ(reload->status, 200) << reload->body;
  EXPECT_NE(reload->body.find(R"("pipeline":{"name":"cards","version":"2")"), std::string::npos)
      << reload->body;
  EXPECT_NE(reload->body.find(R"("previous":{"name":"cards","version":"1")"), std::string::npos);
  EXPECT_NE(reload->body.find(R"x("windowed_kept":["count() over 3600000000000ns by (card_id)"])x"),
            std::string::npos)
      << reload->body;
  EXPECT_NE(
      reload->body.find(R"x("windowed_reset":["sum(amount) over 7200000000000ns by (card_id)"])x"),
      std::string::npos)
      << reload->body;

  auto r = c->Post("/v1/decide", Auth(), Event(3, "2026-01-01T10:00:03Z", "c1", 7), "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // The count went on (4, under v1 it would have declined at 3); the sum
  // started again; the new feature is there.
  EXPECT_NE(r->body.find(R"("txn_1h":4,"amount_1h":7.0,"big":false)"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"("action":"approve")"), std::string::npos) << r->body;

  auto info = c->Get("/v1/pipeline", Auth());
  ASSERT_TRUE(info);
  EXPECT_NE(info->body.find(R"("version":"2")"), std::string::npos) << info->body;
  auto metrics = c->Get("/metrics", Auth());
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(R"(sluice_reloads_total{result="ok"} 1)"), std::string::npos);
  EXPECT_NE(metrics->body.find(R"(version="2")"), std::string::npos);
  EXPECT_EQ(metrics->body.find(R"(version="1")"), std::string::npos) << metrics->body;

  // SIGHUP reloads too: back to v1 (amount_1h over 1h again starts empty).
  testing::WriteFile(dir_ / "p.yaml", Pipeline({}));
  kill(server.pid(), SIGHUP);
  for (int i = 0; i < 500 && server.log().find("SIGHUP: reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(server.log().find("SIGHUP: reloaded pipeline cards version 1"), std::string::npos)
      << server.log();
  r = c->Post("/v1/decide", Auth(), Event(4, "2026-01-01T10:00:04Z", "c1", 5), "");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"("txn_1h":5,"amount_1h":5.0)"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("action":"decline")"), std::string::npos) << r->body;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  // The audit trail goes on across reloads, each record naming its version.
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  size_t lines = 0;
  for (char ch : audit) lines += ch == '\n';
  EXPECT_EQ(lines, 5u);
  EXPECT_NE(audit.find(R"("version":"2")"), std::string::npos);
}

TEST_F(Reload, AnInvalidPipelineIsRefusedAndTheOldOneKeepsServing) {
  ServeProcess server(dir_, {"p.yaml", "--token-file", "token"});
  ASSERT_LISTENING(server);
  auto c = server.Client();
  testing::WriteFile(dir_ / "p.yaml", Pipeline({}) + "  - {id: broken, when: nosuch > 1}\n");
  auto reload = c->Post("/admin/reload", Auth(), "", "application/json");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 422) << reload->body;
  EXPECT_NE(reload->body.find(R"("code":"invalid_pipeline")"), std::string::npos);
  EXPECT_NE(reload->body.find(R"("diagnostics":[{"file":)"), std::string::npos) << reload->body;
  EXPECT_NE(reload->body.find("the pipeline being served is unchanged"), std::string::npos);
  testing::WriteFile(dir_ / "p.yaml", "pipeline: [\n");
  reload = c->Post("/admin/reload", Auth(), "", "application/json");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 422) << reload->body;
  fs::remove(dir_ / "p.yaml");
  reload = c->Post("/admin/reload", Auth(), "", "application/json");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 422) << reload->body;
  kill(server.pid(), SIGHUP);
  for (int i = 0; i < 500 && server.log().find("SIGHUP:") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(server.log().find("the pipeline being served is unchanged"), std::string::npos)
      << server.log();
  // Still serving version 1.
  for (int i = 0; i < 3; ++i) {
    auto r = c->Post("/v1/decide", Auth(), Event(i, "2026-01-01T10:00:00Z", "c9", 1), "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    if (i == 2) {
      EXPECT_NE(r->body.find(R"("action":"decline")"), std::string::npos) << r->body;
    }
  }
  auto metrics = c->Get("/metrics", Auth());
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(R"(sluice_reloads_total{result="invalid"} 4)"), std::string::npos)
      << metrics->body;
}

TEST_F(Reload, NoRequestFailsDuringReloadsUnderLoad) {
  // Events leave out their time (--stamp-time), so that concurrent clients
  // are never late. The versions differ in rules, windows and even in the
  // input schema (v2 has one more field).
  Version v2;
  v2.version = "2";
  v2.window = "30m";
  v2.limit = "50";
  v2.fields = "    channel: {type: string, nullable: true}\n";
  ServeProcess server(dir_, {"p.yaml", "--token-file", "token", "--stamp-time", "--threads", "8",
                             "--audit", "audit.jsonl"});
  ASSERT_LISTENING(server);
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, failed{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      auto c = server.Client();
      for (int i = 0; !stop.load(); ++i) {
        const int id = t * 1000000 + i;
        std::string body = Event(id, "", "c" + std::to_string(i % 50), 1 + i % 7);
        if (i % 5 == 0) body = "[" + body + "," + Event(id + 500000, "", "c7", 2) + "]";
        auto r = c->Post("/v1/decide", Auth(), body, "application/json");
        sent.fetch_add(i % 5 == 0 ? 2 : 1);
        if (!r || r->status != 200) {
          failed.fetch_add(1);
          std::lock_guard<std::mutex> lock(failures_mu);
          if (failures.size() < 5) failures.push_back(r ? r->body : "no answer");
        }
      }
    });
  }
  auto admin = server.Client();
  int reloads = 0;
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    testing::WriteFile(dir_ / "p.yaml", Pipeline(round % 2 == 0 ? v2 : Version{}));
    if (round % 4 == 3) {
      const std::string before = server.log();
      kill(server.pid(), SIGHUP);
      for (int i = 0; i < 500 && server.log().size() == before.size(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      reloads += server.log().find("SIGHUP: reloaded", before.size()) != std::string::npos;
    } else {
      auto r = admin->Post("/admin/reload", Auth(), "", "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200) << r->body;
      reloads += r->status == 200;
    }
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(reloads, 20);
  EXPECT_GT(sent.load(), 200);
  EXPECT_EQ(failed.load(), 0) << (failures.empty() ? "" : failures.front());
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  int lines = 0;
  for (char ch : audit) lines += ch == '\n';
  EXPECT_EQ(lines, sent.load());
}

TEST_F(Reload, StampTimeFillsInAMissingEventTime) {
  {
    ServeProcess server(dir_, {"p.yaml"});
    ASSERT_LISTENING(server);
    auto r = server.Client()->Post("/v1/decide", Event(1, "", "c1", 3), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find(R"("field":"ts")"), std::string::npos) << r->body;
  }
  ServeProcess server(dir_, {"p.yaml", "--stamp-time"});
  ASSERT_LISTENING(server);
  auto c = server.Client();
  const auto before = std::chrono::system_clock::now();
  auto r = c->Post("/v1/decide", Event(1, "", "c1", 3), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // "ts":"2026-...Z", the service's clock, not before the request.
  const size_t at = r->body.find(R"("ts":")");
  ASSERT_NE(at, std::string::npos) << r->body;
  const std::time_t now = std::chrono::system_clock::to_time_t(before);
  char year[8];
  std::strftime(year, sizeof year, "%Y", std::gmtime(&now));
  EXPECT_EQ(r->body.substr(at + 6, 4), year) << r->body;
  // A given time is kept; a stamped one is never before it.
  r = c->Post("/v1/decide", Event(2, "2099-01-01T00:00:00Z", "c1", 3), "application/json");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"("ts":"2099-01-01T00:00:00Z")"), std::string::npos) << r->body;
  r = c->Post("/v1/decide", Event(3, "", "c1", 3), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"("ts":"2099-01-01T00:00:00Z")"), std::string::npos) << r->body;
  // The first event (this year) is out of the hour before 2099.
  EXPECT_NE(r->body.find(R"("txn_1h":2)"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace sluice
