// libFuzzer target: the body parser of POST /v1/decide, the code that HTTP
// event loops run on untrusted bytes. Any input must give either events
// or a refusal with a status, a code and a message; never a crash, a leak,
// an out-of-bounds read or undefined behaviour (built with ASan and UBSan).
//
// Build and run (clang): see README.md in this folder. The normal build
// replays the committed corpus through the same function (replay_main.cc).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/spec.h"
#include "runtime/engine.h"
#include "server/request_parser.h"

namespace {

// Every type and timestamp format, nullable and required fields.
constexpr char kPipeline[] = R"(pipeline: fuzz
source:
  schema:
    id:      {type: string, id: true}
    ts:      {type: timestamp, event_time: true}
    at_ms:   {type: timestamp, format: epoch_ms, nullable: true}
    at_s:    {type: timestamp, format: epoch_s, nullable: true}
    amount:  {type: float64, nullable: true}
    qty:     int64
    channel: {type: enum, values: [pos, ecom, atm]}
    ok:      {type: bool, nullable: true}
    note:    {type: string, nullable: true}
features:
  n: count() over 1h by id
)";

sluice::server::DecideRequestParser& Parser() {
  static sluice::server::DecideRequestParser* parser = [] {
    std::vector<sluice::Diagnostic> diags;
    auto spec = sluice::pipeline::LoadPipelineText(kPipeline, "fuzz.yaml", &diags);
    if (!spec.ok()) std::abort();
    auto engine = sluice::runtime::Engine::Compile(std::move(spec).value(), &diags);
    if (!engine) std::abort();
    return new sluice::server::DecideRequestParser(engine->source_fields(), 64);
  }();
  return *parser;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  sluice::server::DecideRequest request;
  std::optional<sluice::server::RequestError> error = Parser().Parse(body, &request);
  if (error) {
    if (error->code.empty() || error->message.empty()) std::abort();
    if (error->status != 400 && error->status != 413) std::abort();
    if (request.events != nullptr) std::abort();
    return 0;
  }
  if (request.events == nullptr || request.events->size() == 0) std::abort();
  if (!request.is_batch && request.events->size() != 1) std::abort();
  if (request.events->size() > 64) std::abort();
  // Touch every decoded value, so that a view into freed or foreign memory
  // shows under ASan.
  size_t bytes = 0;
  const sluice::Batch& b = *request.events;
  for (size_t row = 0; row < b.size(); ++row) {
    bytes += b.origin(row).raw.size();
    for (size_t c = 0; c < b.num_columns(); ++c) {
      const sluice::Column& col = b.column(static_cast<int>(c));
      if (!col.is_valid(row)) continue;
      if (col.type().kind == sluice::TypeKind::kString) {
        for (char ch : col.data<std::string_view>()[row]) bytes += static_cast<unsigned char>(ch);
      }
    }
  }
  return bytes == SIZE_MAX ? 1 : 0;
}
