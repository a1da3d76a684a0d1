#include "bpfload/trace_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>

#include "core/error.h"

namespace snoopkit {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Consumes a decimal number from the front of s.
std::optional<std::uint32_t> take_number(std::string_view& s) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return v;
}

// Consumes spaces; returns how many.
std::size_t skip_spaces(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] == ' ') ++n;
  s.remove_prefix(n);
  return n;
}

// Consumes characters up to (not including) the next space.
std::string_view take_word(std::string_view& s) {
  std::size_t n = s.find(' ');
  std::string_view w = s.substr(0, n);
  s.remove_prefix(w.size());
  return w;
}

// "5678.123456:" (or "123456789:" with a counter clock) -> "5678.123456".
bool is_stamp(std::string_view w) {
  if (w.size() < 2 || w.back() != ':' || !is_digit(w[0])) return false;
  w.remove_suffix(1);
  bool dot = false;
  for (char c : w) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return w.back() != '.';
}

// Everything after "comm-": "1234    [003] d..31  5678.123456: event: message",
// optionally with the tgid ("1234    (   1234) [003] ...") of the
// record-tgid option.
std::optional<TraceLine> parse_after_comm(std::string_view comm, std::string_view s) {
  constexpr std::size_t kMaxComm = 15;  // TASK_COMM_LEN - 1
  if (comm.size() > kMaxComm) return std::nullopt;
  TraceLine t;
  t.comm = comm;
  auto pid = take_number(s);
  if (!pid || skip_spaces(s) == 0) return std::nullopt;
  t.pid = *pid;
  if (!s.empty() && s[0] == '(') {
    std::size_t close = s.find(')');
    if (close == std::string_view::npos) return std::nullopt;
    s.remove_prefix(close + 1);
    if (skip_spaces(s) == 0) return std::nullopt;
  }
  if (s.empty() || s[0] != '[') return std::nullopt;
  s.remove_prefix(1);
  auto cpu = take_number(s);
  if (!cpu || s.substr(0, 2) != "] ") return std::nullopt;
  t.cpu = *cpu;
  s.remove_prefix(2);
  skip_spaces(s);
  std::string_view word = take_word(s);
  if (!is_stamp(word)) {
    t.flags = word;  // irq-info: "d..31", "....."
    skip_spaces(s);
    word = take_word(s);
    if (!is_stamp(word)) return std::nullopt;
  }
  t.ts = word.substr(0, word.size() - 1);
  if (s.size() < 2 || s[0] != ' ') return std::nullopt;
  s.remove_prefix(1);
  std::size_t colon = s.find(": ");
  if (colon == std::string_view::npos) {
    t.event = s;
    return t;
  }
  t.event = s.substr(0, colon);
  t.message = s.substr(colon + 2);
  return t;
}

std::string_view trim_left(std::string_view s) {
  skip_spaces(s);
  return s;
}

}  // namespace

std::optional<TraceLine> parse_trace_line(std::string_view line) {
  // The kernel prints the comm right-aligned in 16 columns ("%16s-%-7d"), so
  // the '-' before the pid is at column 16 whatever the comm holds (a comm
  // may itself contain '-', spaces or something that looks like a pid).
  constexpr std::size_t kCommWidth = 16;
  if (line.size() > kCommWidth + 1 && line[kCommWidth] == '-' && is_digit(line[kCommWidth + 1])) {
    if (auto t =
            parse_after_comm(trim_left(line.substr(0, kCommWidth)), line.substr(kCommWidth + 1)))
      return t;
  }
  // Other widths (older kernels, long names): the first '-' that parses.
  for (std::size_t i = line.find('-'); i != std::string_view::npos && i < 64;
       i = line.find('-', i + 1)) {
    if (i == kCommWidth) continue;
    if (auto t = parse_after_comm(trim_left(line.substr(0, i)), line.substr(i + 1))) return t;
  }
  return std::nullopt;
}

void TraceRecordJoiner::line(std::string_view l) {
  if (parse_trace_line(l)) {
    flush();
    text_.assign(l);
    open_ = true;
    return;
  }
  if (!open_) {
    stray_(l);
    return;
  }
  text_ += '\n';
  text_ += l;
}

void TraceRecordJoiner::flush() {
  if (!open_) return;
  open_ = false;
  // The header line leads text_; what follows its message's start, the
  // continuations included, is the message.
  const std::string_view all(text_);
  std::optional<TraceLine> t = parse_trace_line(all.substr(0, all.find('\n')));
  const std::size_t at = t->message.data()
                            ? static_cast<std::size_t>(t->message.data() - all.data())
                            : std::min(all.find('\n'), all.size());  // "<event>" without ": "
  t->message = all.substr(at);
  on_record_(*t);
}

TracePipe::TracePipe(const std::string& tracefs_root) {
  const std::string path = tracefs_root + "/trace_pipe";
  fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw Error("open " + path, errno);
}

TracePipe::~TracePipe() {
  if (fd_ >= 0) close(fd_);
}

std::size_t TracePipe::drain(const LineHandler& on_line, std::size_t max_bytes) {
  char buf[65536];
  std::size_t total = 0;
  while (total < max_bytes) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) throw Error("read the trace pipe", errno);
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    pending_.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      on_line(std::string_view(pending_).substr(start, nl - start));
    pending_.erase(0, start);
  }
  return total;
}

bool TracePipe::tracing_on(const std::string& tracefs_root) {
  int fd = open((tracefs_root + "/tracing_on").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char c = '1';
  ssize_t n = read(fd, &c, 1);
  close(fd);
  return n != 1 || c != '0';
}

}  // namespace snoopkit
