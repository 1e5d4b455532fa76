#pragma once
// Decoding of one JSON object into a row of a batch, with the typing rules of
// JSON Lines input (docs/input-formats.md): keys are matched to the schema's
// field names, unknown keys are skipped, a missing key and `null` are both
// null, a key given twice rejects the object, and each value must have its
// field's type. The JSON Lines reader decodes every line with it and
// `sluice serve` every event of a request, so that the two accept the same
// values, decode them to the same bits and reject the rest with the same
// reasons.
//
// Thread safety: a decoder belongs to one thread at a time (it keeps a
// parser and buffers that it reuses from one object to the next).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/record_io.h"
#include "types/batch.h"

namespace sluice::io {

class JsonEventDecoder {
 public:
  // `fields`: the schema; field i is decoded into batch column fields[i].column.
  // REQUIRES: the fields pass the readers' checks (unique names, enums
  // with a domain, a column each).
  explicit JsonEventDecoder(std::vector<SourceField> fields);
  ~JsonEventDecoder();
  JsonEventDecoder(const JsonEventDecoder&) = delete;
  JsonEventDecoder& operator=(const JsonEventDecoder&) = delete;

  // Decodes `text`, which must be valid UTF-8 holding one JSON object and
  // nothing after it (whitespace aside), into row `row` of `batch`.
  // `text_copy` is either empty or the same bytes as `text` kept in the
  // batch's arena: string values without escapes then point into it instead
  // of being copied. Returns false when the object is rejected; then
  // failed_field() and reason() say why and the row holds partial values.
  bool Decode(std::string_view text, std::string_view text_copy, Batch& batch, size_t row);

  // After a failed Decode: the index of the field at fault, or -1 when the
  // object as a whole is (malformed JSON, not an object, invalid UTF-8).
  int failed_field() const;
  // After a failed Decode: the documented reason, e.g.
  // `field 'amount': expected float64, found string "12"`.
  const std::string& reason() const;
  const std::vector<SourceField>& fields() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::io
