#pragma once
// Factories of the CSV and JSONL readers over any ByteSource. `name` is the
// input's name in messages ("data.csv", "stdin").

#include <memory>
#include <string>
#include <vector>

#include "io/internal/byte_source.h"
#include "io/record_io.h"

namespace sluice::io::internal {

Result<std::unique_ptr<RecordSource>> OpenCsvSource(std::unique_ptr<ByteSource> bytes,
                                                    std::string name,
                                                    std::vector<SourceField> fields,
                                                    SourceOptions options);

Result<std::unique_ptr<RecordSource>> OpenJsonlSource(std::unique_ptr<ByteSource> bytes,
                                                      std::string name,
                                                      std::vector<SourceField> fields,
                                                      SourceOptions options);

// Checks what both readers need of a schema (names unique, enums with a
// domain, a batch column per field).
Status ValidateFields(const std::vector<SourceField>& fields);

}  // namespace sluice::io::internal
