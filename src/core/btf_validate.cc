#include "core/btf_validate.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "core/btf_offsets.h"
#include "core/error.h"
#include "core/escape.h"

namespace snoopkit {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::uint64_t kMaxTypes = 0xfffff;          // BTF_MAX_TYPE
constexpr std::uint64_t kMaxNameOffset = 0xffffff;    // BTF_MAX_NAME_OFFSET
constexpr int kMaxChain = 32;                         // modifiers followed before a loop is assumed
constexpr std::uint16_t kSwappedMagic = 0x9FEB;       // BTF_MAGIC in the other byte order
constexpr const char* kBtfHint =
    "pass a BTF file made for this kernel, e.g. a copy of /sys/kernel/btf/vmlinux";

[[noreturn]] void bad(const std::string& why) { throw BtfInvalid(why); }

// A file name as it may appear on a terminal.
std::string shown(const std::string& path) {
  std::string out;
  append_text_escaped(out, path);
  return out;
}

std::string type_at(std::uint64_t id) { return "type " + std::to_string(id); }

// A file read with pread.
class FileSource : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  std::size_t read_at(std::uint64_t off, void* out, std::size_t n) const override {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = pread(fd_, p + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error("read BTF file " + shown(path_), errno);
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

 private:
  int fd_;
  std::string path_;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  std::size_t read_at(std::uint64_t off, void* out, std::size_t n) const override {
    if (off >= bytes_.size()) return 0;
    n = std::min<std::size_t>(n, bytes_.size() - static_cast<std::size_t>(off));
    std::memcpy(out, bytes_.data() + off, n);
    return n;
  }

 private:
  std::string_view bytes_;
};

// Reads a range front to back through one buffer.
class Cursor {
 public:
  Cursor(const ByteSource& src, std::uint64_t begin, std::uint64_t size, unsigned char* buf)
      : src_(src), pos_(begin), end_(begin + size), buf_(buf) {}
  bool done() const { return pos_ == end_ && at_ == have_; }
  // Copies the next n bytes of type id's record to out.
  void take(void* out, std::size_t n, std::uint64_t id) {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      if (at_ == have_) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, end_ - pos_));
        if (want == 0) bad(type_at(id) + " runs past the end of the type section");
        if (src_.read_at(pos_, buf_, want) != want) bad("the BTF data is cut short");
        pos_ += want, at_ = 0, have_ = want;
      }
      std::size_t m = std::min(n, have_ - at_);
      std::memcpy(p, buf_ + at_, m);
      p += m, n -= m, at_ += m;
    }
  }
  template <class T>
  T next(std::uint64_t id) {
    T t;
    take(&t, sizeof(t), id);
    return t;
  }

 private:
  const ByteSource& src_;
  std::uint64_t pos_, end_;
  unsigned char* buf_;
  std::size_t have_ = 0, at_ = 0;
};

