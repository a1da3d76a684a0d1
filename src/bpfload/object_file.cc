#include "bpfload/object_file.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <utility>

#include "core/btf_validate.h"
#include "core/error.h"
#include "core/escape.h"
#include "bpfload/verifier_log.h"

namespace snoopkit {
namespace {

// The verifier's log of one program: at most 16 MiB - 1, what every kernel
// since 4.x accepts (5.2 raised the limit to 1 GiB). From Linux 6.4 the
// kernel keeps the end of a longer log; before, the load fails with ENOSPC.
constexpr std::size_t kLogSize = (std::size_t{16} << 20) - 1;
constexpr std::size_t kTailLines = 20;
constexpr std::size_t kKeptWarnings = 12;
constexpr std::uint64_t kMaxObjectSize = std::uint64_t{1} << 30;  // far past any BPF object

std::string quoted(const std::string& path) { return "'" + printable(path) + "'"; }

std::string type_name(const char* known, unsigned number) {
  return known ? known : "type " + std::to_string(number);
}

// libbpf hands back the type number the object declared. A number past the
// C++ enum's range is no valid value of it (UBSan, found by fuzz_object), so
// it is read as a plain number (void (*)() is the cast the language allows)
// and kept only up to the last type linux/bpf.h names.
template <class Enum, class Obj>
unsigned raw_type(Enum (*get)(const Obj*), const Obj* o) {
  auto f = reinterpret_cast<unsigned (*)(const Obj*)>(reinterpret_cast<void (*)()>(get));
  return f(o);
}

// libbpf's warnings while a load runs, kept for the error report (libbpf
// prints them only with -v). Forwards everything to the previous callback.
class WarningCapture {
 public:
  WarningCapture() {
    active_ = this;
    previous_ = libbpf_set_print(&WarningCapture::print);
  }
  ~WarningCapture() {
    libbpf_set_print(previous_);
    active_ = nullptr;
  }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;
  std::vector<std::string> take() { return {lines_.begin(), lines_.end()}; }

 private:
  // libbpf calls this from C: it must not throw.
  static int print(enum libbpf_print_level level, const char* fmt, va_list args) noexcept {
    WarningCapture* self = active_;
    if (self && level == LIBBPF_WARN) {
      va_list copy;
      va_copy(copy, args);
      char buf[1024];
      int n = std::vsnprintf(buf, sizeof(buf), fmt, copy);
      va_end(copy);
      if (n > 0) {
        std::string_view line(buf,
                              std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1));
        while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        try {
          self->lines_.emplace_back(line);
          if (self->lines_.size() > kKeptWarnings) self->lines_.pop_front();
        } catch (...) {
        }
      }
    }
    return self && self->previous_ ? self->previous_(level, fmt, args) : 0;
  }
  static inline WarningCapture* active_ = nullptr;
  libbpf_print_fn_t previous_ = nullptr;
  std::deque<std::string> lines_;
};

// "prog 'name': BPF program load failed: ..." -> "name".
std::string program_named_in(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) {
    if (w.rfind("prog '", 0) != 0) continue;
    std::size_t end = w.find("': ", 6);
    if (end != std::string::npos) return w.substr(6, end - 6);
  }
  return {};
}

void write_stderr_lines(const std::vector<std::string_view>& lines) {
  std::string out;
  for (std::string_view l : lines) {
    out += "    ";
    append_text_escaped(out, l);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

std::vector<char> read_object(const std::string& path) {
  int fd = open_regular_file(path, "open BPF object");
  std::vector<char> bytes;
  struct stat st {};
  int err = fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) <= kMaxObjectSize
                ? 0
                : EFBIG;
  if (err == 0) {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      ssize_t r = pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        err = r < 0 ? errno : EIO;  // EIO: the file shrank while it was read
        break;
      }
      got += static_cast<std::size_t>(r);
    }
  }
  close(fd);
  if (err) throw Error("read BPF object " + quoted(path), err);
  return bytes;
}

}  // namespace

