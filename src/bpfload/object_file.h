#pragma once
// RAII over a BPF object file that was not built with the tool (no
// skeleton): open, list, load with the verifier's log kept, attach each
// program by its section name. Used by bpfload.

#include <bpf/libbpf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpfload/bpf_sections.h"

namespace snoopkit {

/// Checks, before anything is loaded, that path names a readable regular
/// ELF file for the BPF machine (a FIFO is refused, never waited for);
/// throws UsageError (exit 2) with what is wrong.
void check_object_file(const std::string& path);

struct ProgramInfo {
  bpf_program* prog = nullptr;
  std::string name, section;
  std::string type;       // "tracepoint", "kprobe", ... (libbpf's names)
  std::size_t insns = 0;  // instructions: the ELF's before load, the final ones after
  bool autoload = true;
  SectionAttach attach;
};

struct MapInfo {
  bpf_map* map = nullptr;
  std::string name;
  std::string type;  // "ringbuf", "hash", ... (libbpf's names)
  bpf_map_type map_type{};
  std::uint32_t key_size = 0, value_size = 0, max_entries = 0, flags = 0;
};

/// Why bpf_object__load failed.
struct LoadFailure {
  int err = 0;                      // positive errno
  std::string program, section;     // the program that failed; "" when none did (maps, BTF)
  std::string log;                  // the verifier's log for it; "" if it wrote none
  std::vector<std::string> libbpf;  // libbpf's warnings during the load, last few
};

class ObjectFile {
 public:
  /// Opens (parses, nothing enters the kernel) the object at path, with a
  /// custom kernel BTF file when btf_path is not empty. Refuses a file that
  /// is not regular, and an object whose .BTF section fails validate_btf
  /// (before libbpf reads it). Throws Error.
  static ObjectFile open(const std::string& path, const std::string& btf_path);
  /// Detaches every link, then closes programs and maps.
  ~ObjectFile();
  ObjectFile(ObjectFile&& o) noexcept;
  ObjectFile& operator=(ObjectFile&&) = delete;
  ObjectFile(const ObjectFile&) = delete;
  ObjectFile& operator=(const ObjectFile&) = delete;

  bpf_object* get() const { return obj_; }
  const std::string& path() const { return path_; }
  std::vector<ProgramInfo> programs() const;
  std::vector<MapInfo> maps() const;

  /// Loads every program whose autoload is on (the verifier runs here).
  /// Returns the failure, if any; then nothing stays loaded.
  std::optional<LoadFailure> load();

  /// Attaches a loaded program by its section name; the link lives as long
  /// as this object. Returns 0, or -errno (-EOPNOTSUPP: libbpf cannot
  /// attach this kind of section by itself).
  int attach(bpf_program* prog);
  std::size_t links() const { return links_.size(); }

 private:
  ObjectFile(bpf_object* obj, std::string path, std::vector<char> bytes)
      : obj_(obj), path_(std::move(path)), bytes_(std::move(bytes)) {}
  bpf_object* obj_;
  std::string path_;
  std::vector<char> bytes_;  // the file's bytes: libbpf reads them until the object is loaded
  std::vector<bpf_link*> links_;
  std::vector<std::unique_ptr<char[]>> logs_;  // one verifier log buffer per program
};

/// s for a terminal: control bytes, invalid UTF-8 and bidi controls
/// escaped. Every name an object supplies (sections, programs, maps) goes
/// through it before it reaches stderr.
std::string printable(std::string_view s);

/// True if a loaded program calls bpf_trace_printk or bpf_trace_vprintk
/// (what bpf_printk() compiles to), subprograms included.
bool calls_printk(const bpf_program* prog);

/// Prints the end of the verifier's log (all of it with full_log) on stderr
/// and throws Error with one line: the program, the instruction, the
/// complaint, the errno.
[[noreturn]] void throw_load_failure(const LoadFailure& f, bool full_log);

}  // namespace snoopkit
