// Fuzz target: bpfload's object opening path, up to what --list prints:
// the file check, the BTF check, libbpf's open, the inventory. Invariant:
// any file ends in the inventory or one error (UsageError, Error), never a
// crash or a leaked descriptor. Nothing enters the kernel.
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "core/error.h"
#include "bpfload/object_file.h"
#include "bpfload/object_setup.h"
#include "core/sink.h"

using namespace snoopkit;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fd = memfd_create("object", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    try {
      check_object_file(path);
      ObjectFile obj = ObjectFile::open(path, "");
      check_selection(obj, {}, {});
      Sink out(-1);
      write_inventory(out, obj);
    } catch (const UsageError&) {
    } catch (const Error&) {
    }
  }
  close(fd);
  return 0;
}
