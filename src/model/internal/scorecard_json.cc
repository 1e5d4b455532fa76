#include "model/internal/scorecard_json.h"

#include <simdjson.h>

#include <cmath>
#include <initializer_list>
#include <set>
#include <utility>

#include "model/internal/json_describe.h"

namespace sluice::model::internal {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string Join(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
}

std::string Index(std::string_view where, size_t i) {
  return std::string(where) + "[" + std::to_string(i) + "]";
}

class ScorecardJsonReader {
 public:
  explicit ScorecardJsonReader(const std::string& name) : name_(name) {}

  Result<ScorecardDefinition> Read(std::string_view json) const;

 private:
  Status Error(std::string_view where, const std::string& what) const {
    std::string m = name_ + ": ";
    if (!where.empty()) {
      m += where;
      m += ": ";
    }
    return InvalidInput(m + what);
  }
  // Every key of `obj` must be one of `allowed` (listed as `expected` in the
  // message), and no key may appear twice.
  Status CheckKeys(const object& obj, std::string_view where,
                   std::initializer_list<std::string_view> allowed,
                   std::string_view expected) const;
  Result<element> Field(const object& obj, std::string_view key, std::string_view where) const {
    element e;
    if (obj.at_key(key).get(e) != simdjson::SUCCESS) {
      return Error(where, "missing key \"" + std::string(key) + "\"");
    }
    return e;
  }
  Result<double> Number(const element& e, std::string_view where) const;
  Result<Characteristic> ReadCharacteristic(const element& e, const std::string& where) const;
  Result<ScorecardBin> ReadBin(const element& e, const std::string& where) const;

