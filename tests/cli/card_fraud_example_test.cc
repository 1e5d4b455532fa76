// The card-fraud example end to end, as its README runs it: a seeded history
// from examples/card_fraud/generate.py, `sluice backtest` of the example's
// champion (rules and the XGBoost model) against its shadow challenger (a
// decision table on the model's score), `sluice run --audit` then
// `sluice replay`, and `sluice stream` against `sluice run` on the same
// events in arrival order.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// 20,000 transactions on 2,000 cards over 30 days: 140 fraudulent (the
// generator makes the fraud count exact), in about 23 episodes.
constexpr int kEvents = 20000;
constexpr int kFraud = 140;
constexpr int kSeed = 3;

// A JSON value, enough to read metrics.json.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  // The member `key` of an object; null when absent or not an object.
  const Json& operator[](std::string_view key) const {
    static const Json kNull;
    for (const auto& [k, v] : members) {
      if (k == key) return v;
    }
    return kNull;
  }
  long long Int() const { return static_cast<long long>(number); }
};

// A strict reader of one JSON document (RFC 8259; \u escapes outside ASCII
// become '?', which metrics.json of this example never has).
class JsonReader {
 public:
  static std::optional<Json> Parse(std::string_view text) {
    JsonReader r(text);
    Json v;
    if (!r.Value(v, 0)) return std::nullopt;
    r.SkipSpace();
    if (r.pos_ != r.s_.size()) return std::nullopt;
    return v;
  }

 private:
  explicit JsonReader(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                                s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return false;
      c = s_[pos_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return false;
          const long code = std::strtol(std::string(s_.substr(pos_, 4)).c_str(), nullptr, 16);
          out += code < 0x80 ? static_cast<char>(code) : '?';
          pos_ += 4;
          break;
        }
        default: out += c;  // " \ /
      }
    }
    return Eat('"');
  }
  bool Value(Json& v, int depth) {
    if (depth > 64) return false;
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      ++pos_;
      if (Eat('}')) return true;
      do {
        std::pair<std::string, Json> m;
        if (!String(m.first) || !Eat(':') || !Value(m.second, depth + 1)) return false;
        v.members.push_back(std::move(m));
      } while (Eat(','));
      return Eat('}');
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++pos_;
      if (Eat(']')) return true;
      do {
        v.items.emplace_back();
        if (!Value(v.items.back(), depth + 1)) return false;
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      return String(v.text);
    }
    if (Word("null")) return true;
    if (Word("true")) {
      v.kind = Json::Kind::kBool;
      v.boolean = true;
      return true;
    }
    if (Word("false")) {
      v.kind = Json::Kind::kBool;
      return true;
    }
    const std::string rest(s_.substr(pos_, 40));
    char* end = nullptr;
    v.number = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) return false;
    v.kind = Json::Kind::kNumber;
    pos_ += static_cast<size_t>(end - rest.c_str());
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

class CardFraudExample : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    example_ = fs::path(SLUICE_SOURCE_DIR) / "examples" / "card_fraud";
    pipeline_ = (example_ / "card_fraud.yaml").string();
  }

  // generate.py with Debian's Python (numpy is a build dependency, see
  // scripts/install-deps.sh); `extra` adds options such as --disorder.
  void Generate(const std::string& extra = "") {
    auto r = testing::RunShell("/usr/bin/python3 '" + (example_ / "generate.py").string() +
                                   "' --events " + std::to_string(kEvents) +
                                   " --cards 2000 --days 30 --seed " + std::to_string(kSeed) +
                                   " --output transactions.csv --labels labels.csv " + extra,
                               dir_.string());
    ASSERT_EQ(r.exit_code, 0) << "generate.py failed (needs /usr/bin/python3 with numpy):\n"
                              << r.output;
  }

  testing::CommandResult Sluice(const std::string& args) {
    return testing::RunShell("'" + testing::SluiceBinary() + "' " + args, dir_.string());
  }

  fs::path dir_, example_;
  std::string pipeline_;
};

