#include "io/json_event_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "io/internal/field_decoder.h"
#include "io/internal/text.h"

namespace sluice::io {

using internal::DecodeError;
using internal::DecodeFloat64;
using internal::DecodeTimestamp;
using internal::Describe;
using internal::EnumMatcher;
using internal::Excerpt;
using internal::Expected;
using internal::NullReason;

namespace od = simdjson::ondemand;

// The whole decoder: simdjson stays out of the header.
struct JsonEventDecoder::Impl {
  struct FieldPlan {
    TypeKind kind;
    bool nullable;
    TimestampFormat timestamp_format;
    int column;
    EnumMatcher matcher;
  };

  explicit Impl(std::vector<SourceField> fields)
      : fields_(std::move(fields)), seen_(fields_.size(), 0) {
    for (const SourceField& field : fields_) {
      plan_.push_back({field.type.kind, field.nullable, field.timestamp_format, field.column,
                       field.type.kind == TypeKind::kEnum ? EnumMatcher(field.type.domain.get())
                                                          : EnumMatcher()});
    }
  }

  bool Decode(std::string_view line, std::string_view arena_copy, Batch& batch, size_t row);
  bool DecodeValue(size_t k, od::value& value, std::string_view arena_copy, Batch& batch,
                   size_t row);
  int FindField(std::string_view key);
  bool Fail(int field, std::string reason) {
    bad_field_ = field;
    reason_ = std::move(reason);
    return false;
  }
  bool Malformed(simdjson::error_code e) {
    if (e == simdjson::UTF8_ERROR) return Fail(-1, "invalid UTF-8 in the line");
    return Fail(-1, std::string("malformed JSON: ") + simdjson::error_message(e));
  }
  std::string FoundJson(od::value& value, od::json_type type);

  std::vector<SourceField> fields_;
  std::vector<FieldPlan> plan_;
  std::vector<uint64_t> seen_;  // the stamp of the object that last set each field
  uint64_t stamp_ = 0;
  std::vector<std::string_view> unknown_keys_;
  od::parser parser_;
  std::unique_ptr<char[]> padded_;
  size_t padded_capacity_ = 0;
  size_t next_guess_ = 0;
  int bad_field_ = -1;
  std::string reason_;
};

int JsonEventDecoder::Impl::FindField(std::string_view key) {
  // Keys usually come in the same order on every line: try the next one first.
  const size_t n = fields_.size();
  for (size_t t = 0; t < n; ++t) {
    size_t k = next_guess_ + t;
    if (k >= n) k -= n;
    const std::string& name = fields_[k].name;
    if (name.size() == key.size() && std::memcmp(name.data(), key.data(), key.size()) == 0) {
      next_guess_ = k + 1 == n ? 0 : k + 1;
      return static_cast<int>(k);
    }
  }
  return -1;
}

std::string JsonEventDecoder::Impl::FoundJson(od::value& value, od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::string: {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) return "a string";
      return "string " + Excerpt(s);
    }
    default: {
      std::string_view tok = value.raw_json_token();
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\r' ||
                              tok.back() == '\n')) {
        tok.remove_suffix(1);
      }
      std::string e = Excerpt(tok);
      e = e.substr(1, e.size() - 2);  // numbers and literals unquoted
      return (type == od::json_type::number    ? "number "
              : type == od::json_type::boolean ? "bool "
                                               : "") +
             e;
    }
  }
}