bool is_chain(std::uint8_t kind) {
  return kind == BTF_KIND_PTR || kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE ||
         kind == BTF_KIND_CONST || kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

// What a reference may point at.
enum class Ref {
  kValue,      // a type a value can have (or void)
  kValueNonVoid,
  kFuncProto,  // FUNC's signature
  kAny,        // a DATASEC entry or a DECL_TAG's target: anything but void
};

// One walk of the type section. The first walk learns each type's kind;
// the second, given them, checks every reference.
class Walk {
 public:
  Walk(std::uint64_t str_len, const std::vector<std::uint8_t>* known)
      : str_len_(str_len), kinds_(known) {}

  std::vector<std::uint8_t> kinds;   // filled by the first walk; [0] is void
  std::vector<std::uint32_t> chain;  // the type a modifier or typedef names, else 0

  void run(Cursor& c) {
    for (std::uint64_t id = 1; !c.done(); ++id) {
      if (id > kMaxTypes) bad("more than " + std::to_string(kMaxTypes) + " types");
      one(c, id);
    }
  }

 private:
  void name(std::uint32_t off, std::uint64_t id, const char* what = "its name") const {
    if (off >= str_len_)
      bad(type_at(id) + ": " + what + " at string offset " + std::to_string(off) +
          ", past the string section (" + std::to_string(str_len_) + " bytes)");
  }

  void ref(std::uint32_t target, Ref want, std::uint64_t id, const char* what) const {
    if (!kinds_) return;
    const std::string where = type_at(id) + " " + what;
    if (target >= kinds_->size())
      bad(where + " refers to type " + std::to_string(target) + ", past the last type " +
          std::to_string(kinds_->size() - 1));
    const std::uint8_t k = (*kinds_)[target];
    bool ok = true;
    switch (want) {
      case Ref::kValue:
      case Ref::kValueNonVoid:
        ok = (target != 0 || want == Ref::kValue) && k != BTF_KIND_FUNC && k != BTF_KIND_VAR &&
             k != BTF_KIND_DATASEC && k != BTF_KIND_DECL_TAG;
        break;
      case Ref::kFuncProto:
        ok = target != 0 && k == BTF_KIND_FUNC_PROTO;
        break;
      case Ref::kAny:
        ok = target != 0;
        break;
    }
    if (!ok)
      bad(where + " refers to type " + std::to_string(target) + ", of a kind that cannot stand there");
  }

  static void sized(std::uint32_t size, std::initializer_list<std::uint32_t> allowed,
                    std::uint64_t id, const char* kind) {
    if (std::find(allowed.begin(), allowed.end(), size) == allowed.end())
      bad(type_at(id) + ": " + kind + " of size " + std::to_string(size));
  }

  void one(Cursor& c, std::uint64_t id) {
    const auto t = c.next<btf_type>(id);
    const std::uint8_t kind = static_cast<std::uint8_t>(BTF_INFO_KIND(t.info));
    const std::uint32_t vlen = BTF_INFO_VLEN(t.info);
    std::uint32_t named = 0;
    name(t.name_off, id);
    auto no_vlen = [&] {
      if (vlen != 0) bad(type_at(id) + ": vlen " + std::to_string(vlen) + " for a kind without members");
    };
    switch (kind) {
      case BTF_KIND_INT: {
        no_vlen();
        sized(t.size, {1, 2, 4, 8, 16}, id, "an INT");
        const auto enc = c.next<std::uint32_t>(id);
        if (BTF_INT_BITS(enc) > 128 || BTF_INT_OFFSET(enc) + BTF_INT_BITS(enc) > t.size * 8)
          bad(type_at(id) + ": INT bits past its size");
        break;
      }
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        no_vlen();
        ref(t.type, Ref::kValue, id, "(a modifier)");
        named = t.type;
        break;
      case BTF_KIND_FWD:
      case BTF_KIND_FLOAT:
        no_vlen();
        if (kind == BTF_KIND_FLOAT) sized(t.size, {2, 4, 8, 12, 16}, id, "a FLOAT");
        break;
      case BTF_KIND_FUNC:
        if (vlen > BTF_FUNC_EXTERN) bad(type_at(id) + ": FUNC linkage " + std::to_string(vlen));
        ref(t.type, Ref::kFuncProto, id, "(a FUNC)");
        break;
      case BTF_KIND_ARRAY: {
        no_vlen();
        const auto a = c.next<btf_array>(id);
        ref(a.type, Ref::kValueNonVoid, id, "(an ARRAY's elements)");
        ref(a.index_type, Ref::kValueNonVoid, id, "(an ARRAY's index)");
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        for (std::uint32_t i = 0; i < vlen; ++i) {
          const auto m = c.next<btf_member>(id);
          name(m.name_off, id, "a member's name");
          ref(m.type, Ref::kValueNonVoid, id, "(a member)");
        }
        break;
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        sized(t.size, {1, 2, 4, 8}, id, "an ENUM");
        for (std::uint32_t i = 0; i < vlen; ++i) {
          std::uint32_t off;
          if (kind == BTF_KIND_ENUM)
            off = c.next<btf_enum>(id).name_off;
          else
            off = c.next<btf_enum64>(id).name_off;
          name(off, id, "an enumerator's name");
        }
        break;
      case BTF_KIND_FUNC_PROTO:
        ref(t.type, Ref::kValue, id, "(a FUNC_PROTO's return)");
        for (std::uint32_t i = 0; i < vlen; ++i) {
          const auto p = c.next<btf_param>(id);
          name(p.name_off, id, "a parameter's name");
          ref(p.type, Ref::kValue, id, "(a parameter)");  // void: the last of a variadic function
        }
        break;
      case BTF_KIND_VAR:
        no_vlen();
        ref(t.type, Ref::kValueNonVoid, id, "(a VAR)");
        c.next<btf_var>(id);
        break;
      case BTF_KIND_DATASEC:
        for (std::uint32_t i = 0; i < vlen; ++i)
          ref(c.next<btf_var_secinfo>(id).type, Ref::kAny, id, "(a DATASEC entry)");
        break;
      case BTF_KIND_DECL_TAG:
        no_vlen();
        ref(t.type, Ref::kAny, id, "(a DECL_TAG)");
        if (c.next<btf_decl_tag>(id).component_idx < -1)
          bad(type_at(id) + ": DECL_TAG component below -1");
        break;
      default:
        bad(type_at(id) + " has unknown BTF kind " + std::to_string(kind));
    }
    if (!kinds_) {
      if (kinds.empty()) kinds.push_back(BTF_KIND_UNKN), chain.push_back(0);
      kinds.push_back(kind);
      chain.push_back(named);
    }
  }

  std::uint64_t str_len_;
  const std::vector<std::uint8_t>* kinds_;
};

// A loop of modifiers and typedefs (PTR included: libbpf follows pointers
// when it resolves CO-RE relocations) sends libbpf round forever.
void check_chains(const std::vector<std::uint8_t>& kinds, const std::vector<std::uint32_t>& chain) {
  for (std::uint64_t id = 1; id < kinds.size(); ++id) {
    std::uint64_t t = id;
    for (int step = 0; t != 0 && is_chain(kinds[t]); ++step) {
      if (step == kMaxChain)
        bad(type_at(id) + ": a chain of more than " + std::to_string(kMaxChain) +
            " modifiers, pointers or typedefs (a loop?)");
      t = chain[t];
    }
  }
}

// The BTF data of an ELF image: where its .BTF section is.
struct Section {
  std::uint64_t offset = 0, size = 0;
};

std::optional<Section> elf_btf_section(Elf* elf, std::uint64_t image_size) {
  if (!elf || elf_kind(elf) != ELF_K_ELF) bad(std::string("not a readable ELF file: ") + elf_errmsg(-1));
  std::size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) bad("an ELF file without section names");
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) bad("an ELF file with a malformed section header");
    const char* n = elf_strptr(elf, names, sh.sh_name);
    if (!n || std::strcmp(n, ".BTF") != 0) continue;
    if (sh.sh_type == SHT_NOBITS) bad("its .BTF section holds no data");
    if (sh.sh_flags & SHF_COMPRESSED) bad("its .BTF section is compressed");
    if (sh.sh_offset > image_size || sh.sh_size > image_size - sh.sh_offset)
      bad("its .BTF section ends past the end of the file");
    return Section{sh.sh_offset, sh.sh_size};
  }
  return std::nullopt;
}