void check_object_file(const std::string& path) {
  if (path.empty()) throw UsageError("the OBJECT file name is empty");
  int fd;
  try {
    fd = open_regular_file(path, "OBJECT");
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  unsigned char h[EI_NIDENT + 4] = {};
  ssize_t n = pread(fd, h, sizeof(h), 0);
  close(fd);
  if (n < static_cast<ssize_t>(sizeof(h)) || std::memcmp(h, ELFMAG, SELFMAG) != 0)
    throw UsageError(quoted(path) +
                     " is not an ELF file: expected a BPF object (clang -target bpf -c)");
  // e_machine follows e_ident and e_type, in the file's own byte order.
  unsigned machine = h[EI_DATA] == ELFDATA2MSB ? (h[EI_NIDENT + 2] << 8) | h[EI_NIDENT + 3]
                                               : h[EI_NIDENT + 2] | (h[EI_NIDENT + 3] << 8);
  if (machine != EM_BPF || h[EI_CLASS] != ELFCLASS64)
    throw UsageError(quoted(path) + " is an ELF file for another machine (e_machine " +
                     std::to_string(machine) + "), not a BPF object");
}

ObjectFile ObjectFile::open(const std::string& path, const std::string& btf_path) {
  // libbpf opens exactly the bytes checked here, not the file again.
  std::vector<char> bytes = read_object(path);
  try {
    validate_elf_btf({bytes.data(), bytes.size()});
  } catch (const BtfInvalid& e) {
    std::string why;
    append_text_escaped(why, e.what());
    throw Error("BPF object " + quoted(path) + " has invalid BTF: " + why, 0,
                "rebuild the object with clang -g -target bpf");
  }
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  // The name bpf_object__open_file would give: the file name up to its
  // first '.' (internal maps such as .rodata are named after it).
  std::string name = path.substr(path.rfind('/') + 1);
  name = name.substr(0, name.find('.'));
  opts.object_name = name.c_str();
  if (!btf_path.empty()) opts.btf_custom_path = btf_path.c_str();
  bpf_object* obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  if (!obj) throw Error("open BPF object " + quoted(path), errno);
  return ObjectFile(obj, path, std::move(bytes));
}

// Links first: a link holds its program, and destroying it detaches it.
ObjectFile::~ObjectFile() {
  for (auto it = links_.rbegin(); it != links_.rend(); ++it) bpf_link__destroy(*it);
  if (obj_) bpf_object__close(obj_);
}

ObjectFile::ObjectFile(ObjectFile&& o) noexcept
    : obj_(std::exchange(o.obj_, nullptr)),
      path_(std::move(o.path_)),
      bytes_(std::move(o.bytes_)),
      links_(std::move(o.links_)),
      logs_(std::move(o.logs_)) {}

std::vector<ProgramInfo> ObjectFile::programs() const {
  std::vector<ProgramInfo> out;
  bpf_program* p;
  bpf_object__for_each_program(p, obj_) {
    ProgramInfo& i = out.emplace_back();
    i.prog = p;
    i.name = bpf_program__name(p);
    i.section = bpf_program__section_name(p);
    const unsigned type = raw_type(&bpf_program__type, p);
    i.type = type_name(
        type <= BPF_PROG_TYPE_SYSCALL ? libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(type)) : nullptr,
        type);
    i.insns = bpf_program__insn_cnt(p);
    i.autoload = bpf_program__autoload(p);
    i.attach = classify_section(i.section);
  }
  return out;
}

std::vector<MapInfo> ObjectFile::maps() const {
  std::vector<MapInfo> out;
  bpf_map* m;
  bpf_object__for_each_map(m, obj_) {
    MapInfo& i = out.emplace_back();
    i.map = m;
    i.name = bpf_map__name(m);
    const unsigned type = raw_type(&bpf_map__type, static_cast<const bpf_map*>(m));
    i.map_type = type <= BPF_MAP_TYPE_USER_RINGBUF ? static_cast<bpf_map_type>(type) : BPF_MAP_TYPE_UNSPEC;
    i.type = type_name(type <= BPF_MAP_TYPE_USER_RINGBUF ? libbpf_bpf_map_type_str(i.map_type) : nullptr, type);
    i.key_size = bpf_map__key_size(m);
    i.value_size = bpf_map__value_size(m);
    i.max_entries = bpf_map__max_entries(m);
    i.flags = bpf_map__map_flags(m);
  }
  return out;
}