bool JsonEventDecoder::Impl::DecodeValue(size_t k, od::value& value, std::string_view arena_copy,
                                         Batch& batch, size_t row) {
  const FieldPlan& p = plan_[k];
  const SourceField& field = fields_[k];
  Column& column = batch.column(p.column);
  od::json_type type;
  if (auto e = value.type().get(type)) return Malformed(e);
  if (type == od::json_type::null) {
    bool is_null = false;
    if (auto e = value.is_null().get(is_null)) return Malformed(e);
    if (!is_null) return Malformed(simdjson::TAPE_ERROR);
    if (!p.nullable) return Fail(static_cast<int>(k), NullReason(field));
    column.valid()[row] = 0;
    return true;
  }
  auto wrong_type = [&]() {
    std::string expected =
        p.kind == TypeKind::kBool ? "expected bool (true or false)" : Expected(field);
    return Fail(static_cast<int>(k),
                "field '" + field.name + "': " + expected + ", found " + FoundJson(value, type));
  };
  auto number_token = [&]() {
    std::string_view tok = value.raw_json_token();
    size_t e = 0;
    while (e < tok.size() && tok[e] != ' ' && tok[e] != '\t' && tok[e] != ',' && tok[e] != '}' &&
           tok[e] != '\r' && tok[e] != '\n') {
      ++e;
    }
    return tok.substr(0, e);
  };
  switch (p.kind) {
    case TypeKind::kBool: {
      if (type != od::json_type::boolean) return wrong_type();
      bool b;
      if (auto e = value.get_bool().get(b)) return Malformed(e);
      column.data<uint8_t>()[row] = b ? 1 : 0;
      break;
    }
    case TypeKind::kInt64: {
      if (type != od::json_type::number) return wrong_type();
      std::string_view tok = number_token();
      od::number_type nt;
      if (auto e = value.get_number_type().get(nt)) return Malformed(e);
      int64_t v;
      if (nt == od::number_type::signed_integer && value.get_int64().get(v) == simdjson::SUCCESS) {
        column.data<int64_t>()[row] = v;
        break;
      }
      if (nt == od::number_type::floating_point_number &&
          tok.find_first_of(".eE") != std::string_view::npos) {
        return wrong_type();
      }
      return Fail(static_cast<int>(k), Describe(field, DecodeError::kOutOfRange, tok));
    }
    case TypeKind::kFloat64: {
      if (type != od::json_type::number) return wrong_type();
      std::string_view tok = number_token();
      double v;
      if (value.get_double().get(v) != simdjson::SUCCESS) {
        double unused;
        DecodeError de = DecodeFloat64(tok, &unused);
        if (de == DecodeError::kOk) de = DecodeError::kSyntax;
        if (de == DecodeError::kSyntax) return Malformed(simdjson::NUMBER_ERROR);
        return Fail(static_cast<int>(k), Describe(field, de, tok));
      }
      column.data<double>()[row] = v;
      break;
    }
    case TypeKind::kString:
    case TypeKind::kEnum: {
      if (type != od::json_type::string) return wrong_type();
      std::string_view tok = value.raw_json_token();
      std::string_view s;
      if (auto e = value.get_string().get(s)) return Malformed(e);
      std::string_view out;
      // An unescaped string is the same bytes as in the raw line: point into
      // the arena copy of the line rather than copying.
      if (!arena_copy.empty() && tok.size() > s.size() + 1 && tok[s.size() + 1] == '"' &&
          std::memchr(tok.data() + 1, '\\', s.size()) == nullptr) {
        out = arena_copy.substr(static_cast<size_t>(tok.data() + 1 - padded_.get()), s.size());
      } else if (p.kind == TypeKind::kString) {
        out = batch.arena().Copy(s);
      } else {
        out = s;
      }
      if (p.kind == TypeKind::kString) {
        column.data<std::string_view>()[row] = out;
      } else {
        int32_t index = p.matcher.Find(out);
        if (index < 0)
          return Fail(static_cast<int>(k), Describe(field, DecodeError::kNotInEnum, out));
        column.data<int32_t>()[row] = index;
      }
      break;
    }
    case TypeKind::kTimestamp: {
      int64_t ns = 0;
      if (field.timestamp_format == TimestampFormat::kIso8601) {
        if (type != od::json_type::string) return wrong_type();
        std::string_view s;
        if (auto e = value.get_string().get(s)) return Malformed(e);
        if (DecodeTimestamp(s, field.timestamp_format, &ns) != DecodeError::kOk) {
          return Fail(static_cast<int>(k), Describe(field, DecodeError::kSyntax, s));
        }
      } else {
        if (type != od::json_type::number) return wrong_type();
        std::string_view tok = number_token();
        if (DecodeTimestamp(tok, field.timestamp_format, &ns) != DecodeError::kOk) {
          double d;
          if (auto e = value.get_double().get(d)) return Malformed(e);
          std::optional<int64_t> v = EpochToNanos(d, field.timestamp_format);
          if (!v) return Fail(static_cast<int>(k), Describe(field, DecodeError::kOutOfRange, tok));
          ns = *v;
        }
      }
      column.data<int64_t>()[row] = ns;
      break;
    }
    case TypeKind::kNull:
      break;
  }
  column.valid()[row] = 1;
  return true;
}