// Owns an Elf handle.
struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfCloser>;

}  // namespace

void validate_btf(const ByteSource& src, std::uint64_t begin, std::uint64_t size) {
  if (size < sizeof(btf_header)) bad("shorter than a BTF header");
  btf_header h{};
  if (src.read_at(begin, &h, sizeof(h)) != sizeof(h)) bad("shorter than a BTF header");
  if (h.magic == kSwappedMagic) bad("BTF of the other byte order, not this machine's");
  if (h.magic != BTF_MAGIC) bad("bad magic: not BTF (no magic 0xeb9f)");
  if (h.version != BTF_VERSION) bad("BTF version " + std::to_string(h.version) + ", not 1");
  if (h.flags != 0) bad("BTF header flags " + std::to_string(h.flags) + ", not 0");
  if (h.hdr_len < sizeof(btf_header) || h.hdr_len > size) bad("a BTF header length past the data");
  const std::uint64_t data = begin + h.hdr_len, room = size - h.hdr_len;
  if (h.type_off % 4 != 0) bad("a type section not 4-byte aligned");
  if (std::uint64_t{h.type_off} + h.type_len > h.str_off ||
      std::uint64_t{h.str_off} + h.str_len > room)
    bad("type and string sections out of place (types first, both inside the data)");
  if (h.str_len == 0 || h.str_len - 1 > kMaxNameOffset) bad("a string section of bad size");
  char first = 1, last = 1;
  src.read_at(data + h.str_off, &first, 1);
  src.read_at(data + h.str_off + h.str_len - 1, &last, 1);
  if (first != '\0' || last != '\0') bad("a string section that does not start and end with NUL");

  auto buf = std::make_unique<unsigned char[]>(kChunk);
  Walk learn(h.str_len, nullptr);
  Cursor first_pass(src, data + h.type_off, h.type_len, buf.get());
  learn.run(first_pass);
  if (learn.kinds.empty()) learn.kinds.push_back(BTF_KIND_UNKN), learn.chain.push_back(0);
  Walk check(h.str_len, &learn.kinds);
  Cursor second_pass(src, data + h.type_off, h.type_len, buf.get());
  check.run(second_pass);
  check_chains(learn.kinds, learn.chain);
}

