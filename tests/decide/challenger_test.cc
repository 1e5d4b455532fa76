// Champion and challenger (docs/policies.md, "Champion and challenger"):
// in split mode a stable hash of the key sends a share of the records to
// the challenger, whose action, rule, outputs and reasons then make the
// decision; in shadow mode the champion acts and the challenger's results
// are recorded beside it. A challenger's failure on a record it does not
// decide must not reject the record.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "decide_harness.h"

namespace sluice {
namespace {

using testing::CompilePipeline;
using testing::RunRecords;

const char* kSource = R"y(pipeline: champion_challenger
source:
  schema:
    id: {type: int64, id: true}
    card_id: {type: string, nullable: true}
    country: {type: string, nullable: true}
    amount: float64
    cap: {type: float64, nullable: true}
decision:
  actions: [approve, review]
  outputs:
    limit: float64
    queue: {type: enum, values: [none, manual]}
  rules:
    - {id: big, when: amount > 100, action: review, reason: BIG, set: {queue: manual}}
  default: {action: approve, set: {limit: 1000, queue: none}}
reason_codes:
  BIG: Big amount
  STRICT: Strict policy
)y";
const char* kHeader = "id,card_id,country,amount,cap\n";

std::string Challenger(const std::string& head) {
  return head + R"y(
  outputs:
    queue: {type: enum, values: [none, manual]}
    limit: float64
    extra: int64
  rules:
    - {id: strict_big, when: amount > 50, action: decline, reason: STRICT, set: {queue: manual, limit: amount}}
  default: {action: approve, set: {limit: 500, queue: none, extra: 1}}
)y";
}

std::shared_ptr<const runtime::Engine> MustCompile(const std::string& challenger) {
  std::string errors;
  auto engine = CompilePipeline(std::string(kSource) + challenger, &errors);
  EXPECT_TRUE(engine) << errors;
  return engine;
}

// The documented assignment, written out independently: FNV-1a 64 over the
// salt, then over each key's bytes followed by 0x1f, finished with the
// SplitMix64 mixer; the challenger takes hashes below percent * 10000 of
// 1,000,000. The assignment must never change between versions: a record
// that went to the challenger yesterday goes there today.
bool Assigned(const std::string& salt, const std::vector<std::string>& keys, double percent) {
  uint64_t h = 1469598103934665603ULL;
  auto fnv = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  fnv(salt);
  for (const auto& k : keys) {
    fnv(k);
    fnv("\x1f");
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h % 1'000'000 < static_cast<uint64_t>(percent * 10000);
}

TEST(Split, TheSameKeyAlwaysGoesTheSameWayAndTheShareIsPercent) {
  auto engine = MustCompile(
      Challenger("challenger:\n  name: strict\n  mode: split\n  percent: 10\n  split_by: card_id"));
  ASSERT_TRUE(engine);
  std::mt19937_64 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back("card_" + std::to_string(rng()));
  // Each key twice, the second time in another order and another batch.
  std::vector<std::string> order = keys;
  std::shuffle(order.begin(), order.end(), rng);
  std::string csv = kHeader;
  int id = 0;
  for (const auto& k : keys) csv += std::to_string(++id) + "," + k + ",US,10,\n";
  for (const auto& k : order) csv += std::to_string(++id) + "," + k + ",US,10,\n";
  auto out = testing::RunBatches(*engine, csv, 1000);
  ASSERT_EQ(out.size(), 2 * keys.size());
  std::map<std::string, std::string> first;
  size_t to_challenger = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string& k = i < keys.size() ? keys[i] : order[i - keys.size()];
    const std::string& p = out[i]["policy"];
    ASSERT_TRUE(p == "champion" || p == "strict") << p;
    auto [it, inserted] = first.emplace(k, p);
    ASSERT_EQ(it->second, p) << "key " << k << " went both ways";
    if (i < keys.size()) {
      to_challenger += p == "strict";
      ASSERT_EQ(p == "strict", Assigned("", {k}, 10)) << "key " << k;
    }
  }
  const double share = static_cast<double>(to_challenger) / static_cast<double>(keys.size());
  EXPECT_NEAR(share, 0.10, 0.007);
}

