#pragma once
// Windowed features: `count() over 1h by card_id`, `avg(amount) over 30d by
// card_id exclude current`, ... (semantics in docs/windows.md).
//
// A FeatureSet is the immutable definition, filled while the pipeline's
// expressions are compiled (it is their expr::WindowRegistry). A
// FeatureState is the mutable state of one run: per-key tables and window
// contents; it runs the Program's windowed steps (expr::StepRunner).
//
// Order: rows must reach the state in canonical order, (event time, arrival
// order): `sluice run` sorts its input, `sluice stream` releases events from
// its reorder buffer. Every row updates state in row order, so the results
// do not depend on how rows are cut into batches.
//
// Thread safety: a FeatureSet may be shared; a FeatureState belongs to one
// thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "sluice/status.h"
#include "types/batch.h"

namespace sluice::features {

namespace internal {
class KeyRecords;
class KeyTable;
class WindowGroup;
class StringPool;
}  // namespace internal

class FeatureState;

struct FeatureStats {
  size_t live_keys = 0;     // over every `by` clause
  size_t events_held = 0;   // events held in windows
  size_t state_bytes = 0;   // all memory reserved for state
  size_t window_bytes = 0;  // the part that holds window contents
  size_t evicted_keys = 0;  // since the state was made
  // Groups of windows that read a longer window's events instead of holding
  // their own (see WindowGroup: nested windows).
  size_t nested_windows = 0;
  // Memory per live key beyond the events held in windows.
  double bytes_per_key() const {
    return live_keys == 0
               ? 0.0
               : static_cast<double>(state_bytes - window_bytes) / static_cast<double>(live_keys);
  }
};

class FeatureSet final : public expr::WindowRegistry {
 public:
  static constexpr uint32_t kDefaultKeyGroups = 128;
  // `time_column`: the batch column of the event time (-1: the pipeline has
  // none, and windowed aggregates are refused before they get here).
  explicit FeatureSet(int time_column, uint32_t key_groups = kDefaultKeyGroups)
      : time_column_(time_column), key_groups_(key_groups) {}

  int Register(expr::WindowCall call) override;
  bool empty() const { return calls_.empty(); }
  const std::vector<expr::WindowCall>& calls() const { return calls_; }
  uint32_t key_groups() const { return key_groups_; }
  int time_column() const { return time_column_; }

  std::unique_ptr<FeatureState> NewState() const;

 private:
  friend class FeatureState;
  struct KeySet {
    std::vector<int> columns;
    std::vector<Type> types;
    int64_t max_window_ns = 0;  // -1: unbounded
    std::string lineage;        // the keys' names, definitions and types
  };
  struct Group {
    size_t keyset;
    std::string identity;  // value, filter, window, half-life
    std::vector<size_t> calls;
  };
  int time_column_;
  uint32_t key_groups_;
  std::vector<expr::WindowCall> calls_;
  std::vector<KeySet> keysets_;
  std::vector<Group> groups_;
  std::vector<std::pair<size_t, size_t>> step_member_;  // step -> group, member

  // What a group's saved state means: its members' lineages, sorted.
  std::string GroupLineage(size_t group) const;
};

class FeatureState final : public expr::StepRunner {
 public:
  ~FeatureState() override;

  // Call before running a batch through the Program.
  void BeginBatch();
  void RunStep(int step, Batch& batch) override;
  // Walks every window's state (O(keys)): for summaries, not per batch.
  FeatureStats Stats() const;
  // Keys with state over every `by` clause, in O(number of clauses).
  size_t live_keys() const;

  // A binary image of the whole state, for checkpoints; Load restores it
  // into a fresh state of the same FeatureSet. Load fails (and the state
  // must not be used) if the image is corrupt or was made by windows
  // defined differently.
  std::string Save() const;
  Status Load(std::string_view image);

  // What LoadMatching kept: signatures of the aggregates whose state came
  // from the image, and of those that start empty.
  struct Carried {
    std::vector<std::string> kept;
    std::vector<std::string> reset;
  };
  // Restores, into a fresh state, the part of an image saved by another
  // version of the pipeline that this one still defines the same way:
  // aggregates are kept by lineage (expr::WindowCall::lineage: the same
  // aggregate of the same value, filter, window and keys, down to the
  // definitions of the features and fields they use), in the groups they
  // share state in; everything else starts empty. Fails (and the state must
  // not be used) if the image is corrupt.
  Status LoadMatching(std::string_view image, Carried* carried);

 private:
  friend class FeatureSet;
  explicit FeatureState(const FeatureSet& set);
  void Sweep();

  struct KeySetState {
    std::unique_ptr<internal::KeyTable> table;
    std::unique_ptr<internal::KeyRecords> records;  // every group's running values, per slot
    std::vector<uint32_t> slots;                    // this batch's rows
    uint64_t serial = 0;
    size_t events_since_sweep = 0;
    size_t sweep_from = 0;          // the next key slot the sweep looks at
    std::vector<uint32_t> expired;  // the sweep's scratch
    std::vector<size_t> groups;
  };
  struct GroupState {
    std::unique_ptr<internal::WindowGroup> group;
    uint64_t serial = 0;
  };
  const FeatureSet& set_;
  std::unique_ptr<internal::StringPool> strings_;
  std::vector<KeySetState> keysets_;
  std::vector<GroupState> groups_;
  std::vector<size_t> host_of_;  // per group: the group that updates it (itself if not nested)
  uint64_t serial_ = 0;
  int64_t now_ = INT64_MIN;  // time of the latest event processed
  size_t evicted_ = 0;
  uint64_t touch_sink_ = 0;  // keeps the loads of KeyRecords::Touch from being optimised away
};

}  // namespace sluice::features
