#pragma once
// GET /v1/pipeline: what is being served. Its name, version and content
// hash (the hash audit records carry), the input fields with their types,
// the features, the models with their files' hashes, the policies with
// their role, the output fields, and how late events are treated.

#include <string>

#include "runtime/engine.h"

namespace sluice::server {

// The JSON object, on one line. A model file that can no longer be read
// gets "hash": null.
std::string PipelineInfoJson(const runtime::Engine& engine);

}  // namespace sluice::server