TEST_F(CardFraudExample, BacktestMeasuresChampionChallengerAndModel) {
  ASSERT_NO_FATAL_FAILURE(Generate());
  auto r = Sluice("backtest '" + pipeline_ +
                  "' -i transactions.csv --labels labels.csv --report backtest/ -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::optional<Json> parsed = JsonReader::Parse(testing::ReadFile(dir_ / "backtest" /
                                                                         "metrics.json"));
  ASSERT_TRUE(parsed.has_value()) << "backtest/metrics.json is not valid JSON";
  const Json& m = *parsed;
  const long long decided = m["decided"].Int();
  EXPECT_EQ(m["records"].Int(), kEvents);
  EXPECT_EQ(m["rejected"].Int(), 0);
  EXPECT_EQ(decided, kEvents);
  EXPECT_EQ(m["labelled"].Int(), decided);
  EXPECT_EQ(m["bad"].Int(), kFraud);

  // The champion (rules with a model rule) and the challenger in shadow.
  const Json& policies = m["policies"];
  ASSERT_EQ(policies.items.size(), 2u);
  const std::pair<const char*, const char*> expected[] = {{"champion", "champion"},
                                                          {"model_first", "challenger"}};
  for (size_t i = 0; i < 2; ++i) {
    const Json& p = policies.items[i];
    SCOPED_TRACE(p["name"].text);
    EXPECT_EQ(p["name"].text, expected[i].first);
    EXPECT_EQ(p["role"].text, expected[i].second);
    ASSERT_EQ(p["models"].items.size(), 1u);
    EXPECT_EQ(p["models"].items[0].text, "fraud");
    EXPECT_EQ(p["decisions"].Int(), decided);
    const Json& actions = p["actions"];
    ASSERT_EQ(actions.items.size(), 3u);
    long long sum = 0;
    for (const Json& a : actions.items) sum += a["count"].Int();
    EXPECT_EQ(sum, decided);
    // The actions rank risk: declines are mostly fraud, approvals hardly.
    EXPECT_EQ(actions.items[0]["action"].text, "approve");
    EXPECT_EQ(actions.items[2]["action"].text, "decline");
    EXPECT_GT(actions.items[2]["bad_rate"].number, 10 * actions.items[0]["bad_rate"].number);
    EXPECT_FALSE(p["reasons"].items.empty());
  }

  // The model was trained by train_model.py on another history (seed 11),
  // so this is out of sample. On ten seeds of this size its AUC was
  // 0.9991-0.9997: fraud episodes in these data are distinct. The floor
  // leaves room for the few bads of a small history and stays far above
  // what the inputs reach when they do not get to the model as it was
  // trained: fed in the wrong order the AUC falls to 0.64-0.71, and the best
  // single input (card_txn_10m) reaches 0.91 alone.
  const Json& models = m["models"];
  ASSERT_EQ(models.items.size(), 1u);
  EXPECT_EQ(models.items[0]["name"].text, "fraud");
  EXPECT_EQ(models.items[0]["score"].text, "fraud.score");
  EXPECT_EQ(models.items[0]["labelled"].Int(), decided);
  EXPECT_EQ(models.items[0]["bad"].Int(), kFraud);
  ASSERT_EQ(models.items[0]["auc"].kind, Json::Kind::kNumber);
  EXPECT_GT(models.items[0]["auc"].number, 0.98);

  // Every decided record is in one cell of the swap matrix; swap-in and
  // swap-out are the cells where exactly one policy approves.
  const Json& swap = m["swap"];
  EXPECT_EQ(swap["champion"].text, "champion");
  EXPECT_EQ(swap["challenger"].text, "model_first");
  long long cells = 0, swap_in = 0, swap_out = 0;
  for (const Json& c : swap["matrix"].items) {
    const long long n = c["count"].Int();
    cells += n;
    const bool champion_accepts = c["champion"].text == "approve";
    const bool challenger_accepts = c["challenger"].text == "approve";
    if (challenger_accepts && !champion_accepts) swap_in += n;
    if (champion_accepts && !challenger_accepts) swap_out += n;
  }
  EXPECT_EQ(cells, decided);
  EXPECT_EQ(swap["swap_in"]["count"].Int(), swap_in);
  EXPECT_EQ(swap["swap_out"]["count"].Int(), swap_out);

  // One row per decided record, after the header.
  const std::string decisions = testing::ReadFile(dir_ / "backtest" / "decisions.csv");
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(static_cast<long long>(CountLines(decisions)) - 1, decided);
  EXPECT_NE(testing::ReadFile(dir_ / "backtest" / "report.html").find("model_first"),
            std::string::npos);
}

TEST_F(CardFraudExample, ReplayReproducesEveryDecision) {
  ASSERT_NO_FATAL_FAILURE(Generate());
  auto run = Sluice("run '" + pipeline_ +
                    "' -i transactions.csv -o decisions.csv --audit audit.jsonl -q");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string audit = testing::ReadFile(dir_ / "audit.jsonl");
  EXPECT_EQ(CountLines(audit), static_cast<size_t>(kEvents));
  // Each audit record carries the challenger's decision too.
  size_t challengers = 0;
  for (size_t at = audit.find("\"role\":\"challenger\""); at != std::string::npos;
       at = audit.find("\"role\":\"challenger\"", at + 1)) {
    ++challengers;
  }
  EXPECT_EQ(challengers, static_cast<size_t>(kEvents));

  auto replay = Sluice("replay '" + pipeline_ + "' --audit audit.jsonl");
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  const std::string n = std::to_string(kEvents);
  EXPECT_NE(replay.output.find(n + " audit records, " + n +
                               " decisions reproduced exactly, 0 differ"),
            std::string::npos)
      << replay.output;
}

TEST_F(CardFraudExample, StreamInArrivalOrderEqualsBatch) {
  // Rows arrive up to 4 s after their event time; the pipeline's lateness is 5 s.
  ASSERT_NO_FATAL_FAILURE(Generate("--disorder 4"));
  auto stream = Sluice("stream '" + pipeline_ +
                       "' -i transactions.csv -o streamed.csv --checkpoint ck/ -q");
  ASSERT_EQ(stream.exit_code, 0) << stream.output;
  auto batch = Sluice("run '" + pipeline_ + "' -i transactions.csv -o batch.csv -q");
  ASSERT_EQ(batch.exit_code, 0) << batch.output;
  const std::string streamed = testing::ReadFile(dir_ / "streamed.csv");
  EXPECT_EQ(CountLines(streamed), static_cast<size_t>(kEvents) + 1);
  EXPECT_TRUE(streamed == testing::ReadFile(dir_ / "batch.csv"))
      << "sluice stream and sluice run differ; compare " << (dir_ / "streamed.csv") << " and "
      << (dir_ / "batch.csv");
}

}  // namespace
}  // namespace sluice
