#include "bpfload/printk_events.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace snoopkit {
namespace {

constexpr std::string_view kInstancePrefix = "snoopkit-bpfload-";
constexpr std::string_view kEvent = "events/bpf_trace/bpf_trace_printk/";

// Ring buffer page layout (kernel/trace/ring_buffer.c, 64-bit): a u64 time
// stamp, a local_t commit (bytes of data, with two flags on top), the data.
constexpr std::size_t kPageHeader = 16;
constexpr std::uint64_t kMissedEvents = 1ULL << 31;  // some events were dropped before this page
constexpr std::uint64_t kMissedStored = 1ULL << 30;  // and their count follows the data
constexpr std::uint64_t kCommitMask = (1ULL << 30) - 1;
// Event header: type_len (5 bits), time_delta (27 bits), then array[].
constexpr std::uint32_t kTypePadding = 29, kTypeTimeExtend = 30, kTypeTimeStamp = 31;
constexpr std::size_t kDataMaxTypeLen = 28;

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The number after "<key>" in a format line's "key:value;" fields.
std::optional<std::uint32_t> field_number(std::string_view line, std::string_view key) {
  std::size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  line.remove_prefix(at + key.size());
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
  if (ec != std::errc() || end == line.data() || end == line.data() + line.size() || *end != ';')
    return std::nullopt;
  return v;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("read " + path, errno ? errno : ENOENT);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, std::string_view text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw Error("open " + path, errno);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) throw Error("write " + path, n < 0 ? err : EIO);
}

// The online CPUs ("0-3,5" in /sys/devices/system/cpu/online).
std::vector<std::uint32_t> online_cpus() {
  std::string text = read_text("/sys/devices/system/cpu/online");
  std::vector<std::uint32_t> cpus;
  std::string_view s(text);
  while (!s.empty() && s.front() != '\n') {
    std::uint32_t a = 0, b = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), a);
    if (r.ec != std::errc()) break;
    s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
    b = a;
    if (!s.empty() && s.front() == '-') {
      s.remove_prefix(1);
      auto r2 = std::from_chars(s.data(), s.data() + s.size(), b);
      if (r2.ec != std::errc() || b < a || b - a > 65536) break;
      s.remove_prefix(static_cast<std::size_t>(r2.ptr - s.data()));
    }
    for (std::uint32_t c = a; c <= b; ++c) cpus.push_back(c);
    if (!s.empty() && s.front() == ',') s.remove_prefix(1);
  }
  if (cpus.empty()) throw Error("read the online CPUs from /sys/devices/system/cpu/online", EINVAL);
  return cpus;
}

// Removes the instances of bpfload processes that no longer exist (killed
// before they could remove theirs).
void remove_stale_instances(const std::string& instances) {
  DIR* d = opendir(instances.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    std::string_view name(e->d_name);
    if (name.substr(0, kInstancePrefix.size()) != kInstancePrefix) continue;
    std::string_view num = name.substr(kInstancePrefix.size());
    int pid = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), pid);
    if (ec != std::errc() || end != num.data() + num.size() || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    stale.emplace_back(name);
  }
  closedir(d);
  for (const std::string& name : stale) rmdir((instances + "/" + name).c_str());
}

}  // namespace

std::optional<std::uint32_t> printk_string_field(std::string_view format) {
  while (!format.empty()) {
    std::size_t nl = format.find('\n');
    std::string_view line = format.substr(0, nl);
    format.remove_prefix(nl == std::string_view::npos ? format.size() : nl + 1);
    if (line.find("field:__data_loc char[] bpf_string;") == std::string_view::npos) continue;
    auto off = field_number(line, "offset:");
    auto size = field_number(line, "size:");
    if (off && size && *size == 4) return off;
    return std::nullopt;
  }
  return std::nullopt;
}

