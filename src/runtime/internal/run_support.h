#pragma once
// What `sluice run` and `sluice stream` share: run-summary bookkeeping,
// dead letters in record order, and small formatting helpers.

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/record_io.h"
#include "runtime/batch_job.h"
#include "runtime/engine.h"

namespace sluice::runtime::internal {

inline double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  std::string out;
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out += s[static_cast<size_t>(i)];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return out;
}

inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Counts actions and reasons of the rows that are written.
class DecisionTally {
 public:
  explicit DecisionTally(const Engine& engine)
      : rules_(engine.decision() && engine.decision()->has_decision() ? engine.decision()
                                                                       : nullptr) {
    if (rules_) action_counts_.assign(rules_->action_type().domain->size(), 0);
  }
  void Add(const Batch& batch) {
    if (!rules_) return;
    const int32_t* action = batch.column(rules_->action_column()).data<int32_t>();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch.row_error(i) != 0) continue;
      if (!batch.column(rules_->action_column()).valid()[i]) continue;
      ++action_counts_[static_cast<size_t>(action[i])];
      const uint32_t b = batch.reason_begin()[i], c = batch.reason_count()[i];
      for (uint32_t k = 0; k < c; ++k) {
        // Keyed by the code's address: the views point into the rule set's
        // storage, so this is a pointer hash, not a string hash, per reason.
        const std::string_view code = batch.reasons()[b + k].code;
        auto& slot = reason_counts_[code.data()];
        slot.first = code;
        ++slot.second;
      }
    }
  }
  // Counts of an earlier run this one continues (from a checkpoint).
  void AddBase(const std::vector<std::pair<std::string, uint64_t>>& actions,
               const std::vector<std::pair<std::string, uint64_t>>& reasons) {
    for (const auto& [name, n] : actions) base_actions_[name] += n;
    for (const auto& [name, n] : reasons) base_reasons_[name] += n;
  }
  void Fill(RunSummary* s) const {
    if (!rules_) return;
    s->actions.clear();
    for (size_t a = 0; a < action_counts_.size(); ++a) {
      const std::string name(rules_->action_type().domain->Name(static_cast<int32_t>(a)));
      auto base = base_actions_.find(name);
      s->actions.emplace_back(name,
                              action_counts_[a] + (base != base_actions_.end() ? base->second : 0));
    }
    std::map<std::string, uint64_t> by_code = base_reasons_;
    for (const auto& [ptr, entry] : reason_counts_)
      by_code[std::string(entry.first)] += entry.second;
    s->reasons.assign(by_code.begin(), by_code.end());
    std::sort(s->reasons.begin(), s->reasons.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
  }

 private:
  const decide::DecisionStage* rules_;
  std::vector<uint64_t> action_counts_;
  std::unordered_map<const char*, std::pair<std::string_view, uint64_t>> reason_counts_;
  std::map<std::string, uint64_t> base_actions_;
  std::map<std::string, uint64_t> base_reasons_;
};

// Holds the rejections of the batch being filled so that dead letters come
// out in record order, interleaved with the record errors raised while
// evaluating, whatever the batch size. Rejections of records before the
// batch's first row can go out at once, which bounds what is held.
class OrderedRejects final : public io::RejectSink {
 public:
  OrderedRejects(io::DeadLetterFile* file, int64_t max_errors)
      : file_(file), max_errors_(max_errors) {}

  void Reject(const io::Rejection& r) override {
    ++on_input_;
    held_.push_back({r.record, r.line, r.field, r.reason, std::string(r.raw)});
  }
  // Also ends a fill early when many rejections are held, so that memory
  // stays bounded; the partial batch is processed as usual.
  bool Stop() const override { return max_errors_exceeded() || held_.size() >= kMaxHeld; }
  bool max_errors_exceeded() const {
    return max_errors_ >= 0 && total() > static_cast<uint64_t>(max_errors_);
  }

