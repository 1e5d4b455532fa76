#pragma once
// docs/openapi.json, embedded in the binary at build time.

#include <string_view>

namespace sluice::server::internal {

std::string_view OpenApiDocument();

}  // namespace sluice::server::internal