TEST(Split, ANewSaltReshufflesAndSeveralKeysAreHashedTogether) {
  auto engine = MustCompile(
      Challenger("challenger:\n  name: strict\n  mode: split\n  percent: 30\n  salt: \"2026-q4\"\n"
                 "  split_by: [card_id, country]"));
  ASSERT_TRUE(engine);
  std::string csv = kHeader;
  std::vector<std::pair<std::string, std::string>> keys;
  for (int i = 0; i < 3000; ++i) {
    keys.emplace_back("c" + std::to_string(i), i % 2 ? "US" : "FR");
    csv += std::to_string(i + 1) + "," + keys.back().first + "," + keys.back().second + ",10,\n";
  }
  auto out = testing::RunBatches(*engine, csv, 512);
  ASSERT_EQ(out.size(), keys.size());
  size_t to_challenger = 0, differs_from_unsalted = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool strict = out[i]["policy"] == "strict";
    ASSERT_EQ(strict, Assigned("2026-q4", {keys[i].first, keys[i].second}, 30)) << i;
    to_challenger += strict;
    differs_from_unsalted += strict != Assigned("", {keys[i].first, keys[i].second}, 30);
  }
  EXPECT_NEAR(static_cast<double>(to_challenger) / 3000.0, 0.30, 0.03);
  EXPECT_GT(differs_from_unsalted, 600u);
}

TEST(Split, NumbersAreHashedAsTheirEightBytesLeastSignificantFirst) {
  auto engine = MustCompile(
      Challenger("challenger:\n  name: strict\n  mode: split\n  percent: 40\n  split_by: id"));
  ASSERT_TRUE(engine);
  std::string csv = kHeader;
  for (int i = -500; i < 500; ++i) csv += std::to_string(i) + ",c,US,10,\n";
  auto out = testing::RunBatches(*engine, csv, 100);
  ASSERT_EQ(out.size(), 1000u);
  for (int i = -500; i < 500; ++i) {
    std::string bytes;
    for (int k = 0; k < 8; ++k) {
      bytes += static_cast<char>(static_cast<uint64_t>(static_cast<int64_t>(i)) >> (8 * k));
    }
    EXPECT_EQ(out[static_cast<size_t>(i + 500)]["policy"] == "strict", Assigned("", {bytes}, 40))
        << "id " << i;
  }
}

TEST(Split, ANullKeyStaysWithTheChampion) {
  auto engine =
      MustCompile(Challenger("challenger:\n  name: strict\n  mode: split\n  percent: 100\n  "
                             "split_by: [card_id, country]"));
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + "1,c1,US,10,\n2,,US,10,\n3,c1,,10,\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["policy"], "strict");  // percent 100: every keyed record
  EXPECT_EQ(out[1]["policy"], "champion");
  EXPECT_EQ(out[2]["policy"], "champion");
}

TEST(Split, TheActingPolicysResultsMakeTheDecision) {
  auto engine = MustCompile(
      Challenger("challenger:\n  name: strict\n  mode: split\n  percent: 50\n  split_by: card_id"));
  ASSERT_TRUE(engine);
  // Find keys on each side.
  std::string champion_key, strict_key;
  for (int i = 0; champion_key.empty() || strict_key.empty(); ++i) {
    std::string k = "k" + std::to_string(i);
    (Assigned("", {k}, 50) ? strict_key : champion_key) = k;
  }
  auto out = RunRecords(*engine, std::string(kHeader) + "1," + champion_key + ",US,80,\n" + "2," +
                                     strict_key + ",US,80,\n" + "3," + champion_key + ",US,200,\n" +
                                     "4," + strict_key + ",US,20,\n");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["policy"], "champion");
  EXPECT_EQ(out[0]["action"], "approve");
  EXPECT_EQ(out[0]["rule"], "default");
  EXPECT_EQ(out[0]["limit"], "1000");
  EXPECT_EQ(out[0]["queue"], "none");
  EXPECT_EQ(out[0]["reasons"], "");
  EXPECT_EQ(out[1]["policy"], "strict");
  EXPECT_EQ(out[1]["action"], "decline");  // an action only the challenger has
  EXPECT_EQ(out[1]["rule"], "strict_big");
  EXPECT_EQ(out[1]["limit"], "80");
  EXPECT_EQ(out[1]["queue"], "manual");
  EXPECT_EQ(out[1]["reasons"], "STRICT");
  EXPECT_EQ(out[1]["texts"], "Strict policy");
  EXPECT_EQ(out[2]["policy"], "champion");
  EXPECT_EQ(out[2]["action"], "review");
  EXPECT_EQ(out[2]["queue"], "manual");
  EXPECT_EQ(out[2]["limit"], "1000");
  EXPECT_EQ(out[2]["reasons"], "BIG");
  EXPECT_EQ(out[3]["policy"], "strict");
  EXPECT_EQ(out[3]["action"], "approve");
  EXPECT_EQ(out[3]["rule"], "default");
  EXPECT_EQ(out[3]["limit"], "500");
  // Both policies' own results stay available.
  EXPECT_EQ(out[1]["champion.action"], "approve");
  EXPECT_EQ(out[1]["strict.action"], "decline");
  EXPECT_EQ(out[0]["strict.action"], "decline");
}

