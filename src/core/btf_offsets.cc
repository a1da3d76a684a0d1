#include "core/btf_offsets.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "core/btf_validate.h"
#include "core/error.h"

namespace snoopkit {
namespace {

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr std::size_t kMaxName = 255;  // longest name looked up (one buffer holds it many times)
constexpr int kMaxNesting = 8;         // anonymous struct/union levels searched below the struct
constexpr const char* kHint = "pass --btf PATH with the BTF of the running kernel";
constexpr std::uint16_t kSwappedMagic = 0x9FEB;  // BTF_MAGIC written in the other byte order

// The record sizes of the BTF format (Documentation/bpf/btf.rst).
static_assert(sizeof(btf_header) == 24 && sizeof(btf_type) == 12);
static_assert(sizeof(btf_member) == 12 && sizeof(btf_array) == 12 && sizeof(btf_enum) == 8 &&
              sizeof(btf_param) == 8 && sizeof(btf_var) == 4 && sizeof(btf_var_secinfo) == 12 &&
              sizeof(btf_decl_tag) == 4 && sizeof(btf_enum64) == 12);

// One open file, read with pread; every failure names it.
class File {
 public:
  explicit File(std::string path) : path_(std::move(path)) {
    // Refuses a FIFO or a device at once instead of blocking in open or read.
    fd_ = open_regular_file(path_, "open BTF file", kHint);
    struct stat st {};
    if (fstat(fd_, &st) != 0) {
      int err = errno;
      close(fd_);
      throw Error("stat BTF file " + path_, err, kHint);
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~File() { close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::uint64_t size() const { return size_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw Error("BTF file " + path_ + ": " + why, 0, kHint);
  }

  // Reads up to n bytes at off; fewer only at the end of the file.
  std::size_t read_at(std::uint64_t off, void* out, std::size_t n) const {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = pread(fd_, p + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error("read BTF file " + path_, errno, kHint);
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  // Reads exactly n bytes at off; a short read means the file is cut short.
  void read_exact(std::uint64_t off, void* out, std::size_t n, const char* what) const {
    if (read_at(off, out, n) != n) fail(std::string("truncated: ") + what + " is cut short");
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// A byte range of the file: the BTF data, or one of its sections.
struct Range {
  std::uint64_t begin = 0, size = 0;
};

// Reads [begin, begin + size) front to back through one fixed buffer.
class Stream {
 public:
  Stream(const File& file, Range r, unsigned char* buf)
      : file_(file), pos_(r.begin), end_(r.begin + r.size), buf_(buf) {}

  bool done() const { return pos_ == end_; }

  // Copies the next n bytes to out; false if fewer than n are left.
  bool read(void* out, std::size_t n) {
    if (n > end_ - pos_) return false;
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      if (at_ == have_) refill();
      std::size_t m = std::min(n, have_ - at_);
      std::memcpy(p, buf_ + at_, m);
      p += m, n -= m, at_ += m, pos_ += m;
    }
    return true;
  }

  // Skips the next n bytes; false if fewer than n are left.
  bool skip(std::uint64_t n) {
    if (n > end_ - pos_) return false;
    if (n <= have_ - at_) {
      at_ += static_cast<std::size_t>(n);
    } else {
      at_ = have_ = 0;  // past the buffer: the next read refills at pos_
    }
    pos_ += n;
    return true;
  }

 private:
  void refill() {
    have_ = static_cast<std::size_t>(std::min<std::uint64_t>(kBufferSize, end_ - pos_));
    at_ = 0;
    file_.read_exact(pos_, buf_, have_, "a BTF section");
  }

  const File& file_;
  std::uint64_t pos_, end_;
  unsigned char* buf_;
  std::size_t have_ = 0, at_ = 0;
};

// Reads one ELF structure of the file's class at off.
template <class T>
T read_struct(const File& f, std::uint64_t off, const char* what) {
  T t{};
  f.read_exact(off, &t, sizeof(t), what);
  return t;
}

// The .BTF section of an ELF file, of either class, in this machine's byte order.
template <class Ehdr, class Shdr>
Range elf_btf_section(const File& f) {
  const auto eh = read_struct<Ehdr>(f, 0, "the ELF header");
  if (eh.e_shoff == 0) f.fail("an ELF file without section headers (no .BTF section)");
  if (eh.e_shentsize < sizeof(Shdr)) f.fail("an ELF file with malformed section headers");
  auto shdr = [&](std::uint64_t i) {
    return read_struct<Shdr>(f, eh.e_shoff + i * eh.e_shentsize, "the ELF section headers");
  };
  // Past 0xff00 sections, the count and the names' index live in section 0.
  std::uint64_t count = eh.e_shnum;
  std::uint64_t names = eh.e_shstrndx;
  if (count == 0 || names == SHN_XINDEX) {
    const Shdr first = shdr(0);
    if (count == 0) count = first.sh_size;
    if (names == SHN_XINDEX) names = first.sh_link;
  }
  if (eh.e_shoff > f.size() || count > (f.size() - eh.e_shoff) / eh.e_shentsize)
    f.fail("truncated: the ELF section headers are cut short");
  if (names >= count) f.fail("an ELF file without section names (no .BTF section)");
  const Shdr strtab = shdr(names);

  static constexpr char kName[] = ".BTF";
  for (std::uint64_t i = 0; i < count; ++i) {
    const Shdr sh = shdr(i);
    char name[sizeof(kName)];
    if (sh.sh_name + sizeof(name) > strtab.sh_size ||
        f.read_at(strtab.sh_offset + sh.sh_name, name, sizeof(name)) != sizeof(name) ||
        std::memcmp(name, kName, sizeof(name)) != 0)
      continue;
    if (sh.sh_type == SHT_NOBITS) f.fail("its .BTF section holds no data");
    if (sh.sh_flags & SHF_COMPRESSED) f.fail("its .BTF section is compressed");
    if (sh.sh_offset > f.size() || sh.sh_size > f.size() - sh.sh_offset)
      f.fail("truncated: the .BTF section ends past the end of the file");
    return {sh.sh_offset, sh.sh_size};
  }
  f.fail("an ELF file without a .BTF section");
}

// Where the BTF data is: the whole file (raw BTF) or an ELF file's .BTF.
Range locate_btf(const File& f) {
  unsigned char id[EI_NIDENT] = {};
  std::size_t n = f.read_at(0, id, sizeof(id));
  std::uint16_t magic = 0;
  if (n >= sizeof(magic)) std::memcpy(&magic, id, sizeof(magic));
  if (magic == BTF_MAGIC) return {0, f.size()};
  if (magic == kSwappedMagic) f.fail("BTF of the other byte order, not this machine's");
  if (n < SELFMAG || std::memcmp(id, ELFMAG, SELFMAG) != 0) {
    if (n < sizeof(magic)) f.fail("truncated: shorter than a BTF header");
    f.fail("not BTF (no magic 0xeb9f) and not an ELF file");
  }
  if (n < EI_NIDENT) f.fail("truncated: the ELF header is cut short");
  constexpr int kNative = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
  if (id[EI_DATA] != kNative) f.fail("an ELF file of the other byte order, not this machine's");
  if (id[EI_CLASS] == ELFCLASS64) return elf_btf_section<Elf64_Ehdr, Elf64_Shdr>(f);
  if (id[EI_CLASS] == ELFCLASS32) return elf_btf_section<Elf32_Ehdr, Elf32_Shdr>(f);
  f.fail("an ELF file of unknown class");
}

// The type and string sections the BTF header describes.
struct Sections {
  Range types, strings;
};

Sections read_header(const File& f, Range btf) {
  if (btf.size < sizeof(btf_header)) f.fail("truncated: shorter than a BTF header");
  const auto h = read_struct<btf_header>(f, btf.begin, "the BTF header");
  if (h.magic == kSwappedMagic) f.fail("BTF of the other byte order, not this machine's");
  if (h.magic != BTF_MAGIC) f.fail("its .BTF section does not start with the BTF magic 0xeb9f");
  if (h.version != BTF_VERSION) f.fail("BTF version " + std::to_string(h.version) + ", not 1");
  if (h.hdr_len < sizeof(btf_header) || h.hdr_len > btf.size)
    f.fail("truncated: the BTF header is cut short");
  const std::uint64_t data = btf.begin + h.hdr_len, room = btf.size - h.hdr_len;
  auto section = [&](std::uint32_t off, std::uint32_t len, const char* what) {
    if (std::uint64_t{off} + len > room)
      f.fail(std::string("truncated: the ") + what + " section ends past the end of the data");
    return Range{data + off, len};
  };
  return {section(h.type_off, h.type_len, "type"), section(h.str_off, h.str_len, "string")};
}

// Where in the string section each name starts as a whole string (its
// bytes, then NUL), in ascending order. A name may also be the tail of a
// longer string (a type can name itself by pointing into "pid_tgid"), so
// every place counts, not only those after a NUL.
std::vector<std::vector<std::uint32_t>> find_names(const File& f, Range strings,
                                                   const std::vector<std::string_view>& names,
                                                   unsigned char* buf) {
  std::size_t longest = 0;
  for (auto n : names) longest = std::max(longest, n.size());
  std::vector<std::vector<std::uint32_t>> found(names.size());
  // buf[0, keep) holds the last bytes of the previous chunk, so a name that
  // ends (at its NUL) in this chunk can start in the previous one.
  std::uint64_t done = 0;  // bytes of the section read so far
  std::size_t keep = 0;
  while (done < strings.size) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBufferSize - keep, strings.size - done));
    f.read_exact(strings.begin + done, buf + keep, n, "the string section");
    const std::uint64_t base = done - keep;  // section offset of buf[0]
    unsigned char* end = buf + keep + n;
    for (unsigned char* p = buf + keep;
         (p = static_cast<unsigned char*>(std::memchr(p, 0, end - p))); ++p) {
      std::size_t at = static_cast<std::size_t>(p - buf);
      // Most strings end in none of the names: the last byte rules them
      // out before a compare (one query may ask for a dozen names).
      const unsigned char last = at > 0 ? p[-1] : 0;
      for (std::size_t i = 0; i < names.size(); ++i) {
        std::size_t len = names[i].size();
        if (static_cast<unsigned char>(names[i].back()) != last || at < len) continue;
        if (std::memcmp(p - len, names[i].data(), len) == 0)
          found[i].push_back(static_cast<std::uint32_t>(base + at - len));
      }
    }
    done += n;
    std::size_t next_keep = static_cast<std::size_t>(std::min<std::uint64_t>(longest, done));
    std::memmove(buf, end - next_keep, next_keep);
    keep = next_keep;
  }
  return found;
}

// Bytes that follow a type's record; nullopt for a kind this reader does not know.
std::optional<std::uint64_t> trailer_size(const btf_type& t) {
  const std::uint64_t vlen = BTF_INFO_VLEN(t.info);
  switch (BTF_INFO_KIND(t.info)) {
    case BTF_KIND_INT:  // __u32 encoding
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
      return 4;
    case BTF_KIND_ARRAY:
      return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
      return vlen * 12;  // btf_member, btf_var_secinfo, btf_enum64
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
      return vlen * 8;  // btf_enum, btf_param
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
      return 0;
    default:
      return std::nullopt;
  }
}

// A struct or union with its members, as the type section holds it.
struct Composite {
  std::uint32_t id = 0;
  bool kind_flag = false;  // member offsets carry a bitfield size in their top 8 bits
  std::vector<btf_member> members;
};

// Walks the type section from type id 1 and keeps the members of each struct
// or union take() selects; stops once it has kept `want` of them.
std::vector<Composite> collect(const File& f, Range types, unsigned char* buf, std::size_t want,
                               const std::function<bool(std::uint32_t, const btf_type&)>& take) {
  std::vector<Composite> kept;
  Stream s(f, types, buf);
  for (std::uint32_t id = 1; !s.done() && kept.size() < want; ++id) {
    btf_type t;
    if (!s.read(&t, sizeof(t)))
      f.fail("truncated: type " + std::to_string(id) + " runs past the end of the type section");
    const std::uint32_t kind = BTF_INFO_KIND(t.info);
    std::optional<std::uint64_t> trailer = trailer_size(t);
    if (!trailer)
      f.fail("type " + std::to_string(id) + " has unknown BTF kind " + std::to_string(kind));
    bool ok;
    if ((kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION) && take(id, t)) {
      Composite c{id, BTF_INFO_KFLAG(t.info) != 0, std::vector<btf_member>(BTF_INFO_VLEN(t.info))};
      ok = c.members.empty() || s.read(c.members.data(), *trailer);
      kept.push_back(std::move(c));
    } else {
      ok = s.skip(*trailer);
    }
    if (!ok)
      f.fail("truncated: type " + std::to_string(id) + " runs past the end of the type section");
  }
  return kept;
}

bool has(const std::vector<std::uint32_t>& sorted, std::uint32_t v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

}  // namespace

std::vector<StructLayout> btf_struct_layouts(const std::string& path,
                                             const std::vector<StructQuery>& queries) {
  // One name list for the string scan: every struct name, then every member.
  std::vector<std::string_view> names;
  for (const auto& q : queries) names.push_back(q.name);
  std::vector<std::size_t> first_member;  // index in names of each query's first member
  for (const auto& q : queries) {
    first_member.push_back(names.size());
    names.insert(names.end(), q.members.begin(), q.members.end());
  }
  for (auto n : names)
    if (n.empty() || n.size() > kMaxName)
      throw Error("look up BTF name '" + std::string(n) + "'", EINVAL);

  File f(path);
  const Sections sec = read_header(f, locate_btf(f));
  auto buf = std::make_unique<unsigned char[]>(kBufferSize);
  const auto where = find_names(f, sec.strings, names, buf.get());
  auto outer_name = [&](std::size_t q) { return "struct " + std::string(queries[q].name); };

  // The structs themselves, in one walk: the first of kind STRUCT (not a
  // forward declaration or a union) of each name.
  std::vector<std::optional<std::uint32_t>> size(queries.size());
  std::vector<std::size_t> owner;  // query of each kept struct, in walk order
  std::vector<Composite> found =
      collect(f, sec.types, buf.get(), queries.size(), [&](std::uint32_t, const btf_type& t) {
        if (BTF_INFO_KIND(t.info) != BTF_KIND_STRUCT) return false;
        for (std::size_t q = 0; q < queries.size(); ++q) {
          if (size[q] || !has(where[q], t.name_off)) continue;
          size[q] = t.size;
          owner.push_back(q);
          return true;
        }
        return false;
      });
  for (std::size_t q = 0; q < queries.size(); ++q)
    if (!size[q]) f.fail("no " + outer_name(q));

  // Search level by level: the structs' own members, then those of their
  // anonymous struct and union members (one more walk per level, shared by
  // every query).
  struct Level {
    Composite c;
    std::size_t query;
    std::uint64_t base;  // bit offset in the queried struct
  };
  std::vector<std::vector<std::optional<std::uint64_t>>> bits(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) bits[q].resize(queries[q].members.size());
  std::vector<Level> level;
  for (std::size_t k = 0; k < found.size(); ++k) level.push_back({std::move(found[k]), owner[k], 0});
  for (int depth = 0;; ++depth) {
    struct Anonymous {
      std::uint32_t type;
      std::size_t query;
      std::uint64_t at;
    };
    std::vector<Anonymous> anonymous;
    for (const auto& [c, q, base] : level) {
      const auto& members = queries[q].members;
      for (const btf_member& m : c.members) {
        std::uint64_t at = base + (c.kind_flag ? BTF_MEMBER_BIT_OFFSET(m.offset) : m.offset);
        std::uint32_t bitfield = c.kind_flag ? BTF_MEMBER_BITFIELD_SIZE(m.offset) : 0;
        if (m.name_off == 0) {
          if (bitfield == 0) anonymous.push_back({m.type, q, at});  // not unnamed padding
          continue;
        }
        for (std::size_t i = 0; i < members.size(); ++i) {
          if (bits[q][i] || !has(where[first_member[q] + i], m.name_off)) continue;
          std::string member = outer_name(q) + " member " + std::string(members[i]);
          if (bitfield != 0) f.fail(member + " is a bitfield");
          if (at % 8 != 0) f.fail(member + " does not start on a byte");
          bits[q][i] = at;
        }
      }
    }
    // Only queries that still miss a member search their anonymous members.
    std::optional<std::pair<std::size_t, std::size_t>> missing;
    std::vector<bool> open(queries.size(), false);
    for (std::size_t q = 0; q < queries.size(); ++q) {
      auto it = std::find(bits[q].begin(), bits[q].end(), std::nullopt);
      if (it == bits[q].end()) continue;
      open[q] = true;
      if (!missing) missing.emplace(q, static_cast<std::size_t>(it - bits[q].begin()));
    }
    if (!missing) break;
    std::erase_if(anonymous, [&](const Anonymous& a) { return !open[a.query]; });
    if (anonymous.empty() || depth == kMaxNesting)
      f.fail(outer_name(missing->first) + " has no member " +
             std::string(queries[missing->first].members[missing->second]));

    std::vector<std::uint32_t> ids;
    for (const auto& a : anonymous) ids.push_back(a.type);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<Composite> inner =
        collect(f, sec.types, buf.get(), ids.size(),
                [&](std::uint32_t id, const btf_type&) { return has(ids, id); });
    level.clear();
    for (const auto& a : anonymous) {
      for (const Composite& c : inner)
        if (c.id == a.type) level.push_back({c, a.query, a.at});
    }
  }

  std::vector<StructLayout> out(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    out[q].size = *size[q];
    for (const auto& b : bits[q]) {
      if (*b / 8 > UINT32_MAX) f.fail(outer_name(q) + " is larger than 4 GiB");
      out[q].offsets.push_back(static_cast<std::uint32_t>(*b / 8));
    }
  }
  return out;
}

std::vector<std::uint32_t> btf_member_offsets(const std::string& path, std::string_view struct_name,
                                              const std::vector<std::string_view>& members) {
  return btf_struct_layouts(path, {{struct_name, members}})[0].offsets;
}

TaskOffsets task_offsets(const std::string& btf_path) {
  const std::string path = btf_path.empty() ? kKernelBtfPath : btf_path;
  const auto off = btf_member_offsets(path, "task_struct", {"real_parent", "tgid"});
  // Neither member ever leads the struct (thread_info or the state does): a
  // 0 means this is not a kernel's task_struct, and the programs take 0 as unset.
  if (off[0] == 0 || off[1] == 0)
    throw Error("BTF file " + path + ": struct task_struct puts real_parent or tgid at offset 0", 0,
                kHint);
  return {off[0], off[1]};
}

TaskContextOffsets task_context_offsets(const std::string& btf_path) {
  const std::string path = btf_path.empty() ? kKernelBtfPath : btf_path;
  const auto l = btf_struct_layouts(
      path, {{"task_struct", {"nsproxy", "thread_pid", "group_leader"}},
             {"nsproxy", {"mnt_ns"}},
             {"mnt_namespace", {"ns"}},
             {"ns_common", {"inum"}},
             {"pid", {"level", "numbers"}},
             {"upid", {"nr", "ns"}},
             {"pid_namespace", {"ns"}}});
  TaskContextOffsets o;
  o.task_nsproxy = l[0].offsets[0];
  o.task_thread_pid = l[0].offsets[1];
  o.task_group_leader = l[0].offsets[2];
  o.nsproxy_mnt_ns = l[1].offsets[0];
  o.mntns_inum = l[2].offsets[0] + l[3].offsets[0];
  o.pid_level = l[4].offsets[0];
  o.pid_numbers = l[4].offsets[1];
  o.upid_size = l[5].size;
  o.upid_nr = l[5].offsets[0];
  o.upid_ns = l[5].offsets[1];
  o.pidns_inum = l[6].offsets[0] + l[3].offsets[0];
  return o;
}

}  // namespace snoopkit
