#pragma once
// ReorderBuffer: puts streamed events into canonical order, (event time,
// arrival order), before they reach windowed state.
//
// The watermark is the largest event time seen minus the pipeline's
// lateness. An event older than the watermark when it arrives is late: it
// never enters state and becomes a notice for the late output. Other events
// wait here until the watermark reaches them and are then released in
// canonical order. With lateness 0 an event that is not late is released
// the moment it arrives.
//
// Notices (late events, and records rejected on input) wait in the same
// queue, keyed by the latest event time seen when they arrived, so that
// they come out at a place in the release sequence that depends only on the
// order of the input, not on how it was cut into reads: dead letters are as
// deterministic as the output.
//
// Rows are copied in (their source fields, raw text and origin) so that the
// caller may reuse its input batch.
//
// Thread safety: none.

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "io/record_io.h"
#include "types/batch.h"

namespace sluice::runtime {

// A rejection that owns its text.
struct Notice {
  enum class Kind : uint8_t { kRejected, kLate };
  Kind kind = Kind::kRejected;
  uint64_t record = 0, line = 0;
  std::string field, reason, raw;
  io::Rejection view() const { return {record, line, field, reason, raw}; }
};

class ReorderBuffer {
 public:
  // `input_layout`: the source fields (columns [0, n)); `time_column` is one
  // of them. `late_reason(time, watermark)` words a late event's notice.
  ReorderBuffer(const BatchLayout& input_layout, int time_column, int64_t lateness_ns,
                std::function<std::string(int64_t, int64_t)> late_reason, std::string time_field);

  // Takes the rows of `in` and the rejections of the same read, merged in
  // record order.
  void Add(const Batch& in, std::vector<Notice> rejected);
  // Moves released rows into `out`, in canonical order, until it is full or
  // a notice comes next; a notice that comes next while `out` is empty goes
  // to `notice`. With `drain` (the input has ended) everything is released.
  // Returns true if more is released (call again with an emptied batch).
  bool Release(Batch& out, bool drain, const std::function<void(const Notice&)>& notice);

  int64_t watermark() const { return watermark_; }
  size_t held_rows() const { return held_rows_; }
  size_t held() const { return heap_.size(); }

  // Checkpoints: every held item (a row, or a notice) with its queue key,
  // and the counters to continue with. Restoring re-adds each item with its
  // key, then calls Restore().
  using HeldVisitor = std::function<void(int64_t key_time, uint64_t arrival, const Batch* rows,
                                         size_t row, const Notice* notice)>;
  void ForEachHeld(const HeldVisitor& f) const;
  void AddHeldRow(const Batch& in, size_t row, int64_t key_time, uint64_t arrival);
  void AddHeldNotice(Notice n, int64_t key_time, uint64_t arrival);
  void Restore(int64_t max_time, uint64_t next_arrival);
  int64_t max_time() const { return max_time_; }
  uint64_t next_arrival() const { return arrival_; }

 private:
  static constexpr uint32_t kNotice = UINT32_MAX;
  struct Held {
    int64_t time;
    uint64_t arrival;
    uint32_t block, row;  // block == kNotice: row indexes notices_
    bool operator>(const Held& o) const {
      return time != o.time ? time > o.time : arrival > o.arrival;
    }
  };
  void AddRow(const Batch& in, size_t row, int64_t t, uint64_t arrival);
  void AddNotice(Notice n, int64_t key_time, uint64_t arrival);
  uint32_t BlockWithRoom();

  const BatchLayout& layout_;
  int time_column_;
  int64_t lateness_ns_;
  std::function<std::string(int64_t, int64_t)> late_reason_;
  std::string time_field_;
  int64_t max_time_ = INT64_MIN;
  int64_t watermark_ = INT64_MIN;
  uint64_t arrival_ = 0;
  size_t held_rows_ = 0;
  std::priority_queue<Held, std::vector<Held>, std::greater<Held>> heap_;
  std::vector<std::unique_ptr<Batch>> blocks_;
  std::vector<uint32_t> live_rows_;  // per block: rows not yet released
  std::vector<uint32_t> free_blocks_;
  uint32_t filling_ = UINT32_MAX;  // block being appended to
  std::vector<Notice> notices_;
  std::vector<uint32_t> free_notices_;
};

}  // namespace sluice::runtime