  // Writes the held rejections and the batch's record errors, in record order
  // (or, with processing order, the held ones and then the batch's in row
  // order: rows in event-time order are not in record order, and sorting
  // within a batch would make the file depend on the batch size).
  void FinishBatch(const Batch& batch, const expr::ErrorTable& errors) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const uint32_t code = batch.row_error(i);
      if (code == 0) continue;
      const Batch::RowOrigin& o = batch.origin(i);
      held_.push_back({o.record, o.line, "", errors.Get(code), std::string(o.raw)});
      ++in_pipeline_;
    }
    Flush();
  }
  void set_processing_order(bool on) { processing_order_ = on; }
  // Writes one rejection now (streaming releases them in canonical order).
  void WriteNow(const io::Rejection& r, bool on_input) {
    ++(on_input ? on_input_ : in_pipeline_);
    file_->Reject(r);
  }
  uint64_t on_input() const { return on_input_; }
  uint64_t in_pipeline() const { return in_pipeline_; }
  uint64_t total() const { return on_input_ + in_pipeline_; }
  // Continues the counts of an earlier run (from a checkpoint).
  void AddBase(uint64_t on_input, uint64_t in_pipeline) {
    on_input_ += on_input;
    in_pipeline_ += in_pipeline;
  }

 private:
  static constexpr size_t kMaxHeld = 4096;
  struct Held {
    uint64_t record, line;
    std::string field, reason, raw;
  };
  void Flush() {
    if (!processing_order_) {
      std::stable_sort(held_.begin(), held_.end(),
                       [](const Held& a, const Held& b) { return a.record < b.record; });
    }
    for (const Held& h : held_) file_->Reject({h.record, h.line, h.field, h.reason, h.raw});
    held_.clear();
  }

  io::DeadLetterFile* file_;
  int64_t max_errors_;
  std::vector<Held> held_;
  bool processing_order_ = false;
  uint64_t on_input_ = 0;
  uint64_t in_pipeline_ = 0;
};

// The formats of a run's input and output and its dead-letter path, from
// the flags, the pipeline and the file names. A TCP input defaults to JSON
// Lines.
struct RunFiles {
  io::Format in_format = io::Format::kCsv;
  io::Format out_format = io::Format::kCsv;
  std::string dead_letter;
};
inline Result<RunFiles> ResolveRunFiles(const Engine& engine, const std::string& input,
                                        const std::string& output, const std::string& in_flag_arg,
                                        const std::string& out_flag_arg,
                                        const std::string& dead_letter) {
  RunFiles f;
  std::string in_flag = in_flag_arg.empty() ? engine.spec().input_format : in_flag_arg;
  const bool tcp = input.rfind("tcp://", 0) == 0;
  if (tcp && in_flag.empty()) in_flag = "jsonl";
  SLUICE_ASSIGN_OR_RETURN(f.in_format, io::ResolveFormat(tcp ? "-" : input, in_flag));
  std::string out_flag = out_flag_arg;
  if (out_flag.empty() && output == "-") {
    out_flag = f.in_format == io::Format::kCsv ? "csv" : "jsonl";
  }
  SLUICE_ASSIGN_OR_RETURN(f.out_format, io::ResolveFormat(output, out_flag));
  f.dead_letter = dead_letter;
  if (f.dead_letter.empty()) {
    f.dead_letter = output == "-" ? "sluice.rejects.jsonl" : output + ".rejects.jsonl";
  }
  return f;
}

// Names the run in `summary` and resolves its files (see ResolveRunFiles).
inline Result<RunFiles> StartRun(const Engine& engine, const std::string& input,
                                 const std::string& output, const std::string& in_flag,
                                 const std::string& out_flag, const std::string& dead_letter,
                                 RunSummary* summary) {
  summary->pipeline = engine.spec().name;
  summary->input = input;
  summary->output = output;
  SLUICE_ASSIGN_OR_RETURN(RunFiles files,
                          ResolveRunFiles(engine, input, output, in_flag, out_flag, dead_letter));
  summary->dead_letter = files.dead_letter;
  return files;
}

inline Status CheckDistinct(const std::string& a, const std::string& b, std::string_view what) {
  if (a == "-" || b == "-") return Status::Ok();
  std::error_code ec;
  if (a == b || std::filesystem::equivalent(a, b, ec)) {
    return InvalidArgument(fmt::format("{} {} is the same file as {}", what, b, a));
  }
  return Status::Ok();
}

}  // namespace sluice::runtime::internal