void validate_btf(std::string_view bytes) { validate_btf(MemorySource(bytes), 0, bytes.size()); }

void validate_elf_btf(std::string_view bytes) {
  elf_version(EV_CURRENT);
  // libelf only reads an image it is handed with ELF_C_READ_MMAP's rules.
  ElfPtr elf(elf_memory(const_cast<char*>(bytes.data()), bytes.size()));
  if (auto sec = elf_btf_section(elf.get(), bytes.size()))
    validate_btf(bytes.substr(sec->offset, sec->size));
}

int open_regular_file(const std::string& path, const std::string& what, const std::string& hint) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(what + " " + shown(path), errno, hint);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    throw Error(what + " " + shown(path), err, hint);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
                       : S_ISDIR(st.st_mode) ? "a directory"
                       : S_ISCHR(st.st_mode) ? "a character device"
                       : S_ISBLK(st.st_mode) ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "of an unknown kind";
    throw Error(what + " " + shown(path) + " is not a regular file (" + kind + ")", 0, hint);
  }
  return fd;
}

void validate_btf_file(const std::string& path) {
  const std::string what = "--btf " + shown(path);
  int fd = open_regular_file(path, "--btf", kBtfHint);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st {};
  fstat(fd, &st);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  FileSource src(fd, path);
  try {
    std::uint16_t magic = 0;
    src.read_at(0, &magic, sizeof(magic));
    if (magic == BTF_MAGIC || magic == kSwappedMagic) return validate_btf(src, 0, size);
    char id[4] = {};
    if (src.read_at(0, id, sizeof(id)) != sizeof(id) || std::memcmp(id, "\177ELF", 4) != 0)
      bad("bad magic: neither BTF (0xeb9f) nor an ELF file");
    elf_version(EV_CURRENT);
    ElfPtr elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr));
    auto sec = elf_btf_section(elf.get(), size);
    if (!sec) bad("an ELF file without a .BTF section");
    validate_btf(src, sec->offset, sec->size);
  } catch (const BtfInvalid& e) {
    throw Error(what + " is not valid BTF: " + e.what(), 0, kBtfHint);
  }
}

void check_btf(const std::string& custom_path) {
  if (!custom_path.empty()) return validate_btf_file(custom_path);
  if (access(kKernelBtfPath, R_OK) != 0)
    throw Error(std::string("this kernel exposes no BTF (") + kKernelBtfPath + ")", errno,
                "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or pass --btf PATH");
}

}  // namespace snoopkit