TEST(Shadow, TheChampionActsAndTheChallengerIsRecorded) {
  auto engine = MustCompile(Challenger("challenger:\n  name: strict\n  mode: shadow"));
  ASSERT_TRUE(engine);
  auto out = RunRecords(*engine, std::string(kHeader) + "1,c1,US,80,\n2,c2,US,200,\n3,,,10,\n");
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i]["policy"], "champion");
  EXPECT_EQ(out[0]["action"], "approve");
  EXPECT_EQ(out[0]["limit"], "1000");
  EXPECT_EQ(out[0]["strict.action"], "decline");
  EXPECT_EQ(out[0]["strict.rule"], "strict_big");
  EXPECT_EQ(out[0]["strict.limit"], "80");
  EXPECT_EQ(out[0]["strict.queue"], "manual");
  EXPECT_EQ(out[0]["strict.extra"], "1");
  EXPECT_EQ(out[0]["strict.reasons"], "STRICT");
  EXPECT_EQ(out[0]["reasons"], "");
  EXPECT_EQ(out[1]["action"], "review");
  EXPECT_EQ(out[1]["reasons"], "BIG");
  EXPECT_EQ(out[2]["strict.action"], "approve");
}

// A champion that fails on records where two rows of its unique table
// match (amount > cap and amount >= 100), and a challenger whose condition
// overflows when big is the largest int64.
std::string Failing(const std::string& mode) {
  return R"y(pipeline: failing
source:
  schema:
    id: {type: int64, id: true}
    key: {type: string, nullable: true}
    amount: float64
    cap: {type: float64, nullable: true}
    big: int64
decision:
  table:
    inputs: [amount]
    outputs: [action]
    rows:
      - ["> cap", decline]
      - [">= 100", review]
  default: approve
challenger:
  name: strict
  mode: )y" +
         mode + R"y(
  rules:
    - {id: overflow, when: big + 1 > 0, action: decline}
  default: approve
)y";
}

const char* kFailingInput =
    "id,key,amount,cap,big\n"
    "1,k,200,10,0\n"                 // the champion fails
    "2,,200,10,0\n"                  // the champion fails
    "3,k,50,,9223372036854775807\n"  // the challenger fails
    "4,,50,,9223372036854775807\n";  // the challenger fails
const char* kUnique = "the decision: more than one row of the table matches (hit policy unique)";
const char* kOverflow = "integer overflow in 'big + 1' (the challenger 'strict', rule overflow)";

TEST(Shadow, AChallengersRecordErrorDoesNotRejectTheRecord) {
  std::string errors;
  auto engine = CompilePipeline(Failing("shadow"), &errors);
  ASSERT_TRUE(engine) << errors;
  auto out = RunRecords(*engine, kFailingInput);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].error, kUnique);
  EXPECT_EQ(out[1].error, kUnique);
  EXPECT_EQ(out[2].error, "");
  EXPECT_EQ(out[2]["action"], "approve");
  EXPECT_EQ(out[2]["strict.action"], "null");
  EXPECT_EQ(out[2]["strict.rule"], "null");
  EXPECT_EQ(out[3].error, "");
}

TEST(Split, OnlyTheActingPolicysRecordErrorsRejectTheRecord) {
  std::string errors;
  auto engine = CompilePipeline(Failing("split\n  percent: 100\n  split_by: key"), &errors);
  ASSERT_TRUE(engine) << errors;
  auto out = RunRecords(*engine, kFailingInput);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].error, "");  // the challenger acts
  EXPECT_EQ(out[0]["policy"], "strict");
  EXPECT_EQ(out[0]["action"], "decline");
  EXPECT_EQ(out[0]["champion.action"], "null");
  EXPECT_EQ(out[1].error, kUnique);  // a null key: the champion acts
  EXPECT_EQ(out[2].error, kOverflow);
  EXPECT_EQ(out[3].error, "");
  EXPECT_EQ(out[3]["policy"], "champion");
  EXPECT_EQ(out[3]["action"], "approve");
}

}  // namespace
}  // namespace sluice
