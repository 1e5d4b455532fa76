#include "runtime/reorder_buffer.h"

#include <algorithm>

#include "common/check.h"

namespace sluice::runtime {
namespace {
constexpr size_t kBlockRows = 256;
}

ReorderBuffer::ReorderBuffer(const BatchLayout& input_layout, int time_column, int64_t lateness_ns,
                             std::function<std::string(int64_t, int64_t)> late_reason,
                             std::string time_field)
    : layout_(input_layout),
      time_column_(time_column),
      lateness_ns_(lateness_ns),
      late_reason_(std::move(late_reason)),
      time_field_(std::move(time_field)) {}

uint32_t ReorderBuffer::BlockWithRoom() {
  if (filling_ != UINT32_MAX && !blocks_[filling_]->full()) return filling_;
  if (!free_blocks_.empty()) {
    filling_ = free_blocks_.back();
    free_blocks_.pop_back();
    blocks_[filling_]->Clear();
  } else {
    blocks_.push_back(std::make_unique<Batch>(layout_, kBlockRows));
    live_rows_.push_back(0);
    filling_ = static_cast<uint32_t>(blocks_.size() - 1);
  }
  return filling_;
}

void ReorderBuffer::AddRow(const Batch& in, size_t row, int64_t t, uint64_t arrival) {
  const uint32_t b = BlockWithRoom();
  Batch& block = *blocks_[b];
  const auto r = static_cast<uint32_t>(block.size());
  block.AppendCopy(in, row, layout_.size());
  ++live_rows_[b];
  ++held_rows_;
  heap_.push({t, arrival, b, r});
}

void ReorderBuffer::AddNotice(Notice n, int64_t key_time, uint64_t arrival) {
  uint32_t i;
  if (!free_notices_.empty()) {
    i = free_notices_.back();
    free_notices_.pop_back();
    notices_[i] = std::move(n);
  } else {
    i = static_cast<uint32_t>(notices_.size());
    notices_.push_back(std::move(n));
  }
  heap_.push({key_time, arrival, kNotice, i});
}

void ReorderBuffer::Add(const Batch& in, std::vector<Notice> rejected) {
  const int64_t* times = in.column(time_column_).data<int64_t>();
  size_t k = 0;
  for (size_t row = 0; row <= in.size(); ++row) {
    // Rejections of records before this row come first.
    const uint64_t record = row < in.size() ? in.origin(row).record : UINT64_MAX;
    for (; k < rejected.size() && rejected[k].record < record; ++k) {
      AddNotice(std::move(rejected[k]), max_time_, arrival_++);
    }
    if (row == in.size()) break;
    const int64_t t = times[row];
    if (t < watermark_) {
      const Batch::RowOrigin& o = in.origin(row);
      AddNotice({Notice::Kind::kLate, o.record, o.line, time_field_, late_reason_(t, watermark_),
                 std::string(o.raw)},
                max_time_, arrival_++);
      continue;
    }
    AddRow(in, row, t, arrival_++);
    if (t > max_time_) {
      max_time_ = t;
      watermark_ = t - lateness_ns_;
    }
  }
}

bool ReorderBuffer::Release(Batch& out, bool drain,
                            const std::function<void(const Notice&)>& notice) {
  while (!heap_.empty() && (drain || heap_.top().time <= watermark_)) {
    if (out.full()) return true;
    const Held h = heap_.top();
    if (h.block == kNotice) {
      if (out.size() > 0) return true;  // process the rows before it first
      heap_.pop();
      notice(notices_[h.row]);
      notices_[h.row] = Notice{};
      free_notices_.push_back(h.row);
      continue;
    }
    heap_.pop();
    --held_rows_;
    out.AppendCopy(*blocks_[h.block], h.row, layout_.size());
    if (--live_rows_[h.block] == 0) {
      if (h.block != filling_) {
        free_blocks_.push_back(h.block);
      } else if (blocks_[h.block]->full()) {
        filling_ = UINT32_MAX;
        free_blocks_.push_back(h.block);
      }
    }
  }
  return false;
}

void ReorderBuffer::ForEachHeld(const HeldVisitor& f) const {
  auto copy = heap_;
  while (!copy.empty()) {
    const Held& h = copy.top();
    if (h.block == kNotice) {
      f(h.time, h.arrival, nullptr, 0, &notices_[h.row]);
    } else {
      f(h.time, h.arrival, blocks_[h.block].get(), h.row, nullptr);
    }
    copy.pop();
  }
}

void ReorderBuffer::AddHeldRow(const Batch& in, size_t row, int64_t key_time, uint64_t arrival) {
  AddRow(in, row, key_time, arrival);
}

void ReorderBuffer::AddHeldNotice(Notice n, int64_t key_time, uint64_t arrival) {
  AddNotice(std::move(n), key_time, arrival);
}

void ReorderBuffer::Restore(int64_t max_time, uint64_t next_arrival) {
  max_time_ = max_time;
  watermark_ = max_time == INT64_MIN ? INT64_MIN : max_time - lateness_ns_;
  arrival_ = std::max(arrival_, next_arrival);
}

}  // namespace sluice::runtime
