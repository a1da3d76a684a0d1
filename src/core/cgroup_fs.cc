#include "core/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

namespace snoopkit {
namespace {

// The kernfs file handle type (include/linux/exportfs.h, FILEID_KERNFS): its
// 8 bytes are the 64-bit kernfs node id, which for cgroup v2 is the cgroup id.
constexpr int kFileIdKernfs = 0xfe;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Takes the descriptor over (closedir closes it); nullptr on failure.
DirPtr open_dir(Fd fd) {
  if (!fd) return nullptr;
  DIR* d = ::fdopendir(fd.get());
  if (d) fd.release();
  return DirPtr(d);
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      bool octal = true;
      for (std::size_t k = 1; k <= 3; ++k) octal = octal && s[i + k] >= '0' && s[i + k] <= '7';
      if (octal) {
        out.push_back(
            static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Opens `rel` below the directory `dirfd` one component at a time, never
// following a symlink; the last component with `last_flags`.
Fd open_beneath(int dirfd, const std::string& rel, int last_flags) {
  Fd cur(::dup(dirfd));
  std::size_t pos = 0;
  while (cur && pos <= rel.size()) {
    std::size_t end = rel.find('/', pos);
    if (end == std::string::npos) end = rel.size();
    std::string name = rel.substr(pos, end - pos);
    bool last = end == rel.size();
    pos = end + 1;
    if (name.empty()) {
      if (last) break;
      continue;
    }
    if (name == "." || name == "..") return Fd();
    int flags = O_NOFOLLOW | O_CLOEXEC | (last ? last_flags : O_PATH | O_DIRECTORY);
    cur = Fd(::openat(cur.get(), name.c_str(), flags));
  }
  return cur;
}

}  // namespace

std::string find_cgroup2_mount(std::string_view mountinfo) {
  std::size_t pos = 0;
  while (pos < mountinfo.size()) {
    std::size_t end = mountinfo.find('\n', pos);
    if (end == std::string_view::npos) end = mountinfo.size();
    std::string_view line = mountinfo.substr(pos, end - pos);
    pos = end + 1;
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <type> ..."
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    std::string_view after = line.substr(sep + 3);
    if (!after.starts_with("cgroup2 ")) continue;
    std::istringstream fields{std::string(line.substr(0, sep))};
    std::string id, parent, dev, root, mount_point;
    if (fields >> id >> parent >> dev >> root >> mount_point) return unescape_octal(mount_point);
  }
  return {};
}

RealCgroupFs::RealCgroupFs(std::string cgroup2_root, bool use_handles)
    : root_(std::move(cgroup2_root)), use_handles_(use_handles) {
  if (root_.empty()) {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    root_ = find_cgroup2_mount(text.str());
  }
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (!root_.empty()) root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) root_.clear();
}

RealCgroupFs::~RealCgroupFs() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::optional<std::string> RealCgroupFs::path_of(std::uint64_t id) {
  if (root_fd_ < 0) return std::nullopt;
  if (use_handles_) {
    auto path = path_by_handle(id);
    if (path) return path;
    if (errno == ESTALE || errno == ENOENT) return std::nullopt;
    // EPERM without CAP_DAC_READ_SEARCH, EOPNOTSUPP or EINVAL on kernels
    // without kernfs file handles: it will not work next time either; walk.
    if (errno == EPERM || errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS) {
      use_handles_ = false;
    }
  }
  return path_by_walk(id);
}

std::optional<std::string> RealCgroupFs::path_by_handle(std::uint64_t id) {
  struct {
    struct file_handle fh;
    std::uint64_t id;
  } handle{};
  handle.fh.handle_bytes = sizeof(std::uint64_t);
  handle.fh.handle_type = kFileIdKernfs;
  std::memcpy(handle.fh.f_handle, &id, sizeof(id));
  Fd fd(::open_by_handle_at(root_fd_, &handle.fh, O_PATH | O_CLOEXEC));
  if (!fd) return std::nullopt;
  // kernfs hands out ids to files too: a cgroup is a directory.
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOENT;
    return std::nullopt;
  }
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd.get());
  std::string target(PATH_MAX, '\0');
  ssize_t n = ::readlink(link, target.data(), target.size());
  if (n <= 0 || static_cast<std::size_t>(n) >= target.size()) {
    errno = ENAMETOOLONG;
    return std::nullopt;
  }
  target.resize(static_cast<std::size_t>(n));
  // The path as this process sees it: strip the mount point.
  if (!target.starts_with(root_)) {
    errno = EXDEV;
    return std::nullopt;
  }
  std::string rel = root_ == "/" ? target : target.substr(root_.size());
  if (rel.empty()) rel = "/";
  if (!rel.starts_with('/')) {
    errno = EXDEV;
    return std::nullopt;
  }
  return rel;
}

std::optional<std::string> RealCgroupFs::path_by_walk(std::uint64_t id) {
  struct stat st;
  if (::fstat(root_fd_, &st) == 0 && st.st_ino == id) return "/";
  std::deque<std::string> queue{""};
  std::size_t visited = 0;
  while (!queue.empty() && visited < kMaxWalk) {
    std::string dir = std::move(queue.front());
    queue.pop_front();
    ++visited;
    DirPtr d = open_dir(Fd(::openat(root_fd_, dir.empty() ? "." : dir.c_str() + 1,
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)));
    if (!d) continue;
    while (struct dirent* e = ::readdir(d.get())) {
      if (e->d_type != DT_DIR) continue;
      std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      std::string child = dir + "/" + std::string(name);
      if (e->d_ino == id) return child;
      if (queue.size() < kMaxWalk) queue.push_back(std::move(child));
    }
  }
  return std::nullopt;
}

bool RealCgroupFs::exists(std::uint64_t id, const std::string& path) {
  if (root_fd_ < 0) return false;
  struct stat st;
  const char* rel = path == "/" ? "." : path.c_str() + (path.starts_with('/') ? 1 : 0);
  if (::fstatat(root_fd_, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return S_ISDIR(st.st_mode) && st.st_ino == id;
}

CgroupFs::ReadResult RealCgroupFs::read_file(const std::string& root, const std::string& rel,
                                             std::size_t max_bytes) {
  ReadResult out;
  Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return out;
  Fd fd = open_beneath(dir.get(), rel, O_RDONLY | O_NONBLOCK);
  if (!fd) {
    if (errno == ELOOP || errno == ENOTDIR) out.status = ReadStatus::kRejected;
    return out;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return out;
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > max_bytes) {
    out.status = ReadStatus::kRejected;
    return out;
  }
  // Read one byte past the bound: a file that grew since fstat is refused too.
  out.data.resize(max_bytes + 1);
  std::size_t got = 0;
  while (got < out.data.size()) {
    ssize_t n = ::read(fd.get(), out.data.data() + got, out.data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadResult{};
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) return ReadResult{ReadStatus::kRejected, {}};
  out.data.resize(got);
  out.data.shrink_to_fit();
  out.status = ReadStatus::kOk;
  return out;
}

std::vector<std::string> RealCgroupFs::list_dirs(const std::string& root, const std::string& rel,
                                                 std::size_t max_entries) {
  std::vector<std::string> out;
  Fd base(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!base) return out;
  DirPtr d = open_dir(open_beneath(base.get(), rel, O_RDONLY | O_DIRECTORY));
  if (!d) return out;
  while (out.size() < max_entries) {
    struct dirent* e = ::readdir(d.get());
    if (!e) break;
    std::string_view name(e->d_name);
    if (name == "." || name == ".." || e->d_type != DT_DIR) continue;
    out.emplace_back(name);
  }
  return out;
}

}  // namespace snoopkit