std::optional<LoadFailure> ObjectFile::load() {
  // A log buffer per program, so that the one the verifier wrote to names
  // the program it rejected (libbpf unloads them all on failure). libbpf
  // loads without a log first and asks for one only when a load fails.
  std::vector<std::pair<bpf_program*, char*>> bufs;
  bpf_program* p;
  bpf_object__for_each_program(p, obj_) {
    if (!bpf_program__autoload(p)) continue;
    // Not zeroed: only the pages the kernel writes become resident.
    auto& buf = logs_.emplace_back(new char[kLogSize]);
    buf[0] = '\0';
    if (bpf_program__set_log_buf(p, buf.get(), kLogSize) != 0) throw Error("set log buffer", errno);
    bufs.emplace_back(p, buf.get());
  }
  WarningCapture capture;
  int err = bpf_object__load(obj_);
  if (err == 0) return std::nullopt;

  LoadFailure f;
  f.err = -err;
  f.libbpf = capture.take();
  for (auto [prog, buf] : bufs) {
    if (buf[0] == '\0') continue;
    f.program = bpf_program__name(prog);
    f.section = bpf_program__section_name(prog);
    f.log.assign(buf, strnlen(buf, kLogSize));
    break;
  }
  if (f.program.empty()) {
    f.program = program_named_in(f.libbpf);
    for (auto [prog, buf] : bufs)
      if (f.program == bpf_program__name(prog)) f.section = bpf_program__section_name(prog);
  }
  return f;
}

int ObjectFile::attach(bpf_program* prog) {
  bpf_link* link = bpf_program__attach(prog);
  if (!link) return errno ? -errno : -EINVAL;
  links_.push_back(link);
  return 0;
}

std::string printable(std::string_view s) {
  std::string out;
  append_text_escaped(out, s);
  return out;
}

bool calls_printk(const bpf_program* prog) {
  const bpf_insn* insns = bpf_program__insns(prog);
  std::size_t n = bpf_program__insn_cnt(prog);
  for (std::size_t i = 0; insns && i < n; ++i) {
    const bpf_insn& in = insns[i];
    // A helper call (src_reg 0; 1 and 2 are calls of subprograms and kfuncs).
    if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == 0 &&
        (in.imm == BPF_FUNC_trace_printk || in.imm == BPF_FUNC_trace_vprintk))
      return true;
  }
  return false;
}

void throw_load_failure(const LoadFailure& f, bool full_log) {
  std::vector<std::string_view> lines = log_lines(f.log);
  VerifierVerdict v = verifier_verdict(lines);
  if (!lines.empty()) {
    std::vector<std::string_view> shown = full_log ? lines : last_lines(lines, kTailLines);
    if (shown.size() == lines.size())
      spdlog::info("the verifier's log for program '{}':", printable(f.program));
    else
      spdlog::info("the verifier's log for program '{}' (last {} of {} lines; -v shows all):",
                   printable(f.program), shown.size(), lines.size());
    write_stderr_lines(shown);
  } else if (!f.libbpf.empty()) {
    spdlog::info("libbpf said:");
    write_stderr_lines({f.libbpf.begin(), f.libbpf.end()});
  }

  std::string what;
  if (f.program.empty()) {
    what = "load BPF object";
  } else {
    what = "load program '" + f.program + "' (" + f.section + ")";
    if (f.err == EACCES || f.err == EINVAL) {
      if (!v.insn.empty())
        what += ": the verifier rejected instruction " + std::string(v.index) + " '" +
                std::string(v.code) + "'";
      else if (!v.complaint.empty())
        what += ": the verifier rejected it";
      if (!v.complaint.empty()) what += ": " + std::string(v.complaint);
    }
  }
  std::string escaped;
  append_text_escaped(escaped, what);
  std::string hint;
  if (f.err == EPERM)
    hint = kPrivilegeHint;
  else if (!lines.empty() && !full_log && lines.size() > kTailLines)
    hint = "run with -v to see the verifier's whole log";
  else if (lines.empty() && !full_log)
    hint = "run with -v to see libbpf's messages";
  throw Error(escaped, f.err, hint);
}

}  // namespace snoopkit
