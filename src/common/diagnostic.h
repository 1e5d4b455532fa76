#pragma once
// Diagnostics about a pipeline file: where (file:line:column), and what.

#include <string>
#include <vector>

namespace sluice {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  SourceLocation where;
  std::string message;  // "expected X, found Y"; may carry a "did you mean" hint
};

// "file:line:column: error: message"
std::string FormatDiagnostic(const Diagnostic& d);
std::string FormatDiagnostics(const std::vector<Diagnostic>& ds);

}  // namespace sluice
