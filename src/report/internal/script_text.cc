#include "report/internal/script_text.h"

#include <cctype>

namespace sluice::report::internal {
namespace {
bool StartsWithNoCase(std::string_view text, size_t at, std::string_view lower_prefix) {
  if (text.size() - at < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != lower_prefix[i]) return false;
  }
  return true;
}
}  // namespace

std::string ScriptSafeJson(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ScriptSafeJs(std::string_view js) {
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && (StartsWithNoCase(js, i, "</script") || js.substr(i, 4) == "<!--")) {
      out += '<';
      out += '\\';
      continue;  // the '/' or '!' follows on the next turn
    }
    out += js[i];
  }
  return out;
}

std::string_view WithoutSourceMapComment(std::string_view js) {
  std::string_view body = js;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
    body.remove_suffix(1);
  }
  size_t line_start = body.rfind('\n');
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string_view last_line = body.substr(line_start);
  if (last_line.starts_with("//# sourceMappingURL=") ||
      last_line.starts_with("//@ sourceMappingURL=")) {
    return js.substr(0, line_start);
  }
  return js;
}

}  // namespace sluice::report::internal
