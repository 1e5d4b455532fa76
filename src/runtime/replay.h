#pragma once
// `sluice replay PIPELINE --audit FILE`: reproduces decisions from their
// audit records. Each record's input fields and feature values (as they were
// when it was decided, windowed state included) go through the models and
// policies of the same pipeline version again; the model outputs, every
// policy's result and the decision with its reasons must come out byte for
// byte as recorded.
//
// The pipeline file must have the content hash the records name, and each
// model file the recorded hash: another version is refused before anything
// is compared.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::runtime {

struct ReplayReport {
  uint64_t records = 0;     // audit records read
  uint64_t reproduced = 0;  // equal to the record
  uint64_t differed = 0;
  // The first differences: the record's id, what was recorded, what came out.
  struct Difference {
    std::string id;
    std::string recorded;
    std::string replayed;
  };
  std::vector<Difference> differences;
};

Status ReplayAudit(const Engine& engine, const std::string& audit_path, ReplayReport* report);

// The value of `key` in the top-level JSON object `json`, as its raw text;
// empty when absent or when `json` is not an object.
std::string_view TopLevelJsonValue(std::string_view json, std::string_view key);

}  // namespace sluice::runtime
