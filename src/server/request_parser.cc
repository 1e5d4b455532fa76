#include "server/request_parser.h"

#include <simdjson.h>

#include <cstring>

namespace sluice::server {

namespace od = simdjson::ondemand;

struct DecideRequestParser::Json {
  od::parser parser;
  std::unique_ptr<char[]> padded;
  size_t capacity = 0;

  // A copy of `body` followed by the zero padding simdjson reads past the end.
  const char* Pad(std::string_view body) {
    if (capacity < body.size() || !padded) {
      capacity = std::max(body.size(), 2 * capacity);
      padded.reset(new char[capacity + simdjson::SIMDJSON_PADDING]);
    }
    std::memcpy(padded.get(), body.data(), body.size());
    std::memset(padded.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    return padded.get();
  }
};

namespace {

RequestError Malformed(simdjson::error_code e, std::string_view what) {
  RequestError r;
  r.code = "invalid_json";
  r.message =
      std::string("malformed JSON in ") + std::string(what) + ": " + simdjson::error_message(e);
  return r;
}

const char* JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a bool";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

}  // namespace

std::vector<io::SourceField> InputFields(const std::vector<io::SourceField>& source_fields,
                                         int optional_field) {
  std::vector<io::SourceField> fields = source_fields;
  for (size_t i = 0; i < fields.size(); ++i) fields[i].column = static_cast<int>(i);
  if (optional_field >= 0 && static_cast<size_t>(optional_field) < fields.size()) {
    fields[static_cast<size_t>(optional_field)].nullable = true;
  }
  return fields;
}

DecideRequestParser::DecideRequestParser(std::vector<io::SourceField> fields, size_t max_events,
                                         int optional_field)
    : decoder_(InputFields(fields, optional_field)),
      max_events_(max_events),
      json_(std::make_unique<Json>()) {
  for (const io::SourceField& f : decoder_.fields()) layout_.Add({f.name, f.type, std::nullopt});
}

DecideRequestParser::~DecideRequestParser() = default;

RequestError DecideRequestParser::EventError(int64_t event) const {
  RequestError r;
  const int field = decoder_.failed_field();
  const bool duplicate = decoder_.reason().rfind("duplicate key", 0) == 0;
  r.code = field >= 0 && !duplicate ? "invalid_field" : "invalid_json";
  if (field >= 0) r.field = decoder_.fields()[static_cast<size_t>(field)].name;
  r.event = event;
  r.message =
      event >= 0 ? "event " + std::to_string(event) + ": " + decoder_.reason() : decoder_.reason();
  return r;
}

std::optional<RequestError> DecideRequestParser::Parse(std::string_view body, DecideRequest* out) {
  size_t start = 0;
  while (start < body.size() && (body[start] == ' ' || body[start] == '\t' || body[start] == '\r' ||
                                 body[start] == '\n')) {
    ++start;
  }
  if (start == body.size()) {
    RequestError r;
    r.code = "invalid_json";
    r.message =
        "the request body is empty: expected one event (a JSON object) or a batch (a JSON array "
        "of objects)";
    return r;
  }
  if (!simdjson::validate_utf8(body.data(), body.size())) {
    RequestError r;
    r.code = "invalid_json";
    r.message = "the request body is not valid UTF-8";
    return r;
  }

  if (body[start] != '[') {
    // One event: the decoder checks that the body is one object and nothing else.
    auto events = std::make_unique<Batch>(layout_, 1);
    const std::string_view copy = events->arena().Copy(body);
    const size_t row = events->AppendRow();
    if (!decoder_.Decode(body, copy, *events, row)) return EventError(-1);
    events->origin(row) = {1, 0, copy};
    out->events = std::move(events);
    out->is_batch = false;
    return std::nullopt;
  }

  // A batch: find each element of the array, then decode it on its own.
  const char* padded = json_->Pad(body);
  od::document doc;
  if (auto e = json_->parser.iterate(padded, body.size(), body.size() + simdjson::SIMDJSON_PADDING)
                   .get(doc)) {
    return Malformed(e, "the request body");
  }
  od::array array;
  if (auto e = doc.get_array().get(array)) return Malformed(e, "the request body");
  size_t count = 0;
  if (auto e = array.count_elements().get(count)) return Malformed(e, "the request body");
  if (count == 0) {
    RequestError r;
    r.code = "empty_batch";
    r.message = "the batch is empty: give at least one event";
    return r;
  }
  if (count > max_events_) {
    RequestError r;
    r.status = 413;
    r.code = "too_many_events";
    r.message = "the batch holds " + std::to_string(count) + " events; a request holds at most " +
                std::to_string(max_events_) + " (the queue's size, --queue)";
    return r;
  }
  auto events = std::make_unique<Batch>(layout_, count);
  int64_t index = 0;
  for (auto element : array) {
    if (static_cast<size_t>(index) == count) {
      return Malformed(simdjson::TAPE_ERROR, "the request body");  // more than counted
    }
    od::value value;
    if (auto e = std::move(element).get(value)) return Malformed(e, "the request body");
    od::json_type type;
    if (auto e = value.type().get(type)) return Malformed(e, "the request body");
    if (type != od::json_type::object) {
      RequestError r;
      r.code = "invalid_json";
      r.event = index;
      r.message = "event " + std::to_string(index) + ": expected a JSON object, found " +
                  JsonTypeName(type);
      return r;
    }
    od::object object;
    if (auto e = value.get_object().get(object)) return Malformed(e, "the request body");
    std::string_view text;
    if (auto e = object.raw_json().get(text)) {
      return Malformed(e, "event " + std::to_string(index));
    }
    // The view runs up to the next token: drop the whitespace before it.
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
      text.remove_suffix(1);
    }
    const std::string_view copy = events->arena().Copy(text);
    const size_t row = events->AppendRow();
    if (!decoder_.Decode(copy, copy, *events, row)) return EventError(index);
    events->origin(row) = {static_cast<uint64_t>(index) + 1, 0, copy};
    ++index;
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    RequestError r;
    r.code = "invalid_json";
    r.message = "malformed JSON in the request body: unexpected text after the array";
    return r;
  }
  if (static_cast<size_t>(index) != count) {
    return Malformed(simdjson::TAPE_ERROR, "the request body");
  }
  out->events = std::move(events);
  out->is_batch = true;
  return std::nullopt;
}

}  // namespace sluice::server
