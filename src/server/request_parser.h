#pragma once
// The body of `POST /v1/decide`: one event (a JSON object) or a batch of
// events (a JSON array of objects). Each event is decoded with the typing
// rules of JSON Lines input (io::JsonEventDecoder): the same values are
// accepted, decoded to the same bits and refused with the same reasons as in
// `sluice run` and `sluice stream`. Keys that are not fields of the schema
// are ignored; a missing key is null.
//
// Parsing is all-or-nothing: a body with one bad event is refused whole,
// naming the event and the field, so that nothing of it reaches the
// windowed state. This is the code the HTTP event loops run on untrusted
// bytes; tests/server/fuzz fuzzes it.
//
// Thread safety: a parser belongs to one thread (each thread that parses keeps one).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/json_event_decoder.h"
#include "io/record_io.h"
#include "types/batch.h"

namespace sluice::server {

// Why a body was refused.
struct RequestError {
  int status = 400;  // 400, or 413 for a batch with more events than allowed
  // A stable, machine-readable code: "invalid_json" (the body or an event is
  // not well-formed JSON, not an object or array, or has a duplicate key),
  // "invalid_field" (a field's value has the wrong type, is out of range or
  // is a required field left null or missing), "empty_batch",
  // "too_many_events".
  std::string code;
  std::string message;  // says where (event, field), what was expected and what was found
  std::string field;    // the field at fault, or ""
  int64_t event = -1;   // the event's index in a batch, or -1
};

// The events of a request, decoded.
struct DecideRequest {
  // One row per event, in request order, in the columns of the pipeline's
  // source fields (column i = field i). Each row's origin.raw is the
  // event's JSON text.
  std::unique_ptr<Batch> events;
  bool is_batch = false;  // the body was an array: the answer is {"decisions": [...]}
};

class DecideRequestParser {
 public:
  // `fields`: the pipeline's source fields (their `column` is ignored:
  // field i goes to column i). A batch may hold at most `max_events` events.
  // `optional_field` >= 0: that field may be missing or null even if the
  // schema requires it (the event-time field under `serve --stamp-time`,
  // filled in later).
  DecideRequestParser(std::vector<io::SourceField> fields, size_t max_events,
                      int optional_field = -1);
  ~DecideRequestParser();
  DecideRequestParser(const DecideRequestParser&) = delete;
  DecideRequestParser& operator=(const DecideRequestParser&) = delete;

  // Parses `body`. Returns the reason it is refused, or nullopt with the
  // events in *out.
  std::optional<RequestError> Parse(std::string_view body, DecideRequest* out);

  // The layout of DecideRequest::events: the source fields, in order.
  const BatchLayout& layout() const { return layout_; }

 private:
  struct Json;  // simdjson's parser and a padded copy of the body

  RequestError EventError(int64_t event) const;

  BatchLayout layout_;
  io::JsonEventDecoder decoder_;
  size_t max_events_;
  std::unique_ptr<Json> json_;
};

// The layout and decoder fields of a pipeline's input: field i in column i;
// field `optional_field` (if >= 0) made nullable.
std::vector<io::SourceField> InputFields(const std::vector<io::SourceField>& source_fields,
                                         int optional_field = -1);

}  // namespace sluice::server