void parse_trace_page(std::string_view page, std::uint16_t event_id, std::uint32_t string_field,
                      std::uint32_t cpu, const std::function<void(const PrintkSample&)>& on_event,
                      TracePageStats& stats) {
  if (page.size() < kPageHeader) {
    if (!page.empty()) stats.malformed++;
    return;
  }
  std::uint64_t ts = load<std::uint64_t>(page.data());
  const std::uint64_t commit = load<std::uint64_t>(page.data() + 8);
  const std::uint64_t length = commit & kCommitMask;
  if (length > page.size() - kPageHeader) {
    stats.malformed++;
    return;
  }
  if (commit & kMissedEvents) {
    const std::size_t at = kPageHeader + length;
    if ((commit & kMissedStored) && page.size() - at >= sizeof(std::uint64_t)) {
      stats.missed += load<std::uint64_t>(page.data() + at);
    } else {
      stats.missed += 1;  // at least one
      stats.missed_unknown = true;
    }
  }
  const char* p = page.data() + kPageHeader;
  const char* const end = p + length;
  while (end - p >= 4) {
    const std::uint32_t head = load<std::uint32_t>(p);
    const std::uint32_t type_len = head & 31, delta = head >> 5;
    const std::size_t left = static_cast<std::size_t>(end - p);
    if (type_len == kTypeTimeExtend || type_len == kTypeTimeStamp) {
      if (left < 8) break;
      const std::uint64_t v = (std::uint64_t{load<std::uint32_t>(p + 4)} << 27) | delta;
      // An absolute stamp keeps the page's top bits (the kernel stores 59).
      ts = type_len == kTypeTimeExtend ? ts + v : (ts & ~((1ULL << 59) - 1)) | v;
      p += 8;
      continue;
    }
    if (type_len == kTypePadding) {
      // Padding: a discarded event (its length in array[0]), or with no
      // delta, the rest of the page.
      if (delta == 0 || left < 8) break;
      const std::uint32_t len = load<std::uint32_t>(p + 4);
      if (len < 4 || len > left - 4) break;
      ts += delta;
      p += 4 + len;
      continue;
    }
    const char* data;
    std::size_t size;
    if (type_len == 0) {  // a long event: its length (array[0] included) in array[0]
      if (left < 8) break;
      const std::uint32_t len = load<std::uint32_t>(p + 4);
      if (len < 4 || len > left - 4) {
        stats.malformed++;
        return;
      }
      data = p + 8;
      size = len - 4;
      p += 4 + len;
    } else {
      size = std::size_t{type_len} * 4;
      if (type_len > kDataMaxTypeLen || size > left - 4) {
        stats.malformed++;
        return;
      }
      data = p + 4;
      p += 4 + size;
    }
    ts += delta;
    // struct trace_entry: u16 type, u8 flags, u8 preempt_count, int pid.
    if (size < 8) {
      stats.malformed++;
      continue;
    }
    if (load<std::uint16_t>(data) != event_id) {
      stats.other++;
      continue;
    }
    if (string_field > size || size - string_field < 4) {
      stats.malformed++;
      continue;
    }
    // __data_loc: the string's offset in the entry (low 16 bits) and its
    // length with the NUL (high 16 bits).
    const std::uint32_t loc = load<std::uint32_t>(data + string_field);
    const std::uint32_t off = loc & 0xffff, len = loc >> 16;
    if (off > size || len > size - off) {
      stats.malformed++;
      continue;
    }
    PrintkSample s;
    s.pid = load<std::uint32_t>(data + 4);
    s.cpu = cpu;
    s.ts = ts;
    s.message = std::string_view(data + off, len);
    while (!s.message.empty() && s.message.back() == '\0') s.message.remove_suffix(1);
    stats.printk++;
    on_event(s);
  }
}

std::string task_comm(std::uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  if (pid == 0 || !in || !std::getline(in, comm)) return "<...>";
  return comm.substr(0, 15);
}

std::string format_trace_seconds(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llu.%06llu",
                static_cast<unsigned long long>(ns / 1000000000ULL),
                static_cast<unsigned long long>(ns % 1000000000ULL / 1000));
  return buf;
}

