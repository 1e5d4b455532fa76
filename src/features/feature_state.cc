#include "features/feature_state.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "features/internal/key_records.h"
#include "features/internal/key_table.h"
#include "features/internal/string_pool.h"
#include "features/internal/window_group.h"

namespace sluice::features {

int FeatureSet::Register(expr::WindowCall call) {
  // Key set: the same key columns in the same order.
  size_t ks = 0;
  for (; ks < keysets_.size(); ++ks) {
    if (keysets_[ks].columns == call.keys) break;
  }
  if (ks == keysets_.size()) {
    std::string lineage = call.key_lineage;
    for (const Type& t : call.key_types) lineage += "|" + TypeName(t);
    keysets_.push_back({call.keys, call.key_types, 0, std::move(lineage)});
  }
  KeySet& keyset = keysets_[ks];
  if (call.window_ns < 0 || keyset.max_window_ns < 0) {
    keyset.max_window_ns = -1;
  } else {
    keyset.max_window_ns = std::max(keyset.max_window_ns, call.window_ns);
  }
  // Aggregates over the same argument, filter and window share one group.
  std::string identity = call.value_text + "\x1f" + call.filter_text + "\x1f" +
                         std::to_string(call.window_ns) + "\x1f" +
                         std::to_string(call.half_life_ns) + "\x1f" +
                         (call.value >= 0 ? TypeName(call.value_type) : "");
  size_t g = 0;
  for (; g < groups_.size(); ++g) {
    if (groups_[g].keyset == ks && groups_[g].identity == identity) break;
  }
  if (g == groups_.size()) groups_.push_back({ks, identity, {}});
  const size_t member = groups_[g].calls.size();
  groups_[g].calls.push_back(calls_.size());
  calls_.push_back(std::move(call));
  step_member_.emplace_back(g, member);
  return static_cast<int>(step_member_.size()) - 1;
}

std::string FeatureSet::GroupLineage(size_t group) const {
  std::vector<std::string> members;
  for (size_t c : groups_[group].calls) {
    members.push_back(calls_[c].lineage + (calls_[c].exclude_current ? " excl" : ""));
  }
  std::sort(members.begin(), members.end());
  std::string out = keysets_[groups_[group].keyset].lineage;
  for (const auto& m : members) out += "\n" + m;
  return out;
}

std::unique_ptr<FeatureState> FeatureSet::NewState() const {
  return std::unique_ptr<FeatureState>(new FeatureState(*this));
}

FeatureState::FeatureState(const FeatureSet& set)
    : set_(set), strings_(std::make_unique<internal::StringPool>()) {
  for (const auto& ks : set.keysets_) {
    KeySetState state;
    state.table = std::make_unique<internal::KeyTable>(ks.columns, ks.types, set.key_groups_,
                                                       ks.max_window_ns);
    state.records = std::make_unique<internal::KeyRecords>();
    keysets_.push_back(std::move(state));
  }
  for (size_t g = 0; g < set.groups_.size(); ++g) {
    const auto& def = set.groups_[g];
    const expr::WindowCall& first = set.calls_[def.calls.front()];
    GroupState state;
    state.group = std::make_unique<internal::WindowGroup>(
        keysets_[def.keyset].table.get(), keysets_[def.keyset].records.get(), first.value,
        first.value_type, first.filter, first.window_ns, first.half_life_ns, strings_.get());
    for (size_t c : def.calls) state.group->AddMember(set.calls_[c]);
    keysets_[def.keyset].groups.push_back(g);
    groups_.push_back(std::move(state));
  }
  // Counts and sums over a shorter window than another group of the same
  // keys, filter and value are nested in the longest such group: they read
  // its events instead of holding their own (window_group.h).
  for (size_t g = 0; g < groups_.size(); ++g) {
    internal::WindowGroup& group = *groups_[g].group;
    const auto& def = set.groups_[g];
    const expr::WindowCall& mine = set.calls_[def.calls.front()];
    if (group.NestableLast()) {
      // time_since_last() reads the last time of a group with the same keys
      // and filter whose value is never null: every event that passes the
      // filter is its last event when it enters.
      size_t host = g;
      for (size_t h = 0; h < groups_.size() && host == g; ++h) {
        const expr::WindowCall& theirs = set.calls_[set.groups_[h].calls.front()];
        if (h != g && set.groups_[h].keyset == def.keyset && groups_[h].group->keeps_last() &&
            theirs.value >= 0 && theirs.value_never_null && theirs.filter == mine.filter &&
            theirs.filter_text == mine.filter_text) {
          host = h;
        }
      }
      host_of_.push_back(host);
      if (host != g) group.NestIn(groups_[host].group.get());
      continue;
    }
    if (!group.Nestable()) {
      host_of_.push_back(g);
      continue;
    }
    size_t host = groups_.size();
    for (size_t h = 0; h < groups_.size(); ++h) {
      internal::WindowGroup& other = *groups_[h].group;
      const expr::WindowCall& theirs = set.calls_[set.groups_[h].calls.front()];
      if (h == g || set.groups_[h].keyset != def.keyset || !other.holds_events() ||
          other.window_ns() <= group.window_ns() || theirs.filter != mine.filter ||
          theirs.filter_text != mine.filter_text) {
        continue;
      }
      // A count has no value: its host must have none either, or one that
      // is never null (an event with a null value does not enter a group
      // that has one).
      const bool same_value = mine.value < 0 ? theirs.value < 0 || theirs.value_never_null
                                             : theirs.value == mine.value &&
                                                   theirs.value_text == mine.value_text &&
                                                   theirs.value_type == mine.value_type;
      if (same_value &&
          (host == groups_.size() || other.window_ns() > groups_[host].group->window_ns())) {
        host = h;
      }
    }
    host_of_.push_back(host == groups_.size() ? g : host);
    if (host != groups_.size()) group.NestIn(groups_[host].group.get());
  }
  // The groups with the longest time window of their key table keep their
  // ring's oldest time in the record: their rings hold the most events, so
  // their oldest and newest records are usually in different cache lines.
  for (auto& ks : keysets_) {
    int64_t longest = 0;
    for (size_t g : ks.groups) {
      const internal::WindowGroup& group = *groups_[g].group;
      if (group.holds_events()) longest = std::max(longest, group.window_ns());
    }
    for (size_t g : ks.groups) {
      internal::WindowGroup& group = *groups_[g].group;
      group.DeclareFields(group.holds_events() && group.window_ns() == longest);
    }
  }
  for (auto& ks : keysets_) ks.records->Finish();
  for (auto& gs : groups_) gs.group->BindFields();
}

FeatureState::~FeatureState() = default;

void FeatureState::BeginBatch() {
  ++serial_;
  Sweep();
}

void FeatureState::Sweep() {
  for (auto& ks : keysets_) {
    if (ks.table->max_window_ns() < 0 || now_ == INT64_MIN) continue;
    // Amortised O(1) per event, and spread evenly: each batch looks at as
    // many key slots as events went by since the last sweep (and a few
    // more), going round the slots, so a pass over all keys takes about as
    // many events as there are keys, and no batch waits for all of them.
    if (ks.sweep_from >= ks.table->slot_limit()) ks.sweep_from = 0;
    const size_t count = ks.events_since_sweep + 64;
    ks.events_since_sweep = 0;
    std::vector<uint32_t>& expired = ks.expired;
    expired.clear();
    ks.table->Expired(now_, ks.sweep_from, count, &expired);
    ks.sweep_from += count;
    for (uint32_t slot : expired) {
      for (size_t g : ks.groups) groups_[g].group->Reset(slot);
      if (slot < ks.records->slots()) ks.records->Clear(slot);
      ks.table->Remove(slot);
    }
    evicted_ += expired.size();
  }
}

void FeatureState::RunStep(int step, Batch& batch) {
  const auto [g, member] = set_.step_member_[static_cast<size_t>(step)];
  GroupState& gs = groups_[g];
  const size_t rows = batch.size();
  if (gs.serial != serial_) {
    KeySetState& ks = keysets_[set_.groups_[g].keyset];
    const int64_t* times = batch.column(set_.time_column_).data<int64_t>();
    if (ks.serial != serial_) {
      ks.slots.resize(batch.capacity());
      ks.table->LookupBatch(batch, rows, times, ks.slots.data());
      ks.records->EnsureSlots(ks.table->slot_limit());
      // A key's running values for every group sit in one record: load the
      // batch's records once, for all the groups (see WindowGroup::Process).
      touch_sink_ += ks.records->Touch(ks.slots.data(), rows);
      ks.serial = serial_;
      ks.events_since_sweep += rows;
    }
    // A nested group is updated by its host, in the host's pass.
    GroupState& runner = gs.group->nested() ? groups_[host_of_[g]] : gs;
    if (runner.serial != serial_) {
      runner.group->Process(batch, ks.slots.data(), set_.time_column_);
      runner.serial = serial_;
    }
    gs.serial = serial_;
    if (rows > 0) now_ = std::max(now_, times[rows - 1]);
  }
  internal::GroupMember& m = gs.group->member(member);
  const expr::WindowCall& call = set_.calls_[set_.groups_[g].calls[member]];
  Column& out = batch.column(call.result);
  std::memcpy(out.valid(), m.valid.data(), rows);
  if (m.can_overflow) {
    for (size_t row = 0; row < rows; ++row) {
      if (m.overflow[row] != internal::Flag::kNo) batch.SetRowError(row, m.overflow_error);
    }
  }
  switch (call.result_type.kind) {
    case TypeKind::kFloat64:
    case TypeKind::kInt64:
    case TypeKind::kTimestamp:
      std::memcpy(out.data<uint64_t>(), m.words.data(), rows * sizeof(uint64_t));
      break;
    case TypeKind::kBool: {
      uint8_t* d = out.data<uint8_t>();
      for (size_t row = 0; row < rows; ++row) d[row] = m.words[row] != 0 ? 1 : 0;
      break;
    }
    case TypeKind::kEnum: {
      int32_t* d = out.data<int32_t>();
      for (size_t row = 0; row < rows; ++row) d[row] = static_cast<int32_t>(m.words[row]);
      break;
    }
    case TypeKind::kString: {
      std::string_view* d = out.data<std::string_view>();
      for (size_t row = 0; row < rows; ++row)
        d[row] = m.valid[row] != internal::Flag::kNo ? m.strings[row] : "";
      break;
    }
    default:
      ::sluice::internal::CheckFailed(__FILE__, __LINE__, "a windowed result type",
                                      TypeName(call.result_type));
  }
}

namespace {
constexpr uint32_t kImageMagic = 0x53464c53;  // "SLFS"
// 2: each key table and group is a section with its lineage, so that a
// reloaded pipeline can keep what it still defines the same way.
// 3: string values of up to 7 bytes are held as their own words, not as
// ids in the string pool (string_pool.h). Version 2 images load (their
// short strings' ids are converted); sluice before version 3 refuses
// version 3 images instead of reading those words as ids.
// 4: a window queue of one record may hold it in its reference, without a
// block (ring_pool.h). Version 2 and 3 images load as they are; sluice
// before version 4 refuses version 4 images.
constexpr uint32_t kImageVersion = 4;
constexpr uint32_t kOldestImageVersion = 2;

std::string Definition(const FeatureSet& set) {
  std::string d;
  for (const auto& c : set.calls()) d += c.signature + "\n";
  return d;
}

// An image taken apart: its sections, still encoded.
struct Image {
  std::string definition;
  int64_t now = INT64_MIN;
  uint64_t evicted = 0;
  std::string strings;
  struct Section {
    uint64_t keyset = 0;  // groups: the index of their key table
    std::string lineage;
    std::string bytes;
  };
  std::vector<Section> keysets, groups;
};

Status ReadImage(std::string_view bytes, Image* image) {
  StateReader r(bytes);
  uint32_t magic = 0, version = 0;
  if (!r.Get(&magic) || magic != kImageMagic || !r.Get(&version)) {
    return InvalidInput("not a sluice feature-state image");
  }
  if (version < kOldestImageVersion || version > kImageVersion) {
    return InvalidInput("feature-state image version " + std::to_string(version) +
                        " is not supported (this sluice writes version " +
                        std::to_string(kImageVersion) + ")");
  }
  uint64_t keysets = 0, groups = 0;
  bool ok = r.GetString(&image->definition) && r.Get(&image->now) && r.Get(&image->evicted) &&
            r.GetString(&image->strings) && r.Get(&keysets);
  // Every section takes at least 24 bytes: a bound before reserving.
  ok = ok && keysets <= bytes.size() / 24;
  for (uint64_t i = 0; ok && i < keysets; ++i) {
    Image::Section sec;
    ok = r.GetString(&sec.lineage) && r.GetString(&sec.bytes);
    image->keysets.push_back(std::move(sec));
  }
  ok = ok && r.Get(&groups) && groups <= bytes.size() / 24;
  for (uint64_t i = 0; ok && i < groups; ++i) {
    Image::Section sec;
    ok = r.Get(&sec.keyset) && sec.keyset < keysets && r.GetString(&sec.lineage) &&
         r.GetString(&sec.bytes);
    image->groups.push_back(std::move(sec));
  }
  if (!ok || !r.at_end()) return InvalidInput("feature-state image is corrupt or truncated");
  return Status::Ok();
}

template <typename T>
bool LoadSection(T& part, const std::string& bytes) {
  StateReader r(bytes);
  return part.Load(r) && r.at_end();
}

}  // namespace

std::string FeatureState::Save() const {
  StateWriter w;
  w.Put(kImageMagic);
  w.Put(kImageVersion);
  w.PutString(Definition(set_));
  w.Put(now_);
  w.Put<uint64_t>(evicted_);
  {
    StateWriter part;
    strings_->Save(part);
    w.PutString(part.bytes());
  }
  w.Put<uint64_t>(keysets_.size());
  for (size_t k = 0; k < keysets_.size(); ++k) {
    StateWriter part;
    keysets_[k].table->Save(part);
    w.PutString(set_.keysets_[k].lineage);
    w.PutString(part.bytes());
  }
  w.Put<uint64_t>(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    StateWriter part;
    groups_[g].group->Save(part);
    w.Put<uint64_t>(set_.groups_[g].keyset);
    w.PutString(set_.GroupLineage(g));
    w.PutString(part.bytes());
  }
  return std::move(w.bytes());
}

Status FeatureState::Load(std::string_view bytes) {
  Image image;
  SLUICE_RETURN_IF_ERROR(ReadImage(bytes, &image));
  if (image.definition != Definition(set_) || image.keysets.size() != keysets_.size() ||
      image.groups.size() != groups_.size()) {
    return InvalidInput(
        "the feature state was saved by a pipeline whose windowed features differ from this "
        "one's");
  }
  bool ok = LoadSection(*strings_, image.strings);
  for (size_t k = 0; ok && k < keysets_.size(); ++k) {
    ok = LoadSection(*keysets_[k].table, image.keysets[k].bytes);
  }
  for (size_t g = 0; ok && g < groups_.size(); ++g) {
    internal::WindowGroup& group = *groups_[g].group;
    ok = image.groups[g].keyset == set_.groups_[g].keyset &&
         LoadSection(group, image.groups[g].bytes) && group.StringsValid() &&
         group.slots() >= group.keys()->slot_limit();
    if (ok) group.RewordStrings();
  }
  // Nested groups' events, once their hosts' are loaded.
  for (size_t g = 0; ok && g < groups_.size(); ++g) {
    if (groups_[g].group->nested()) ok = groups_[g].group->AdoptNestedImage();
  }
  if (!ok) return InvalidInput("feature-state image is corrupt or truncated");
  now_ = image.now;
  evicted_ = image.evicted;
  return Status::Ok();
}

Status FeatureState::LoadMatching(std::string_view bytes, Carried* carried) {
  Image image;
  SLUICE_RETURN_IF_ERROR(ReadImage(bytes, &image));
  bool ok = LoadSection(*strings_, image.strings);
  // Key tables by lineage; each image section is used once.
  std::vector<int> from(keysets_.size(), -1);
  std::vector<uint8_t> used(image.keysets.size(), 0);
  for (size_t k = 0; ok && k < keysets_.size(); ++k) {
    for (size_t i = 0; i < image.keysets.size(); ++i) {
      if (used[i] == 0 && image.keysets[i].lineage == set_.keysets_[k].lineage) {
        used[i] = 1;
        from[k] = static_cast<int>(i);
        ok = LoadSection(*keysets_[k].table, image.keysets[i].bytes);
        break;
      }
    }
  }
  std::vector<uint8_t> group_used(image.groups.size(), 0);
  std::vector<uint8_t> kept_group(groups_.size(), 0);
  for (size_t g = 0; ok && g < groups_.size(); ++g) {
    const int source = from[set_.groups_[g].keyset];
    bool kept = false;
    if (source >= 0) {
      const std::string lineage = set_.GroupLineage(g);
      for (size_t i = 0; i < image.groups.size(); ++i) {
        if (group_used[i] == 0 && image.groups[i].keyset == static_cast<uint64_t>(source) &&
            image.groups[i].lineage == lineage) {
          group_used[i] = 1;
          internal::WindowGroup& group = *groups_[g].group;
          ok = LoadSection(group, image.groups[i].bytes) && group.StringsValid() &&
               group.slots() >= group.keys()->slot_limit();
          if (ok) group.RewordStrings();
          kept = true;
          break;
        }
      }
    }
    kept_group[g] = kept ? 1 : 0;
  }
  // A nested group keeps its events only if its host kept the same ones
  // (the host may be new in this pipeline: it then starts empty, and so
  // does the nested group).
  for (size_t g = 0; ok && g < groups_.size(); ++g) {
    internal::WindowGroup& group = *groups_[g].group;
    if (!group.nested()) continue;
    if (!group.AdoptNestedImage()) kept_group[g] = 0;
  }
  for (size_t g = 0; ok && g < groups_.size(); ++g) {
    for (size_t c : set_.groups_[g].calls) {
      (kept_group[g] != 0 ? carried->kept : carried->reset).push_back(set_.calls_[c].signature);
    }
  }
  if (!ok) return InvalidInput("feature-state image is corrupt or truncated");
  now_ = image.now;
  evicted_ = image.evicted;
  return Status::Ok();
}

size_t FeatureState::live_keys() const {
  size_t n = 0;
  for (const auto& ks : keysets_) n += ks.table->live();
  return n;
}

FeatureStats FeatureState::Stats() const {
  FeatureStats s;
  for (const auto& ks : keysets_) {
    s.live_keys += ks.table->live();
    s.state_bytes += ks.table->bytes_reserved() + ks.records->bytes_reserved() +
                     ks.slots.capacity() * sizeof(uint32_t);
  }
  for (const auto& gs : groups_) {
    s.nested_windows += gs.group->nested() ? 1 : 0;
    s.events_held += gs.group->events_held();
    s.state_bytes += gs.group->bytes_reserved();
    s.window_bytes += gs.group->window_bytes();
  }
  s.state_bytes += strings_->bytes_estimate();
  s.window_bytes += strings_->bytes_estimate();
  s.evicted_keys = evicted_;
  return s;
}

}  // namespace sluice::features
