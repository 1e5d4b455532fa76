#include "io/internal/csv_scanner.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::io::internal {
namespace {

// Where the bytes that matter to the tokenizer are in 64 bytes: bit k is
// set for byte k.
struct ByteClasses {
  uint64_t special;  // delimiter, LF or quote
  uint64_t quote;
};

ByteClasses Classify64(const char* p, char delimiter) {
  ByteClasses c{0, 0};
#if defined(__SSE2__)
  const __m128i delim = _mm_set1_epi8(delimiter);
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i quote = _mm_set1_epi8('"');
  for (int k = 0; k < 4; ++k) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i q = _mm_cmpeq_epi8(x, quote);
    __m128i s = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, delim), _mm_cmpeq_epi8(x, lf)), q);
    c.special |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(s))} << (16 * k);
    c.quote |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(q))} << (16 * k);
  }
#else
  for (int k = 0; k < 64; ++k) {
    uint64_t bit = uint64_t{1} << k;
    if (p[k] == '"') c.quote |= bit;
    if (p[k] == '"' || p[k] == '\n' || p[k] == delimiter) c.special |= bit;
  }
#endif
  return c;
}

}  // namespace

CsvScanStatus CsvScanner::Scan(const char* d, size_t n, bool eof, CsvScannedRecord* r) {
  if (ScanFast(d, n, r)) return CsvScanStatus::kRecord;
  return ScanGeneral(d, n, eof, r);
}

bool CsvScanner::ScanFast(const char* d, size_t n, CsvScannedRecord* r) {
  spans_.clear();
  // The classes of d[base, base + 64), bits at or past n cleared.
  size_t base = 0;
  ByteClasses block{0, 0};
  bool loaded = false;
  auto load = [&](size_t at) {
    base = at;
    block = Classify64(d + at, delimiter_);
    if (n - at < 64) {
      uint64_t in_range = (uint64_t{1} << (n - at)) - 1;
      block.special &= in_range;
      block.quote &= in_range;
    }
    loaded = true;
  };
  // The first byte at or after p of the chosen class, or n.
  auto next = [&](size_t p, bool quote_only) -> size_t {
    for (;;) {
      if (!loaded || p - base >= 64) {
        if (p >= n) return n;
        load(p);
      }
      uint64_t m = (quote_only ? block.quote : block.special) >> (p - base);
      if (m != 0) return p + static_cast<size_t>(__builtin_ctzll(m));
      p = base + 64;
      if (p >= n) return n;
    }
  };

  uint64_t newlines = 0;
  size_t i = 0;
  for (;;) {
    if (i >= n) return false;
    size_t j;  // the delimiter or LF after the field
    if (d[i] != '"') {
      j = next(i, false);
      if (j >= n || d[j] == '"') return false;
      size_t end = j;
      if (d[j] == '\n' && j > i && d[j - 1] == '\r') --end;
      spans_.push_back(
          CsvFieldSpan{static_cast<uint32_t>(i), static_cast<uint32_t>(end), false, false});
    } else {
      bool escaped = false;
      size_t q = next(i + 1, true);
      for (;;) {
        if (q + 1 >= n) return false;  // no closing quote, or it is the last byte
        if (d[q + 1] != '"') break;
        escaped = true;
        q = next(q + 2, true);
      }
      j = q + 1;
      if (d[j] == '\r') {
        if (j + 1 >= n || d[j + 1] != '\n') return false;
        ++j;
      } else if (d[j] != delimiter_ && d[j] != '\n') {
        return false;
      }
      newlines += static_cast<uint64_t>(std::count(d + i + 1, d + q, '\n'));
      spans_.push_back(
          CsvFieldSpan{static_cast<uint32_t>(i + 1), static_cast<uint32_t>(q), true, escaped});
    }
    if (d[j] == delimiter_) {
      i = j + 1;
      continue;
    }
    size_t end = j;
    if (end > 0 && d[end - 1] == '\r') --end;
    r->length = end;
    r->consumed = j + 1;
    r->newlines = newlines + 1;
    r->problem = CsvProblem::kNone;
    r->problem_field = 0;
    r->problem_char = 0;
    return true;
  }
}

