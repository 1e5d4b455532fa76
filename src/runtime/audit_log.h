#pragma once
// The audit trail (`--audit FILE`): one JSON line per decision, with what is
// needed to reproduce it and to answer "why": the pipeline's name, version
// and content hash, the model files' hashes, the input fields, the feature
// values, the model outputs, every policy's result (the rules or rows it
// evaluated and those that matched, its action, outputs and reasons), and
// the decision with the policy that acted.
//
// Numbers are written as the shortest text that reads back as the same
// double, so `sluice replay` recomputes each decision from its record
// exactly. Records of rejected rows are not written (they are in the dead
// letters).
//
// Thread safety: one writer per run.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "sluice/status.h"
#include "types/batch.h"

namespace sluice::runtime {

class AuditLog {
 public:
  // Opens `path` for writing (appending with `append`, when a run resumes
  // from a checkpoint) and hashes the model files.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, const Engine& engine,
                                                bool append);
  ~AuditLog();

  // Appends the records of the decided rows of `batch`.
  Status Write(const Batch& batch);
  Status Flush();
  Status Sync();  // flush and fsync
  Status Close();
  uint64_t records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  AuditLog() = default;
  void AppendPolicy(const Batch& batch, size_t row, const decide::Policy& p,
                    std::string_view role);

  std::string path_;
  std::FILE* file_ = nullptr;
  const Engine* engine_ = nullptr;
  std::string head_;  // `"pipeline":{...},"models":[...]`
  std::string line_;
  uint64_t records_ = 0;
  int id_column_ = -1;
  int time_column_ = -1;
  std::vector<std::string_view> evaluated_, matched_;
};

// FNV-1a 64 of a file's bytes, in hex (as the pipeline's content hash).
Result<std::string> FileHash(const std::string& path);

}  // namespace sluice::runtime
