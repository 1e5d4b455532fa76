// Running compiled programs over batches: results do not depend on batch
// size, constants and arena strings survive Batch::Clear, temporaries are
// shared, and expressions can use earlier results.

#include <gtest/gtest.h>

#include "expr_test_util.h"

namespace sluice::expr::testing {
namespace {

const std::vector<std::string> kExprs = {
    "i * 3 + j",
    "f / nullif(i - 7, 0)",
    "if(i > 5, 'big:' || upper(s), concat('small:', lower(s)))",
    "big * i",
    "if(i > 1000, 0, big * i)",
    "coalesce(ni, i, 0) // 2",
    "case ch when 'pos' then 1 when 'ecom' then 2 else 3 end",
    "ch = t or i in (1, 2, null)",
    "substr(s, i, 2) || to_string(f)",
    "round(f * i, 1)",
    "to_string(ts) || '/' || to_string(ch)",
    "min(i, f, ni)",
    "'const' || 'ant'",
    "7",
    "null",
};

std::vector<std::map<std::string, Value>> Rows() {
  const Type ch = Type::Enum(Channels());
  std::vector<std::map<std::string, Value>> rows;
  for (int k = 0; k < 37; ++k) {
    std::map<std::string, Value> r;
    r["i"] = k % 5 == 0 ? Value::Null(Type::Int64()) : Value::Int64(k - 10);
    r["f"] = Value::Float64(k * 0.5);
    r["s"] =
        k % 7 == 0 ? Value::Null(Type::String()) : Value::String(std::string(k % 4, 'x') + "Ünï");
    r["t"] = Value::String(k % 2 ? "pos" : "atm");
    r["ch"] = k % 6 == 0 ? Value::Null(ch) : Value::Enum(ch, k % 3);
    r["ts"] = Value::Timestamp(int64_t{k} * 86'400'000'000'123);
    rows.push_back(std::move(r));
  }
  return rows;
}

// Runs all kExprs over `rows` in batches of `capacity`; returns one rendered
// result per row and expression.
std::vector<std::string> RunAll(size_t capacity) {
  Harness h;
  std::vector<int> cols;
  for (const auto& e : kExprs) {
    std::string diag;
    cols.push_back(h.Compile(e, &diag));
    EXPECT_GE(cols.back(), 0) << e << ": " << diag;
  }
  Program p = h.Finish();
  Batch batch(h.layout(), capacity);
  std::vector<std::string> out;
  auto rows = Rows();
  for (size_t start = 0; start < rows.size(); start += capacity) {
    batch.Clear();
    for (size_t r = start; r < std::min(rows.size(), start + capacity); ++r) {
      h.FillRow(batch, batch.AppendRow(), rows[r]);
    }
    p.Run(batch);
    for (size_t row = 0; row < batch.size(); ++row) {
      for (int c : cols) out.push_back(h.Result(batch, c, row));
    }
  }
  return out;
}

TEST(Batches, SizeDoesNotChangeResults) {
  auto one = RunAll(1);
  auto many = RunAll(64);
  auto some = RunAll(5);
  ASSERT_EQ(one.size(), Rows().size() * kExprs.size());
  EXPECT_EQ(one, many);
  EXPECT_EQ(one, some);
}

TEST(Batches, ConstantsAndStringsSurviveClear) {
  Harness h;
  int upper = h.Compile("upper(s) || '!'");
  int konst = h.Compile("'k' || 'v'");
  Program p = h.Finish();
  Batch batch(h.layout(), 3);
  for (int round = 0; round < 4; ++round) {
    batch.Clear();
    for (int r = 0; r < 3; ++r) {
      h.FillRow(batch, batch.AppendRow(),
                {{"s", Value::String("r" + std::to_string(round * 3 + r))}});
    }
    p.Run(batch);
    for (size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(h.Result(batch, upper, r),
                "'R" + std::to_string(round * 3 + static_cast<int>(r)) + "!'");
      EXPECT_EQ(h.Result(batch, konst, r), "'kv'");
    }
  }
}

TEST(Batches, RecordErrorsArePerRow) {
  Harness h;
  int col = h.Compile("i * 1000000000000");
  Program p = h.Finish();
  Batch batch(h.layout(), 4);
  for (int64_t v : {int64_t{1}, int64_t{10'000'000}, int64_t{-2}}) {
    h.FillRow(batch, batch.AppendRow(), {{"i", Value::Int64(v)}});
  }
  p.Run(batch);
  EXPECT_EQ(h.Result(batch, col, 0), "1000000000000");
  EXPECT_EQ(h.Result(batch, col, 1), "error: integer overflow in 'i * 1000000000000' (feature x)");
  EXPECT_EQ(h.Result(batch, col, 2), "-2000000000000");
  EXPECT_EQ(h.errors().size(), 1u);
}

TEST(Compiler, ResultsAreColumnsLaterExpressionsCanUse) {
  Harness h;
  Type type;
  int ratio = h.Compile("f / i", nullptr, &type);
  ASSERT_GE(ratio, 0);
  EXPECT_EQ(type, Type::Float64());
  EXPECT_EQ(h.layout().column(ratio).name, "out0");
  h.scope().Add(Symbol{"ratio", type, ratio});
  int flag = h.Compile("ratio > 0.3 and ratio < 0.4", nullptr, &type);
  EXPECT_EQ(type, Type::Bool());
  Program p = h.Finish();
  EXPECT_GT(p.num_instructions(), 0u);
  Batch batch(h.layout(), 2);
  h.FillRow(batch, batch.AppendRow());
  p.Run(batch);
  EXPECT_EQ(h.Result(batch, ratio, 0), "0.35714285714285715");
  EXPECT_EQ(h.Result(batch, flag, 0), "true");
  // Finish() hands over only the code compiled since the last Finish().
  h.Compile("i + 1");
  EXPECT_EQ(h.Finish().num_instructions(), 1u);
}

TEST(Compiler, TemporariesAndConstantsAreShared) {
  Harness h;
  h.Compile("(i + 1) * (i + 2) + 1");
  size_t after_first = h.layout().size();
  h.Compile("(j + 1) * (j + 2) + 2");
  // One new result column; the temporaries and the constants 1 and 2 are reused.
  EXPECT_EQ(h.layout().size(), after_first + 1);
}

TEST(Compiler, NameOrLiteralResultIsCopied) {
  Harness h;
  int a = h.Compile("i");
  int b = h.Compile("'x'");
  Program p = h.Finish();
  EXPECT_EQ(p.num_instructions(), 2u);
  Batch batch(h.layout(), 1);
  h.FillRow(batch, batch.AppendRow());
  p.Run(batch);
  EXPECT_EQ(h.Result(batch, a, 0), "7");
  EXPECT_EQ(h.Result(batch, b, 0), "'x'");
}

}  // namespace
}  // namespace sluice::expr::testing
