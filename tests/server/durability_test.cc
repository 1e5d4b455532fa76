// Durability of `sluice serve --state-dir`: snapshots restored on restart,
// the write-ahead log (kill -9 under load loses no answered event and
// decides nothing twice), what is lost without it, and hostile state files.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"
#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::ServeProcess;

const char* kPipeline = R"(pipeline: cards
version: "1"
source:
  schema:
    txn_id:  {type: string, id: true}
    ts:      {type: timestamp, event_time: true}
    card_id: string
    shop:    string
    amount:  {type: float64, nullable: true}
features:
  txn_1h: count() over 1h by card_id
  amount_1h: sum(amount) over 1h by card_id
  n_all: count() by shop
decision:
  rules:
    - {id: velocity, when: txn_1h >= 1000, action: decline, reason: VELOCITY}
  default: approve
reason_codes:
  VELOCITY: Too many
)";

std::string Event(const std::string& id, const std::string& ts, const std::string& card,
                  double amount = 1) {
  std::string e = R"({"txn_id":")" + id + R"(",)";
  if (!ts.empty()) e += R"("ts":")" + ts + R"(",)";
  return e + R"("card_id":")" + card + R"(","shop":"s","amount":)" + std::to_string(amount) + "}";
}

// The value of `"key":N` in `json`, or -1.
long long Number(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::atoll(json.c_str() + at + key.size() + 3);
}

class Durability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    testing::WriteFile(dir_ / "p.yaml", kPipeline);
    testing::WriteFile(dir_ / "token", "s3cret\n");
  }
  static httplib::Headers Auth() { return {{"Authorization", "Bearer s3cret"}}; }
  std::string Post(const ServeProcess& s, const std::string& body, int* status = nullptr) {
    auto r = s.Client()->Post("/v1/decide", Auth(), body, "application/json");
    if (status != nullptr) *status = r ? r->status : -1;
    return r ? r->body : "";
  }
  fs::path dir_;
};

#define ASSERT_LISTENING(server) ASSERT_TRUE((server).listening()) << (server).log()

TEST_F(Durability, ASnapshotWrittenOnShutdownIsRestored) {
  const std::vector<std::string> args = {"p.yaml", "--token-file", "token",      "--state-dir",
                                         "st",     "--audit",      "audit.jsonl"};
  {
    ServeProcess server(dir_, args);
    ASSERT_LISTENING(server);
    for (int i = 0; i < 3; ++i) {
      Post(server, Event("a" + std::to_string(i), "2026-01-01T10:00:0" + std::to_string(i) + "Z",
                         "c1", 10));
    }
    auto snap = server.Client()->Post("/admin/snapshot", Auth(), "", "application/json");
    ASSERT_TRUE(snap);
    EXPECT_EQ(snap->status, 200) << snap->body;
    Post(server, Event("a3", "2026-01-01T10:00:03Z", "c1", 10));
    EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  }
  ServeProcess server(dir_, args);
  ASSERT_LISTENING(server);
  EXPECT_NE(server.log().find("restored st/snapshot (4 events decided; 3 windowed aggregates kept"),
            std::string::npos)
      << server.log();
  // A late event is still late after the restart.
  int status = 0;
  Post(server, Event("late", "2026-01-01T09:00:00Z", "c1"), &status);
  EXPECT_EQ(status, 409);
  const std::string out = Post(server, Event("a4", "2026-01-01T10:00:04Z", "c1", 10), &status);
  EXPECT_EQ(status, 200) << out;
  EXPECT_EQ(Number(out, "txn_1h"), 5) << out;
  EXPECT_EQ(Number(out, "n_all"), 5) << out;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  // The audit log went on: records 1 to 5, once each.
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  std::regex record("\"record\":([0-9]+)");
  std::vector<long long> records;
  for (auto it = std::sregex_iterator(audit.begin(), audit.end(), record);
       it != std::sregex_iterator(); ++it) {
    records.push_back(std::stoll((*it)[1]));
  }
  EXPECT_EQ(records, (std::vector<long long>{1, 2, 3, 4, 5}));
}

TEST_F(Durability, WithoutTheLogWhatCameAfterTheSnapshotIsLost) {
  const std::vector<std::string> args = {"p.yaml",      "--token-file", "token",
                                         "--state-dir", "st",           "--snapshot-every",
                                         "0",           "--audit",      "audit.jsonl"};
  ServeProcess server(dir_, args);
  ASSERT_LISTENING(server);
  for (int i = 0; i < 3; ++i) {
    Post(server, Event("b" + std::to_string(i), "2026-01-01T10:00:00Z", "c1"));
  }
  auto snap = server.Client()->Post("/admin/snapshot", Auth(), "", "application/json");
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->status, 200) << snap->body;
  Post(server, Event("b3", "2026-01-01T10:00:01Z", "c1"));
  Post(server, Event("b4", "2026-01-01T10:00:02Z", "c1"));
  kill(server.pid(), SIGKILL);
  EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);

  ServeProcess again(dir_, args);
  ASSERT_LISTENING(again);
  int status = 0;
  const std::string out = Post(again, Event("b5", "2026-01-01T10:00:03Z", "c1"), &status);
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(Number(out, "n_all"), 4) << "the two events after the snapshot are lost: " << out;
  EXPECT_EQ(again.Stop(SIGTERM), 0);
  // Audit record numbers are not used twice.
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  EXPECT_NE(audit.find("\"record\":6"), std::string::npos) << audit;
}

