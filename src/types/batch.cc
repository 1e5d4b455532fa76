#include "types/batch.h"

#include <algorithm>

#include "common/check.h"

namespace sluice {

char* StringArena::NextBlock(size_t n) {
  // The current block is full: the next one kept from earlier batches that
  // has room, or a new one.
  if (!blocks_.empty()) ++current_;
  while (current_ < blocks_.size()) {
    Block& b = blocks_[current_];
    if (b.size >= n) {
      next_ = b.data.get() + n;
      end_ = b.data.get() + b.size;
      return b.data.get();
    }
    ++current_;
  }
  // The first block is small (a batch of one event needs little), the
  // others full-sized; bytes are not zeroed (they are written before read).
  const size_t wanted = blocks_.empty() ? std::min<size_t>(block_size_, 4096) : block_size_;
  const size_t size = std::max(wanted, n);
  blocks_.push_back(Block{std::make_unique_for_overwrite<char[]>(size), size});
  current_ = blocks_.size() - 1;
  next_ = blocks_.back().data.get() + n;
  end_ = blocks_.back().data.get() + size;
  return blocks_.back().data.get();
}

void StringArena::Reset() {
  current_ = 0;
  if (blocks_.empty()) return;
  next_ = blocks_[0].data.get();
  end_ = next_ + blocks_[0].size;
}

size_t StringArena::bytes_reserved() const {
  size_t total = 0;
  for (const auto& b : blocks_) total += b.size;
  return total;
}

Column::Column(Type type, size_t capacity) : type_(std::move(type)) {
  size_t bytes = ElementSize(type_.kind) * std::max<size_t>(capacity, 1);
  storage_.reset(new uint64_t[(bytes + 7) / 8]());
  valid_.reset(new uint8_t[std::max<size_t>(capacity, 1)]());
}

void Column::Fill(const Value& v, size_t capacity, StringArena& arena) {
  std::memset(valid_.get(), v.is_null ? 0 : 1, capacity);
  if (v.is_null) return;
  switch (type_.kind) {
    case TypeKind::kNull:
      break;
    case TypeKind::kBool:
      std::fill_n(data<uint8_t>(), capacity, v.b ? 1 : 0);
      break;
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      std::fill_n(data<int64_t>(), capacity, v.i);
      break;
    case TypeKind::kFloat64:
      std::fill_n(data<double>(), capacity, v.f);
      break;
    case TypeKind::kEnum:
      std::fill_n(data<int32_t>(), capacity, static_cast<int32_t>(v.i));
      break;
    case TypeKind::kString: {
      std::string_view s = arena.Copy(v.s);
      std::fill_n(data<std::string_view>(), capacity, s);
      break;
    }
  }
}

Batch::Batch(const BatchLayout& layout, size_t capacity)
    : capacity_(capacity),
      origins_(capacity),
      row_errors_(capacity, 0),
      lists_(static_cast<size_t>(layout.num_reason_lists())) {
  SLUICE_CHECK(capacity > 0);
  for (ReasonList& l : lists_) {
    l.begin.assign(capacity, 0);
    l.count.assign(capacity, 0);
  }
  columns_.reserve(layout.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    const ColumnSpec& spec = layout.column(static_cast<int>(i));
    columns_.emplace_back(spec.type, capacity);
    if (spec.constant) columns_.back().Fill(*spec.constant, capacity, constant_arena_);
  }
}

bool Batch::any_row_error() const {
  for (size_t i = 0; i < size_; ++i) {
    if (row_errors_[i] != 0) return true;
  }
  return false;
}

void Batch::Clear() {
  std::fill_n(row_errors_.begin(), size_, 0u);
  for (ReasonList& l : lists_) {
    std::fill_n(l.count.begin(), size_, 0u);
    l.reasons.clear();
  }
  size_ = 0;
  arena_.Reset();
}

void Batch::AppendCopy(const Batch& src, size_t row, size_t num_columns) {
  SLUICE_CHECK(!full());
  SLUICE_CHECK_LE(num_columns, std::min(columns_.size(), src.columns_.size()));
  const size_t to = size_++;
  for (size_t c = 0; c < num_columns; ++c) {
    const Column& from = src.columns_[c];
    Column& into = columns_[c];
    into.valid()[to] = from.valid()[row];
    if (from.type().kind == TypeKind::kString) {
      into.data<std::string_view>()[to] =
          from.valid()[row] ? arena_.Copy(from.data<std::string_view>()[row]) : std::string_view();
    } else {
      const size_t width = ElementSize(from.type().kind);
      std::memcpy(reinterpret_cast<char*>(into.data<uint64_t>()) + to * width,
                  reinterpret_cast<const char*>(from.data<uint64_t>()) + row * width, width);
    }
  }
  origins_[to] = src.origins_[row];
  origins_[to].raw = arena_.Copy(src.origins_[row].raw);
}

}  // namespace sluice
