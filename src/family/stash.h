#pragma once
// User-space half of bpf/stash.bpf.h: picks the store a tool's per-thread
// stash uses, between skeleton open and load.

#include <bpf/libbpf.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/feature_probe.h"

namespace snoopkit {

/// The store the stash uses; the other one becomes a one-slot array, so
/// that it costs nothing and loads on any kernel.
enum class StashStore { kTaskStorage, kThreadHash };

/// Task local storage where the kernel has it for tracepoint programs, the
/// hash by thread id elsewhere.
inline StashStore choose_stash_store(FeatureProbe& features) {
  return features.task_storage() ? StashStore::kTaskStorage : StashStore::kThreadHash;
}

/// Configures a stash declared as SK_STASH(name, ...): task_map and tid_map
/// are the skeleton's maps name_task and name_tid, flag its rodata
/// sk_stash_task_storage.
template <class Flag>
void configure_stash(StashStore store, bpf_map* task_map, bpf_map* tid_map, Flag& flag) {
  const bool task = store == StashStore::kTaskStorage;
  flag = task;
  spdlog::debug("per-thread stash: {}", task ? "task local storage" : "hash by thread id");
  bpf_map* unused = task ? tid_map : task_map;
  const __u32 value_size = bpf_map__value_size(unused);
  if (bpf_map__set_type(unused, BPF_MAP_TYPE_ARRAY) || bpf_map__set_map_flags(unused, 0) ||
      bpf_map__set_key_size(unused, 4) || bpf_map__set_value_size(unused, value_size) ||
      bpf_map__set_max_entries(unused, 1))
    throw Error("configure the per-thread stash", errno);
}

}  // namespace snoopkit