bool JsonEventDecoder::Impl::Decode(std::string_view line, std::string_view arena_copy,
                                    Batch& batch, size_t row) {
  bad_field_ = -1;
  if (padded_capacity_ < line.size()) {
    padded_capacity_ = std::max(line.size(), 2 * padded_capacity_);
    padded_.reset(new char[padded_capacity_ + simdjson::SIMDJSON_PADDING]);
  }
  if (!simdjson::validate_utf8(line.data(), line.size())) {
    return Fail(-1, "invalid UTF-8 in the line");
  }
  std::memcpy(padded_.get(), line.data(), line.size());
  std::memset(padded_.get() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (auto e = parser_.iterate(padded_.get(), line.size(), line.size() + simdjson::SIMDJSON_PADDING)
                   .get(doc)) {
    return Malformed(e);
  }
  od::json_type type;
  if (auto e = doc.type().get(type)) return Malformed(e);
  if (type != od::json_type::object) {
    // Check the scalar itself, so that `nul` or `tru` read as malformed.
    simdjson::error_code e = simdjson::SUCCESS;
    if (type == od::json_type::null) {
      bool is_null = false;
      e = doc.is_null().get(is_null);
      if (!e && !is_null) e = simdjson::N_ATOM_ERROR;
    } else if (type == od::json_type::boolean) {
      e = doc.get_bool().error();
    } else if (type == od::json_type::number) {
      e = doc.get_double().error();
    } else if (type == od::json_type::string) {
      e = doc.get_string().error();
    }
    if (e) return Malformed(e);
    const char* what = type == od::json_type::array     ? "an array"
                       : type == od::json_type::string  ? "a string"
                       : type == od::json_type::number  ? "a number"
                       : type == od::json_type::boolean ? "a bool"
                                                        : "null";
    return Fail(-1, std::string("expected a JSON object, found ") + what);
  }
  od::object object;
  if (auto e = doc.get_object().get(object)) return Malformed(e);
  const uint64_t stamp = ++stamp_;
  unknown_keys_.clear();
  for (auto member : object) {
    od::field f;
    if (auto e = std::move(member).get(f)) return Malformed(e);
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return Malformed(e);
    int k = FindField(key);
    if (k < 0) {
      for (std::string_view u : unknown_keys_) {
        if (u == key) return Fail(-1, "duplicate key " + Excerpt(key));
      }
      unknown_keys_.push_back(key);
      continue;
    }
    if (seen_[static_cast<size_t>(k)] == stamp) {
      return Fail(k, "duplicate key " + Excerpt(key));
    }
    seen_[static_cast<size_t>(k)] = stamp;
    od::value v = f.value();
    if (!DecodeValue(static_cast<size_t>(k), v, arena_copy, batch, row)) return false;
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return Fail(-1, "malformed JSON: unexpected text after the object");
  for (size_t k = 0; k < plan_.size(); ++k) {
    if (seen_[k] == stamp) continue;
    if (!plan_[k].nullable) return Fail(static_cast<int>(k), NullReason(fields_[k]));
    batch.column(plan_[k].column).valid()[row] = 0;
  }
  return true;
}

JsonEventDecoder::JsonEventDecoder(std::vector<SourceField> fields)
    : impl_(std::make_unique<Impl>(std::move(fields))) {}

JsonEventDecoder::~JsonEventDecoder() = default;

bool JsonEventDecoder::Decode(std::string_view text, std::string_view text_copy, Batch& batch,
                              size_t row) {
  return impl_->Decode(text, text_copy, batch, row);
}

int JsonEventDecoder::failed_field() const {
  return impl_->bad_field_;
}

const std::string& JsonEventDecoder::reason() const {
  return impl_->reason_;
}

const std::vector<SourceField>& JsonEventDecoder::fields() const {
  return impl_->fields_;
}

}  // namespace sluice::io