size_t CsvScanner::FindSpecial(const char* d, size_t i, size_t n) const {
  // Eight bytes at a time: d is readable for kPadding bytes past n, and
  // hits past n are cut off.
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  while (i < n) {
    uint64_t w;
    std::memcpy(&w, d + i, 8);
    uint64_t hit = zero_bytes(w ^ (kOnes * static_cast<uint8_t>(delimiter_))) |
                   zero_bytes(w ^ (kOnes * '\n')) | zero_bytes(w ^ (kOnes * '"'));
    if (hit != 0) return std::min(n, i + static_cast<size_t>(__builtin_ctzll(hit)) / 8);
    i += 8;
  }
  return n;
}

CsvScanStatus CsvScanner::ScanGeneral(const char* d, size_t n, bool eof, CsvScannedRecord* r) {
  spans_.clear();
  *r = CsvScannedRecord();
  if (n == 0) return eof ? CsvScanStatus::kEnd : CsvScanStatus::kNeedMore;
  size_t i = 0;
  auto note = [r](CsvProblem p, size_t field, char c) {
    if (r->problem == CsvProblem::kNone) {
      r->problem = p;
      r->problem_field = field;
      r->problem_char = c;
    }
  };
  for (;;) {
    // The span is built in locals and stored once: building it on the stack
    // and copying it costs a store-forwarding stall per field.
    size_t f_begin = i, f_end = i;
    bool f_quoted = false, f_escaped = false;
    if (i == n && !eof) return CsvScanStatus::kNeedMore;
    size_t j;  // where the field's text ends (at a delimiter, LF or the end)
    if (i < n && d[i] == '"') {
      f_quoted = true;
      size_t k = i + 1;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(d + k, '"', n - k));
        if (q == nullptr) {
          if (!eof) return CsvScanStatus::kNeedMore;
          r->newlines += static_cast<uint64_t>(std::count(d + k, d + n, '\n'));
          note(CsvProblem::kUnterminatedQuote, spans_.size(), 0);
          f_begin = i + 1;
          f_end = n;
          spans_.push_back(CsvFieldSpan{static_cast<uint32_t>(f_begin),
                                        static_cast<uint32_t>(f_end), f_quoted, f_escaped});
          r->length = n;
          r->consumed = n;
          return CsvScanStatus::kRecord;
        }
        size_t qi = static_cast<size_t>(q - d);
        r->newlines += static_cast<uint64_t>(std::count(d + k, q, '\n'));
        if (qi + 1 == n && !eof) return CsvScanStatus::kNeedMore;
        if (qi + 1 < n && d[qi + 1] == '"') {
          f_escaped = true;
          k = qi + 2;
          continue;
        }
        f_begin = i + 1;
        f_end = qi;
        j = qi + 1;
        break;
      }
      // After the closing quote: a delimiter, a line end or the end of input.
      if (j < n && d[j] != delimiter_ && d[j] != '\n') {
        if (d[j] == '\r' && j + 1 == n && !eof) return CsvScanStatus::kNeedMore;
        if (!(d[j] == '\r' && (j + 1 == n || d[j + 1] == '\n'))) {
          note(CsvProblem::kAfterClosingQuote, spans_.size(), d[j]);
          while (j < n && d[j] != delimiter_ && d[j] != '\n') ++j;
          if (j == n && !eof) return CsvScanStatus::kNeedMore;
        } else {
          ++j;  // the CR of a CRLF (or a final CR)
        }
      }
    } else {
      j = FindSpecial(d, i, n);
      if (j < n && d[j] == '"') {
        note(CsvProblem::kQuoteInUnquoted, spans_.size(), '"');
        while (j < n && d[j] != delimiter_ && d[j] != '\n') ++j;
      }
      if (j == n && !eof) return CsvScanStatus::kNeedMore;
      f_end = j;
      if (j > i && d[j - 1] == '\r' && (j == n || d[j] == '\n')) --f_end;
    }
    spans_.push_back(CsvFieldSpan{static_cast<uint32_t>(f_begin), static_cast<uint32_t>(f_end),
                                  f_quoted, f_escaped});
    if (j < n && d[j] == delimiter_) {
      i = j + 1;
      continue;
    }
    // A line end or the end of the input ends the record.
    size_t end = j;
    if (end > 0 && d[end - 1] == '\r' && (end == n || d[end] == '\n')) --end;
    r->length = end;
    if (j < n) {
      r->consumed = j + 1;
      r->newlines += 1;
    } else {
      r->consumed = n;
    }
    return CsvScanStatus::kRecord;
  }
}

}  // namespace sluice::io::internal