TEST_F(Durability, KillNineUnderLoadLosesNoAnsweredEventWithTheLog) {
  const std::vector<std::string> args = {
      "p.yaml", "--token-file", "token",   "--state-dir", "st",
      "--wal",  "--stamp-time", "--audit", "audit.jsonl", "--snapshot-every",
      "1",      "--threads",    "8"};
  std::set<std::string> answered;
  std::mutex mu;
  std::mt19937 rng(11);
  int next_id = 0;
  int replays = 0;  // restarts that decided logged events again
  for (int crash = 0; crash < 4; ++crash) {
    ServeProcess server(dir_, args);
    ASSERT_LISTENING(server);
    replays += server.log().find("decided again the") != std::string::npos;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        auto c = server.Client();
        c->set_read_timeout(5, 0);
        for (int i = 0; !stop.load(); ++i) {
          std::string id;
          {
            std::lock_guard<std::mutex> lock(mu);
            id = "e" + std::to_string(next_id++);
          }
          auto r = c->Post("/v1/decide", Auth(), Event(id, "", "c" + std::to_string(i % 20)),
                           "application/json");
          if (!r) break;  // the service died
          if (r->status == 200) {
            std::lock_guard<std::mutex> lock(mu);
            answered.insert(id);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
    kill(server.pid(), SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();
    server.Stop(SIGKILL);
  }
  ServeProcess server(dir_, args);
  ASSERT_LISTENING(server);
  replays += server.log().find("decided again the") != std::string::npos;
  EXPECT_GT(replays, 0) << "no crash left events in the log to decide again";
  int status = 0;
  const std::string out = Post(server, Event("last", "", "c0"), &status);
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(server.Stop(SIGTERM), 0);

  // Every answered event is in the state and in the audit log, once.
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  std::regex id_re("^\\{\"id\":\"([^\"]+)\",\"record\":([0-9]+)");
  std::set<std::string> audited;
  std::set<long long> records;
  size_t lines = 0;
  std::istringstream in(audit);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, id_re)) << line.substr(0, 200);
    EXPECT_TRUE(audited.insert(m[1]).second) << "decided twice: " << m[1];
    EXPECT_TRUE(records.insert(std::stoll(m[2])).second) << "record number twice: " << m[2];
    ++lines;
  }
  size_t missing = 0;
  for (const auto& id : answered) missing += audited.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << answered.size() << " answered events";
  EXPECT_GT(answered.size(), 100u);
  // n_all counts every event in the state: each audited one, once.
  EXPECT_EQ(Number(out, "n_all"), static_cast<long long>(lines)) << out;
  EXPECT_EQ(*records.rbegin(), static_cast<long long>(lines));
}

TEST_F(Durability, DamagedStateFilesAreRefusedOrRepairedClearly) {
  const std::vector<std::string> args = {"p.yaml",      "--token-file", "token",
                                         "--state-dir", "st",           "--wal"};
  {
    ServeProcess server(dir_, args);
    ASSERT_LISTENING(server);
    Post(server, Event("x1", "2026-01-01T10:00:00Z", "c1"));
    kill(server.pid(), SIGKILL);
    server.Stop(SIGKILL);
  }
  // A torn record at the end of the log is cut off.
  {
    std::ofstream wal(dir_ / "st" / "wal", std::ios::app | std::ios::binary);
    const char torn[] = {'\x20', '\0', '\0', '\0', 't', 'o', 'r', 'n'};
    wal.write(torn, sizeof torn);
  }
  {
    ServeProcess server(dir_, args);
    ASSERT_LISTENING(server);
    EXPECT_NE(server.log().find("cut off a torn tail of 8 bytes"), std::string::npos)
        << server.log();
    int status = 0;
    const std::string out = Post(server, Event("x2", "2026-01-01T10:00:01Z", "c1"), &status);
    EXPECT_EQ(Number(out, "n_all"), 2) << out;
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  // A damaged snapshot stops the start with a clear message.
  std::string snap = testing::ReadFile(dir_ / "st" / "snapshot");
  snap[snap.size() / 2] ^= 0x55;
  testing::WriteFile(dir_ / "st" / "snapshot", snap);
  {
    ServeProcess server(dir_, args);
    EXPECT_FALSE(server.listening());
    EXPECT_NE(server.log().find("st/snapshot is corrupt (checksum mismatch); move it away"),
              std::string::npos)
        << server.log();
  }
  fs::remove(dir_ / "st" / "snapshot");
  // A log written for other input fields is refused.
  std::string other = kPipeline;
  other.replace(other.find("    shop:    string\n"), 20, "    shop:    int64\n");
  other.replace(other.find("count() by shop"), 15, "count() by card_id");
  testing::WriteFile(dir_ / "q.yaml", other);
  ServeProcess server(dir_, {"q.yaml", "--state-dir", "st", "--wal"});
  EXPECT_FALSE(server.listening());
  EXPECT_NE(server.log().find("was written for other input fields"), std::string::npos)
      << server.log();
  // --wal needs --state-dir.
  ServeProcess no_dir(dir_, {"p.yaml", "--wal"});
  EXPECT_FALSE(no_dir.listening());
  EXPECT_NE(no_dir.log().find("--wal needs --state-dir"), std::string::npos) << no_dir.log();
}

}  // namespace
}  // namespace sluice
