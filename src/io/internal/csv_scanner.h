#pragma once
// The CSV (RFC 4180) tokenizer: splits the record at the start of a byte
// range into field spans, or says that more bytes are needed.
//
// Scan() first tries a fast path that classifies 64 bytes at a time (SSE2
// on x86-64, a portable loop elsewhere) and handles well-formed records
// that end in the bytes at hand. Anything else (a quote inside an unquoted
// field, text after a closing quote, a bare CR after a closing quote, a
// record cut by the end of the bytes) goes to ScanGeneral(), which looks at
// one field at a time and defines the behaviour. The two give the same
// result for every input; tests check this on random inputs.
//
// Thread safety: a CsvScanner belongs to one thread.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::io::internal {

struct CsvFieldSpan {
  uint32_t begin;  // content offsets in the record (quotes excluded)
  uint32_t end;
  bool quoted;
  bool escaped;  // quoted and holds "" pairs
};

enum class CsvProblem : uint8_t { kNone, kUnterminatedQuote, kAfterClosingQuote, kQuoteInUnquoted };

struct CsvScannedRecord {
  size_t length = 0;      // bytes of the record, line end excluded
  size_t consumed = 0;    // bytes up to and including the line end
  uint64_t newlines = 0;  // LFs consumed (inside quotes and the line end)
  CsvProblem problem = CsvProblem::kNone;
  size_t problem_field = 0;
  char problem_char = 0;
};

enum class CsvScanStatus { kRecord, kNeedMore, kEnd };

class CsvScanner {
 public:
  // Bytes past the end of the data that Scan() may read (their values do
  // not matter). ChunkReader::kPadding provides them.
  static constexpr size_t kPadding = 64;

  explicit CsvScanner(char delimiter) : delimiter_(delimiter) { spans_.reserve(64); }

  // Scans the record at the start of d[0, n). kNeedMore: the record may go
  // on past n (only when !eof). kEnd: n == 0 and eof. On kRecord, spans()
  // holds the record's fields.
  // REQUIRES: d[n, n + kPadding) is readable.
  CsvScanStatus Scan(const char* d, size_t n, bool eof, CsvScannedRecord* r);

  // The reference tokenizer, one field at a time; same contract as Scan().
  CsvScanStatus ScanGeneral(const char* d, size_t n, bool eof, CsvScannedRecord* r);

  // The fields of the record last scanned.
  const std::vector<CsvFieldSpan>& spans() const { return spans_; }

 private:
  // Scans a well-formed record that ends before n; false if the record is
  // anything else (then spans_ and *r are unspecified).
  bool ScanFast(const char* d, size_t n, CsvScannedRecord* r);
  // Index of the first delimiter, LF or quote in d[i, n), or n.
  size_t FindSpecial(const char* d, size_t i, size_t n) const;

  char delimiter_;
  std::vector<CsvFieldSpan> spans_;
};

}  // namespace sluice::io::internal
