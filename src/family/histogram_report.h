#pragma once
// What the log2-histogram summary tools (biolatency, runqlat) share: their
// columns, the BPF hash map drained into entries sorted by key every
// interval, and the frame of each histogram's record. The tool adds only
// what labels a histogram (a disk, a pid, ...).

#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/histogram.h"
#include "core/maps.h"
#include "core/output.h"
#include "core/record.h"
#include "core/session.h"
#include "bpf/snoopkit_hist.h"

namespace snoopkit {

/// The histograms of a map of Key -> Value, one record each per report.
template <class Key, class Value>
class HistogramReport {
 public:
  struct Entry {
    Key key;
    Value value;
  };

  /// type: the record type; timestamp: a TIME line with each report (-T);
  /// labelled: one histogram per key (disk, pid, ...), not one for
  /// everything; ms: milliseconds rather than microseconds (-m).
  HistogramReport(const char* type, bool timestamp, bool labelled, bool ms)
      : type_(type), unit_(ms ? "msecs" : "usecs"), timestamp_(timestamp), labelled_(labelled) {}

  /// [TIME] [LABEL] buckets: the columns for Session::report.
  std::vector<Column> columns() const {
    std::vector<Column> cols;
    if (timestamp_) cols.push_back({"", "TIME"});
    if (labelled_) cols.push_back({"", "LABEL"});
    cols.push_back({"", "buckets"});
    return cols;
  }

  /// Drains map (see drain_hash) into entries sorted by less. Unlabelled,
  /// an interval without events still reports one, empty, histogram: all.
  template <class Less>
  const std::vector<Entry>& drain(bpf_map* map, Less less, const Entry& all = {}) {
    entries_.clear();
    drain_hash(map, [&](const void* k, const void* v) {
      Entry e{};
      std::memcpy(&e.key, k, sizeof(e.key));
      std::memcpy(&e.value, v, sizeof(e.value));
      entries_.push_back(e);
    });
    std::sort(entries_.begin(), entries_.end(), less);
    if (entries_.empty() && !labelled_) entries_.push_back(all);
    return entries_;
  }

  /// Starts the record of one histogram: its type, time stamp and TIME line.
  Record& begin(Session& s, Emit& emit) {
    r_.clear();
    r_.set_type(type_);
    s.stamp(r_, emit.now());
    if (timestamp_) r_.add_text_only("TIME", [&] { return s.clock().hms(emit.now()); });
    return r_;
  }

  /// Ends it with the unit, total and buckets of slots (SK_HIST_SLOTS of
  /// them, as the BPF side fills them), counts its events and writes it.
  void end(const std::uint32_t* slots, Emit& emit) {
    hist_ = log2_histogram(unit_, slots, SK_HIST_SLOTS);
    r_.add_raw("unit", unit_);
    r_.add_uint("total", hist_.total());
    r_.add_histogram("buckets", hist_);
    emit.count_events(hist_.total());
    emit.write(r_);
  }

 private:
  const char* type_;
  const char* unit_;
  bool timestamp_, labelled_;
  std::vector<Entry> entries_;
  Histogram hist_;  // the record holds a view of it until the next begin()
  Record r_;
};

}  // namespace snoopkit
