#pragma once
// Batches: the unit of work. A Batch holds up to `capacity` records as
// columns (one flat array and one validity array per column), laid out by a
// BatchLayout that the compiled pipeline fixes before any data is read:
//
//   [source fields in schema order][features][decision outputs][temporaries]
//
// Operators run over whole batches, so per record there is no name lookup,
// no virtual call per field and no heap allocation: columns are allocated
// once, strings go to the batch's StringArena, which keeps its blocks across
// batches. Batch size does not change any result: every operator computes
// row i from row i's inputs and from state updated in row order, so batch
// and streaming runs (which use different batch sizes) give the same output.
//
// Thread safety: a Batch belongs to one thread at a time.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "types/type.h"
#include "types/value.h"

namespace sluice {

// Append-only byte storage for the strings of one batch; Reset() keeps the
// blocks so that steady-state batches allocate nothing.
class StringArena {
 public:
  explicit StringArena(size_t block_size = 1 << 16) : block_size_(block_size) {}
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Returns `n` writable bytes, valid until Reset(). Inline while the
  // current block has room (most calls); the rest in NextBlock().
  char* Allocate(size_t n) {
    if (static_cast<size_t>(end_ - next_) >= n && next_ != nullptr) {
      char* p = next_;
      next_ += n;
      return p;
    }
    return NextBlock(n);
  }
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = Allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  void Reset();
  size_t bytes_reserved() const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  char* NextBlock(size_t n);

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;    // index of the block being filled
  char* next_ = nullptr;  // its first free byte
  char* end_ = nullptr;   // its end
};

struct ColumnSpec {
  std::string name;  // for messages and output headers
  Type type;
  std::optional<Value> constant;  // filled into every row when the batch is made
};

class BatchLayout {
 public:
  int Add(ColumnSpec spec) {
    columns_.push_back(std::move(spec));
    return static_cast<int>(columns_.size()) - 1;
  }
  const ColumnSpec& column(int i) const { return columns_[static_cast<size_t>(i)]; }
  size_t size() const { return columns_.size(); }

  // Reason lists: list 0 holds the decision's reasons; each policy that
  // gives reasons adds one.
  int AddReasonList() { return num_reason_lists_++; }
  int num_reason_lists() const { return num_reason_lists_; }

 private:
  std::vector<ColumnSpec> columns_;
  int num_reason_lists_ = 1;
};

class Column {
 public:
  Column(Type type, size_t capacity);

  const Type& type() const { return type_; }
  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(storage_.get());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(storage_.get());
  }
  uint8_t* valid() { return valid_.get(); }
  const uint8_t* valid() const { return valid_.get(); }
  bool is_valid(size_t row) const { return valid_[row] != 0; }

  // Fills rows [0, capacity) with `v` (and marks them valid or null).
  void Fill(const Value& v, size_t capacity, StringArena& arena);

 private:
  Type type_;
  std::unique_ptr<uint64_t[]> storage_;  // 8-byte aligned
  std::unique_ptr<uint8_t[]> valid_;
};

// One reason given for a decision. `text_template` >= 0 while the text
// still has to be filled in from values of the row (decide/reason_catalog.h).
struct Reason {
  std::string_view code;
  std::string_view text;
  int32_t text_template = -1;
};

// The reasons of every row of a batch: row i has reasons[begin[i]] up to
// reasons[begin[i] + count[i]].
struct ReasonList {
  std::vector<Reason> reasons;
  std::vector<uint32_t> begin;
  std::vector<uint32_t> count;
};

class Batch {
 public:
  Batch(const BatchLayout& layout, size_t capacity);
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool full() const { return size_ == capacity_; }
  Column& column(int i) { return columns_[static_cast<size_t>(i)]; }
  const Column& column(int i) const { return columns_[static_cast<size_t>(i)]; }
  size_t num_columns() const { return columns_.size(); }
  StringArena& arena() { return arena_; }

  // Row bookkeeping, filled by the source for each appended record.
  struct RowOrigin {
    uint64_t record = 0;   // 1-based record number in the input
    uint64_t line = 0;     // 1-based line where the record starts (0 if none)
    std::string_view raw;  // the record's raw text, in the arena
  };
  RowOrigin& origin(size_t row) { return origins_[row]; }
  const RowOrigin& origin(size_t row) const { return origins_[row]; }

  // Record errors raised while evaluating row `row` (0 = none). The code
  // indexes the pipeline's error-message table; the first error wins.
  uint32_t row_error(size_t row) const { return row_errors_[row]; }
  uint32_t* row_errors() { return row_errors_.data(); }
  void SetRowError(size_t row, uint32_t code) {
    if (row_errors_[row] == 0) row_errors_[row] = code;
  }
  bool any_row_error() const;

  // Reasons per row: a span of reasons() (filled by the decision stage).
  // These accessors are list 0, the decision's.
  std::vector<Reason>& reasons() { return lists_[0].reasons; }
  const std::vector<Reason>& reasons() const { return lists_[0].reasons; }
  uint32_t* reason_begin() { return lists_[0].begin.data(); }
  uint32_t* reason_count() { return lists_[0].count.data(); }
  const uint32_t* reason_begin() const { return lists_[0].begin.data(); }
  const uint32_t* reason_count() const { return lists_[0].count.data(); }
  ReasonList& reason_list(int i) { return lists_[static_cast<size_t>(i)]; }
  const ReasonList& reason_list(int i) const { return lists_[static_cast<size_t>(i)]; }
  size_t num_reason_lists() const { return lists_.size(); }

  // Makes room for one more row and returns its index. REQUIRES: !full().
  size_t AppendRow() { return size_++; }
  // Appends a copy of `src`'s row `row`: its first `num_columns` columns
  // (strings into this batch's arena) and its origin. REQUIRES: !full(),
  // and the first `num_columns` columns of both batches have equal types.
  void AppendCopy(const Batch& src, size_t row, size_t num_columns);
  // Drops the last row (used when decoding a record fails half way).
  void PopRow() { --size_; }
  // Empties the batch: rows, arena, errors, reasons. Constant columns stay.
  void Clear();

 private:
  size_t capacity_;
  size_t size_ = 0;
  StringArena arena_;
  StringArena constant_arena_;  // strings of constant columns; never reset
  std::vector<Column> columns_;
  std::vector<RowOrigin> origins_;
  std::vector<uint32_t> row_errors_;
  std::vector<ReasonList> lists_;
};

}  // namespace sluice
