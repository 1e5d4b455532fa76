#pragma once
// Factories of the CSV and JSONL writers, and the shared number format.

#include <memory>
#include <string>
#include <vector>

#include "io/record_io.h"

namespace sluice::io::internal {

Result<std::unique_ptr<RecordSink>> OpenSink(const std::string& path, Format format,
                                             std::vector<OutputColumn> columns,
                                             bool append = false);

// Shortest round-trip text of `v`, with ".0" added when it would otherwise
// read as an integer. Writes at most 34 bytes.
size_t FormatFloat64(double v, char* out);

}  // namespace sluice::io::internal