  const std::string& name_;
};

Status ScorecardJsonReader::CheckKeys(const object& obj, std::string_view where,
                                      std::initializer_list<std::string_view> allowed,
                                      std::string_view expected) const {
  std::set<std::string_view> seen;
  for (auto field : obj) {
    bool known = false;
    for (std::string_view a : allowed) known |= a == field.key;
    if (!known) {
      return Error(where, "unknown key \"" + std::string(field.key) + "\" (expected " +
                              std::string(expected) + ")");
    }
    if (!seen.insert(field.key).second) {
      return Error(where, "duplicate key \"" + std::string(field.key) + "\"");
    }
  }
  return Status::Ok();
}

Result<double> ScorecardJsonReader::Number(const element& e, std::string_view where) const {
  double v = 0;
  if (e.get(v) != simdjson::SUCCESS) {
    return Error(where, std::string("expected a number, found ") + DescribeJsonType(e));
  }
  return v;
}

Result<ScorecardBin> ScorecardJsonReader::ReadBin(const element& e,
                                                  const std::string& where) const {
  object obj;
  if (e.get(obj) != simdjson::SUCCESS) {
    return Error(where, std::string("expected an object such as {\"from\": 25, \"to\": 40, "
                                    "\"points\": 10}, found ") +
                            DescribeJsonType(e));
  }
  SLUICE_RETURN_IF_ERROR(CheckKeys(obj, where,
                                   {"from", "to", "values", "missing", "else", "points"},
                                   "from, to, values, missing, else and points"));
  element from, to, values, missing, other;
  const bool has_from = obj.at_key("from").get(from) == simdjson::SUCCESS;
  const bool has_to = obj.at_key("to").get(to) == simdjson::SUCCESS;
  const bool has_values = obj.at_key("values").get(values) == simdjson::SUCCESS;
  const bool has_missing = obj.at_key("missing").get(missing) == simdjson::SUCCESS;
  const bool has_else = obj.at_key("else").get(other) == simdjson::SUCCESS;
  const int kinds = ((has_from || has_to) ? 1 : 0) + (has_values ? 1 : 0) + (has_missing ? 1 : 0) +
                    (has_else ? 1 : 0);
  if (kinds != 1) {
    return Error(
        where, "a bin needs exactly one of from/to, values, \"missing\": true and \"else\": true");
  }
  ScorecardBin bin;
  if (has_from || has_to) {
    bin.kind = ScorecardBin::Kind::kRange;
    if (has_from) {
      SLUICE_ASSIGN_OR_RETURN(bin.from, Number(from, Join(where, "from")));
    }
    if (has_to) {
      SLUICE_ASSIGN_OR_RETURN(bin.to, Number(to, Join(where, "to")));
    }
  } else if (has_values) {
    bin.kind = ScorecardBin::Kind::kValues;
    array list;
    if (values.get(list) != simdjson::SUCCESS) {
      return Error(Join(where, "values"),
                   std::string("expected an array of strings, found ") + DescribeJsonType(values));
    }
    for (element v : list) {
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) {
        return Error(Index(Join(where, "values"), bin.values.size()),
                     std::string("expected a string, found ") + DescribeJsonType(v));
      }
      bin.values.emplace_back(s);
    }
  } else {
    bin.kind = has_missing ? ScorecardBin::Kind::kMissing : ScorecardBin::Kind::kElse;
    const element& flag = has_missing ? missing : other;
    bool b = false;
    if (flag.get(b) != simdjson::SUCCESS || !b) {
      return Error(Join(where, has_missing ? "missing" : "else"),
                   std::string("expected true, found ") +
                       (flag.is_bool() ? "false" : DescribeJsonType(flag)));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(element points, Field(obj, "points", where));
  SLUICE_ASSIGN_OR_RETURN(bin.points, Number(points, Join(where, "points")));
  return bin;
}

Result<Characteristic> ScorecardJsonReader::ReadCharacteristic(const element& e,
                                                               const std::string& where) const {
  object obj;
  if (e.get(obj) != simdjson::SUCCESS) {
    return Error(where, std::string("expected an object with \"input\" and \"bins\", found ") +
                            DescribeJsonType(e));
  }
  SLUICE_RETURN_IF_ERROR(CheckKeys(obj, where, {"input", "bins"}, "input and bins"));
  Characteristic ch;
  SLUICE_ASSIGN_OR_RETURN(element input, Field(obj, "input", where));
  std::string_view s;
  if (input.get(s) != simdjson::SUCCESS) {
    return Error(Join(where, "input"),
                 std::string("expected a string (a field or feature name), found ") +
                     DescribeJsonType(input));
  }
  ch.input = std::string(s);
  SLUICE_ASSIGN_OR_RETURN(element bins, Field(obj, "bins", where));
  array list;
  if (bins.get(list) != simdjson::SUCCESS) {
    return Error(Join(where, "bins"),
                 std::string("expected an array of bins, found ") + DescribeJsonType(bins));
  }
  for (element b : list) {
    SLUICE_ASSIGN_OR_RETURN(ScorecardBin bin,
                            ReadBin(b, Index(Join(where, "bins"), ch.bins.size())));
    ch.bins.push_back(std::move(bin));
  }
  return ch;
}

Result<ScorecardDefinition> ScorecardJsonReader::Read(std::string_view json) const {
  simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root); error != simdjson::SUCCESS) {
    return Error("", std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  object top;
  if (root.get(top) != simdjson::SUCCESS) {
    return Error("", std::string("expected a JSON object with \"base_points\" and "
                                 "\"characteristics\", found ") +
                         DescribeJsonType(root));
  }
  SLUICE_RETURN_IF_ERROR(
      CheckKeys(top, "", {"base_points", "characteristics"}, "base_points and characteristics"));
  ScorecardDefinition def;
  SLUICE_ASSIGN_OR_RETURN(element base, Field(top, "base_points", ""));
  SLUICE_ASSIGN_OR_RETURN(def.base_points, Number(base, "base_points"));
  SLUICE_ASSIGN_OR_RETURN(element chars, Field(top, "characteristics", ""));
  array list;
  if (chars.get(list) != simdjson::SUCCESS) {
    return Error("characteristics", std::string("expected an array of {\"input\", \"bins\"} "
                                                "objects, found ") +
                                        DescribeJsonType(chars));
  }
  for (element c : list) {
    SLUICE_ASSIGN_OR_RETURN(
        Characteristic ch,
        ReadCharacteristic(c, Index("characteristics", def.characteristics.size())));
    def.characteristics.push_back(std::move(ch));
  }
  return def;
}

}  // namespace

Result<ScorecardDefinition> ParseScorecardJson(std::string_view json, const std::string& name) {
  return ScorecardJsonReader(name).Read(json);
}

std::string ScorecardJsonPath(const ScorecardIssue& issue) {
  if (issue.characteristic < 0) return "";
  std::string path = Index("characteristics", static_cast<size_t>(issue.characteristic));
  if (issue.bin >= 0) path = Index(path + ".bins", static_cast<size_t>(issue.bin));
  return path;
}

}  // namespace sluice::model::internal
