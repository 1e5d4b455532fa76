#pragma once
// The JSON the service answers with. A decided event is one object, byte
// for byte the line `sluice run --output x.jsonl` writes for it (without the
// line end): the pipeline's output columns, the reasons as
// [{"code":...,"text":...}]. On request, "scores" adds every model output.
// A refused request or event is {"error":{"status":...,"code":...,
// "message":...[,"field":...][,"event":...]}}.
//
// Thread safety: immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/record_io.h"
#include "runtime/engine.h"
#include "types/batch.h"

namespace sluice::server {

class DecisionWriter {
 public:
  explicit DecisionWriter(const runtime::Engine& engine);

  // Appends row `row` of `batch` (a batch of the engine's layout, processed)
  // as one JSON object; with `scores`, the object ends with
  // "scores":{"MODEL.score":...,"MODEL.margin":...,...}.
  void Append(const Batch& batch, size_t row, bool scores, std::string* out) const;

 private:
  std::vector<io::OutputColumn> columns_;
  std::vector<std::string> keys_;                    // `{"name":` then `,"name":`
  std::vector<std::pair<std::string, int>> scores_;  // `"MODEL.score":`, column
};

// {"error":{"status":S,"code":"...","message":"..."[,"field":"..."][,"event":N]}}
std::string ErrorJson(int status, std::string_view code, std::string_view message,
                      std::string_view field = {}, int64_t event = -1);

}  // namespace sluice::server