PrintkEvents::PrintkEvents(const std::string& tracefs_root) {
  const std::string instances = tracefs_root + "/instances";
  remove_stale_instances(instances);
  const std::string event_dir = tracefs_root + "/" + std::string(kEvent);
  {
    std::string text = read_text(event_dir + "id");
    std::uint32_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || id == 0 || id > 0xffff)
      throw Error(event_dir + "id holds no event id", EINVAL);
    event_id_ = static_cast<std::uint16_t>(id);
  }
  auto field = printk_string_field(read_text(event_dir + "format"));
  if (!field) throw Error(event_dir + "format has no bpf_string field", EINVAL);
  string_field_ = *field;
  std::vector<std::uint32_t> cpus = online_cpus();

  dir_ = instances + "/" + std::string(kInstancePrefix) + std::to_string(getpid());
  if (mkdir(dir_.c_str(), 0700) != 0) {
    int err = errno;
    dir_.clear();
    throw Error("make the tracing instance " + instances + "/" + std::string(kInstancePrefix) +
                    std::to_string(getpid()),
                err);
  }
  try {
    write_text(dir_ + "/" + std::string(kEvent) + "enable", "1\n");
    std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    // Linux 6.8+ may use larger sub-buffers: a read takes one whole.
    std::ifstream sub(dir_ + "/buffer_subbuf_size_kb");
    std::size_t kb = 0;
    if (sub >> kb && kb * 1024 > page) page = kb * 1024;
    page_.resize(page);
    // A drain reads at most a whole buffer and a little more per CPU: all
    // of what was there, and bounded while a CPU prints without end.
    std::ifstream size(dir_ + "/buffer_size_kb");
    std::string text;
    std::getline(size, text);
    std::size_t at = text.find("expanded: ");
    std::string_view num =
        at == std::string::npos ? std::string_view(text) : std::string_view(text).substr(at + 10);
    std::size_t buffer_kb = 0;
    std::from_chars(num.data(), num.data() + num.size(), buffer_kb);
    max_pages_ = std::max<std::size_t>(buffer_kb * 1024 / page, 64) + 16;
    for (std::uint32_t cpu : cpus) {
      std::string path = dir_ + "/per_cpu/cpu" + std::to_string(cpu) + "/trace_pipe_raw";
      int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) throw Error("open " + path, errno);
      fds_.push_back(fd);
      cpus_.push_back(cpu);
    }
  } catch (...) {
    remove_instance();
    throw;
  }
}

PrintkEvents::~PrintkEvents() {
  remove_instance();
}

void PrintkEvents::remove_instance() noexcept {
  for (int fd : fds_) close(fd);
  fds_.clear();
  if (dir_.empty()) return;
  // Disabling first is not needed to remove it, but keeps the event from
  // filling a buffer nobody reads should removal fail.
  int fd = open((dir_ + "/" + std::string(kEvent) + "enable").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, "0\n", 2);
    close(fd);
  }
  rmdir(dir_.c_str());
  dir_.clear();
}

std::size_t PrintkEvents::drain(const Handler& on_event) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    // At most a buffer's worth per CPU and drain: a CPU printing without
    // end must not keep the loop from flushing and from the other CPUs.
    for (std::size_t pages = 0; pages < max_pages_; ++pages) {
      ssize_t got = read(fds_[i], page_.data(), page_.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == EAGAIN) break;
      if (got < 0)
        throw Error("read the bpf_trace_printk events of CPU " + std::to_string(cpus_[i]), errno);
      if (got == 0) break;
      const std::uint64_t before = stats_.printk;
      parse_trace_page(std::string_view(page_.data(), static_cast<std::size_t>(got)), event_id_,
                       string_field_, cpus_[i], on_event, stats_);
      n += stats_.printk - before;
    }
  }
  return n;
}

}  // namespace snoopkit
