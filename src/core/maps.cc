#include "core/maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <vector>

#include "core/error.h"

namespace snoopkit {

void drain_hash(bpf_map* map, const EntryVisitor& visit) {
  const int fd = bpf_map__fd(map);
  const std::size_t key_size = bpf_map__key_size(map), value_size = bpf_map__value_size(map);
  // Keys first: deleting while walking with get_next_key can restart the walk.
  std::vector<unsigned char> keys, key(key_size), value(value_size);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, key.data()) == 0) {
    keys.insert(keys.end(), key.begin(), key.end());
    prev = keys.data() + keys.size() - key_size;
  }
  if (errno != ENOENT) throw Error(std::string("read map ") + bpf_map__name(map), errno);

  for (std::size_t off = 0; off < keys.size(); off += key_size) {
    const void* k = keys.data() + off;
    // One step, so an update between reading and deleting is not lost
    // (hash maps: Linux 5.14); else read, then delete.
    if (bpf_map_lookup_and_delete_elem(fd, k, value.data()) != 0) {
      if (errno == ENOENT) continue;
      if (bpf_map_lookup_elem(fd, k, value.data()) != 0) continue;
      bpf_map_delete_elem(fd, k);
    }
    visit(k, value.data());
  }
}

}  // namespace snoopkit
