#include "common/diagnostic.h"

#include <fmt/format.h>

namespace sluice {

std::string FormatDiagnostic(const Diagnostic& d) {
  if (d.where.line > 0) {
    return fmt::format("{}:{}:{}: error: {}", d.where.file, d.where.line, d.where.column,
                       d.message);
  }
  return fmt::format("{}: error: {}", d.where.file, d.message);
}

std::string FormatDiagnostics(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += FormatDiagnostic(d);
    out += '\n';
  }
  return out;
}

}  // namespace sluice
