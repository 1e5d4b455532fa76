#pragma once
// Test support for the decision engine: compiles a pipeline from YAML text
// and runs CSV text through it, giving each record's results as text by
// column name, so that tests read as data in, expected decisions out.
//
// Every run is made at several batch sizes; the results must not depend on
// the batch size (a batch of one is how streaming runs).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/spec.h"
#include "runtime/engine.h"
#include "types/timestamp.h"

namespace sluice::testing {

// The results of one record: "action", "rule", "policy", the decision's
// outputs by name, "reasons" (codes joined by ',') and "texts" (joined by
// " | "); for each policy P also "P.action", "P.rule", "P.points", "P.OUTPUT",
// "P.reasons" and "P.texts". Null values read "null". `error` is the record
// error's message ("" when none).
struct Decided {
  std::map<std::string, std::string> values;
  std::string error;

  const std::string& operator[](const std::string& key) const {
    static const std::string kMissing = "<no such column>";
    auto it = values.find(key);
    return it == values.end() ? kMissing : it->second;
  }
  bool operator==(const Decided& o) const { return values == o.values && error == o.error; }
};

inline std::ostream& operator<<(std::ostream& os, const Decided& d) {
  os << "{";
  for (const auto& [k, v] : d.values) os << k << "=" << v << " ";
  return os << "error=" << d.error << "}";
}

// Compiles `yaml`; on failure returns nullptr and the diagnostics as printed.
inline std::shared_ptr<const runtime::Engine> CompilePipeline(const std::string& yaml,
                                                              std::string* errors) {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", &diags);
  std::shared_ptr<const runtime::Engine> engine;
  if (spec.ok() && diags.empty())
    engine = runtime::Engine::Compile(std::move(spec).value(), &diags);
  if (errors != nullptr) *errors = FormatDiagnostics(diags);
  return diags.empty() ? engine : nullptr;
}

// The diagnostics of compiling `yaml` ("" when it compiles), loader errors
// included.
inline std::string CompileErrors(const std::string& yaml) {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", &diags);
  if (spec.ok()) (void)runtime::Engine::Compile(std::move(spec).value(), &diags);
  return FormatDiagnostics(diags);
}

inline std::string CellText(const Column& c, size_t row) {
  if (!c.is_valid(row)) return "null";
  const Type& t = c.type();
  switch (t.kind) {
    case TypeKind::kBool:
      return c.data<uint8_t>()[row] ? "true" : "false";
    case TypeKind::kInt64:
      return std::to_string(c.data<int64_t>()[row]);
    case TypeKind::kFloat64: {
      std::ostringstream os;
      os.precision(17);
      os << c.data<double>()[row];
      return os.str();
    }
    case TypeKind::kString:
      return std::string(c.data<std::string_view>()[row]);
    case TypeKind::kTimestamp:
      return FormatIso8601(c.data<int64_t>()[row]);
    case TypeKind::kEnum:
      return std::string(t.domain->Name(c.data<int32_t>()[row]));
    default:
      return "?";
  }
}

inline void ReadReasons(const ReasonList& list, size_t row, std::string* codes,
                        std::string* texts) {
  for (uint32_t k = 0; k < list.count[row]; ++k) {
    const Reason& r = list.reasons[list.begin[row] + k];
    if (k > 0) {
      *codes += ",";
      *texts += " | ";
    }
    *codes += r.code;
    *texts += r.text;
  }
}

class CollectRejects final : public io::RejectSink {
 public:
  void Reject(const io::Rejection& r) override { reasons.push_back(r.reason); }
  std::vector<std::string> reasons;
};

// Runs `csv` (a header, then records) through `engine`, `batch_size`
// records at a time.
inline std::vector<Decided> RunBatches(const runtime::Engine& engine, const std::string& csv,
                                       size_t batch_size) {
  std::vector<Decided> out;
  // Unique per process and call: ctest runs test processes side by side.
  static int file_number = 0;
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) /
      ("decide_input_" + std::to_string(getpid()) + "_" + std::to_string(++file_number) + ".csv");
  {
    std::ofstream f(path, std::ios::binary);
    f << csv;
  }
  auto source = io::RecordSource::Open(path.string(), io::Format::kCsv, engine.source_fields(),
                                       engine.source_options());
  EXPECT_TRUE(source.ok()) << source.status().message();
  if (!source.ok()) return out;
  CollectRejects rejects;
  Batch batch(engine.layout(), batch_size);
  const decide::DecisionStage* stage = engine.decision();
  while (!(*source)->done()) {
    batch.Clear();
    EXPECT_TRUE((*source)->Fill(batch, rejects).ok());
    engine.Process(batch, nullptr);
    for (size_t r = 0; r < batch.size(); ++r) {
      Decided d;
      if (batch.row_error(r) != 0) d.error = engine.errors().Get(batch.row_error(r));
      if (stage != nullptr && stage->has_decision()) {
        d.values["action"] = CellText(batch.column(stage->action_column()), r);
        d.values["rule"] = CellText(batch.column(stage->rule_column()), r);
        if (stage->policy_column() >= 0) {
          d.values["policy"] = CellText(batch.column(stage->policy_column()), r);
        }
        for (const auto& o : stage->outputs())
          d.values[o.name] = CellText(batch.column(o.column), r);
        ReadReasons(batch.reason_list(0), r, &d.values["reasons"], &d.values["texts"]);
      }
      if (stage != nullptr) {
        for (const auto& p : stage->policies()) {
          const std::string& n = p.name();
          if (p.has_action())
            d.values[n + ".action"] = CellText(batch.column(p.action_column()), r);
          d.values[n + ".rule"] = CellText(batch.column(p.rule_column()), r);
          if (p.points_column() >= 0) {
            d.values[n + ".points"] = CellText(batch.column(p.points_column()), r);
          }
          for (const auto& o : p.outputs()) {
            d.values[n + "." + o.name] = CellText(batch.column(o.column), r);
          }
          ReadReasons(batch.reason_list(p.reason_list()), r, &d.values[n + ".reasons"],
                      &d.values[n + ".texts"]);
        }
      }
      out.push_back(std::move(d));
    }
  }
  EXPECT_TRUE(rejects.reasons.empty()) << rejects.reasons.front();
  std::filesystem::remove(path);
  return out;
}

// Runs `csv` in one batch, then one record per batch and 3 per batch, and
// expects the same results from each.
inline std::vector<Decided> RunRecords(const runtime::Engine& engine, const std::string& csv) {
  std::vector<Decided> all = RunBatches(engine, csv, 4096);
  for (size_t size : {size_t{1}, size_t{3}}) {
    std::vector<Decided> again = RunBatches(engine, csv, size);
    EXPECT_EQ(again.size(), all.size());
    for (size_t i = 0; i < std::min(all.size(), again.size()); ++i) {
      EXPECT_EQ(again[i], all[i]) << "record " << i + 1 << " at batch size " << size;
    }
  }
  return all;
}

}  // namespace sluice::testing
