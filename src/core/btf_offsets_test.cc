#include "core/btf_offsets.h"

#include <bpf/btf.h>
#include <elf.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace snoopkit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Builds a BTF blob type by type, in this machine's byte order.
class BtfBuilder {
 public:
  struct Member {
    std::uint32_t name_off;  // 0: anonymous
    std::uint32_t type;
    std::uint32_t offset;  // bits, or (bitfield size << 24 | bits) in a kind_flag struct
  };

  BtfBuilder() { strings_.push_back('\0'); }

  std::uint32_t str(std::string_view s) {
    auto off = static_cast<std::uint32_t>(strings_.size());
    strings_.append(s);
    strings_.push_back('\0');
    return off;
  }

  // Adds a type with its trailer (as 32-bit words); returns its id.
  std::uint32_t add(std::uint32_t kind, std::uint32_t name_off, std::uint32_t vlen,
                    std::uint32_t size_or_type, const std::vector<std::uint32_t>& trailer = {},
                    bool kind_flag = false) {
    put(name_off);
    put((kind_flag ? 1u << 31 : 0) | kind << 24 | vlen);
    put(size_or_type);
    for (auto w : trailer) put(w);
    return ++count_;
  }

  std::uint32_t int_type(std::string_view name, std::uint32_t bytes) {
    return add(BTF_KIND_INT, str(name), 0, bytes, {bytes * 8});
  }

  std::uint32_t composite(std::uint32_t kind, std::uint32_t name_off, std::uint32_t size,
                          const std::vector<Member>& members, bool kind_flag = false) {
    std::vector<std::uint32_t> words;
    for (const auto& m : members) words.insert(words.end(), {m.name_off, m.type, m.offset});
    return add(kind, name_off, static_cast<std::uint32_t>(members.size()), size, words, kind_flag);
  }

  std::uint32_t next_id() const { return count_ + 1; }

  std::string blob() const {
    btf_header h{};
    h.magic = BTF_MAGIC;
    h.version = BTF_VERSION;
    h.hdr_len = sizeof(h);
    h.type_off = 0;
    h.type_len = static_cast<std::uint32_t>(types_.size());
    h.str_off = h.type_len;
    h.str_len = static_cast<std::uint32_t>(strings_.size());
    std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
    return out + types_ + strings_;
  }

  std::string& strings() { return strings_; }

 private:
  void put(std::uint32_t w) { types_.append(reinterpret_cast<const char*>(&w), sizeof(w)); }
  std::string types_, strings_;
  std::uint32_t count_ = 0;
};

// An ELF64 file holding btf in a .BTF section, after a decoy .BTF.ext.
std::string elf_with_btf(const std::string& btf) {
  const std::string names = std::string("\0.BTF.ext\0.BTF\0.shstrtab\0", 25);
  const std::string ext = "not BTF";
  std::string body;
  auto place = [&](const std::string& data) {
    auto off = sizeof(Elf64_Ehdr) + body.size();
    body += data;
    return off;
  };
  auto ext_off = place(ext);
  auto btf_off = place(btf);
  auto names_off = place(names);
  while ((sizeof(Elf64_Ehdr) + body.size()) % 8) body.push_back('\0');

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = EM_BPF;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shoff = sizeof(Elf64_Ehdr) + body.size();
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 4;
  eh.e_shstrndx = 3;
  auto section = [](std::uint32_t name, std::uint32_t type, std::size_t off, std::size_t size) {
    Elf64_Shdr sh{};
    sh.sh_name = name;
    sh.sh_type = type;
    sh.sh_offset = off;
    sh.sh_size = size;
    sh.sh_addralign = 1;
    return std::string(reinterpret_cast<const char*>(&sh), sizeof(sh));
  };
  std::string out(reinterpret_cast<const char*>(&eh), sizeof(eh));
  out += body;
  out += section(0, SHT_NULL, 0, 0);
  out += section(1, SHT_PROGBITS, ext_off, ext.size());   // ".BTF.ext"
  out += section(10, SHT_PROGBITS, btf_off, btf.size());  // ".BTF"
  out += section(15, SHT_STRTAB, names_off, names.size());
  return out;
}

class BtfOffsetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("snoopkit-btf-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& bytes) {
    fs::path p = dir_ / ("btf" + std::to_string(files_++));
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

  // The error text task_offsets throws for the file holding bytes.
  std::string error_for(const std::string& bytes) {
    try {
      task_offsets(write(bytes));
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  // A kernel-like BTF: every kind before task_struct, whose real_parent is at
  // byte 1200 and tgid at 1172.
  BtfBuilder kernel_like() {
    BtfBuilder b;
    std::uint32_t i = b.int_type("int", 4);                               // 1
    std::uint32_t fwd = b.add(BTF_KIND_FWD, b.str("task_struct"), 0, 0);  // 2
    std::uint32_t ptr = b.add(BTF_KIND_PTR, 0, 0, fwd);                   // 3
    b.add(BTF_KIND_ARRAY, 0, 0, 0, {i, i, 16});
    b.add(BTF_KIND_ENUM, b.str("e"), 2, 4, {b.str("A"), 0, b.str("B"), 1});
    b.add(BTF_KIND_ENUM64, b.str("e64"), 1, 8, {b.str("C"), 1, 2});
    std::uint32_t proto = b.add(BTF_KIND_FUNC_PROTO, 0, 2, i, {0, i, b.str("x"), ptr});
    b.add(BTF_KIND_FUNC, b.str("f"), 0, proto);
    std::uint32_t var = b.add(BTF_KIND_VAR, b.str("v"), 0, i, {1});
    b.add(BTF_KIND_DATASEC, b.str(".data"), 1, 4, {var, 0, 4});
    b.add(BTF_KIND_DECL_TAG, b.str("tag"), 0, var, {0xffffffff});
    b.add(BTF_KIND_TYPE_TAG, b.str("user"), 0, i);
    b.add(BTF_KIND_FLOAT, b.str("double"), 0, 8);
    std::uint32_t pid_t = b.add(BTF_KIND_TYPEDEF, b.str("pid_t"), 0, i);
    b.add(BTF_KIND_CONST, 0, 0, pid_t);
    b.add(BTF_KIND_VOLATILE, 0, 0, pid_t);
    b.add(BTF_KIND_RESTRICT, 0, 0, ptr);
    // A union of the same name does not count either.
    b.composite(BTF_KIND_UNION, b.str("task_struct"), 8,
                {{b.str("real_parent"), ptr, 0}, {b.str("tgid"), pid_t, 0}});
    b.composite(BTF_KIND_STRUCT, b.str("task_struct"), 4096,
                {{b.str("state"), i, 0},
                 {b.str("pid"), pid_t, 1168 * 8},
                 {b.str("tgid"), pid_t, 1172 * 8},
                 {b.str("real_parent"), ptr, 1200 * 8}});
    b.int_type("long", 8);
    return b;
  }

  fs::path dir_;
  int files_ = 0;
};

TEST_F(BtfOffsetsTest, FindsTheStructAfterEveryKindSkippingForwardAndUnion) {
  const TaskOffsets t = task_offsets(write(kernel_like().blob()));
  EXPECT_EQ(t.real_parent, 1200u);
  EXPECT_EQ(t.tgid, 1172u);
}

TEST_F(BtfOffsetsTest, GenericLookupKeepsTheOrderAsked) {
  auto off = btf_member_offsets(write(kernel_like().blob()), "task_struct",
                                {"real_parent", "state", "pid", "tgid"});
  EXPECT_EQ(off, (std::vector<std::uint32_t>{1200, 0, 1168, 1172}));
}

TEST_F(BtfOffsetsTest, SeveralStructsInOneQueryWithSizes) {
  BtfBuilder b = kernel_like();
  std::uint32_t i = b.int_type("unsigned int", 4);
  std::uint32_t ptr = b.add(BTF_KIND_PTR, 0, 0, 0);
  b.composite(BTF_KIND_STRUCT, b.str("upid"), 16, {{b.str("nr"), i, 0}, {b.str("ns"), ptr, 64}});
  // A second struct of a name already found does not replace the first.
  b.composite(BTF_KIND_STRUCT, b.str("upid"), 32, {{b.str("nr"), i, 64}, {b.str("ns"), ptr, 128}});
  b.composite(BTF_KIND_STRUCT, b.str("pid"), 96,
              {{b.str("level"), i, 32}, {b.str("numbers"), ptr, 80 * 8}});
  const auto l = btf_struct_layouts(write(b.blob()), {{"pid", {"numbers", "level"}},
                                                      {"upid", {"ns", "nr"}},
                                                      {"task_struct", {"tgid"}}});
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].size, 96u);
  EXPECT_EQ(l[0].offsets, (std::vector<std::uint32_t>{80, 4}));
  EXPECT_EQ(l[1].size, 16u);
  EXPECT_EQ(l[1].offsets, (std::vector<std::uint32_t>{8, 0}));
  EXPECT_EQ(l[2].size, 4096u);
  EXPECT_EQ(l[2].offsets, (std::vector<std::uint32_t>{1172}));
}

TEST_F(BtfOffsetsTest, SeveralStructsNameTheOneThatIsMissing) {
  const std::string path = write(kernel_like().blob());
  try {
    btf_struct_layouts(path, {{"task_struct", {"tgid"}}, {"nsproxy", {"mnt_ns"}}});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no struct nsproxy"));
  }
  try {
    btf_struct_layouts(path, {{"task_struct", {"tgid", "nsproxy"}}});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("struct task_struct has no member nsproxy"));
  }
}

TEST_F(BtfOffsetsTest, MembersInsideAnonymousUnionsAndStructs) {
  BtfBuilder b;
  std::uint32_t i = b.int_type("int", 4);  // 1
  std::uint32_t ptr = b.add(BTF_KIND_PTR, 0, 0, 0);
  // Before the struct: an anonymous union holding real_parent at +8.
  std::uint32_t inner_union =
      b.composite(BTF_KIND_UNION, 0, 16, {{b.str("other"), i, 0}, {b.str("real_parent"), ptr, 64}});
  const std::uint32_t inner_struct = b.next_id() + 1;  // defined after the struct
  b.composite(BTF_KIND_STRUCT, b.str("task_struct"), 512,
              {{b.str("state"), i, 0}, {0, inner_union, 128 * 8}, {0, inner_struct, 256 * 8}});
  // After it: an anonymous struct holding an anonymous union holding tgid at +4.
  std::uint32_t deeper = inner_struct + 1;
  EXPECT_EQ(b.composite(BTF_KIND_STRUCT, 0, 16, {{b.str("x"), i, 0}, {0, deeper, 64}}),
            inner_struct);
  b.composite(BTF_KIND_UNION, 0, 8, {{b.str("y"), i, 0}, {b.str("tgid"), i, 32}});
  const TaskOffsets t = task_offsets(write(b.blob()));
  EXPECT_EQ(t.real_parent, 128u + 8);
  EXPECT_EQ(t.tgid, 256u + 8 + 4);
}

TEST_F(BtfOffsetsTest, KindFlagOffsetsAndBitfields) {
  BtfBuilder b;
  std::uint32_t i = b.int_type("int", 4);
  std::uint32_t ptr = b.add(BTF_KIND_PTR, 0, 0, 0);
  // kind_flag: the low 24 bits are the offset; a bitfield elsewhere is fine.
  b.composite(BTF_KIND_STRUCT, b.str("task_struct"), 64,
              {{b.str("flags"), i, 3u << 24 | 0},
               {0, i, 5u << 24 | 3},  // unnamed padding bits
               {b.str("tgid"), i, 0u << 24 | 32},
               {b.str("real_parent"), ptr, 0u << 24 | 128}},
              /*kind_flag=*/true);
  const TaskOffsets t = task_offsets(write(b.blob()));
  EXPECT_EQ(t.real_parent, 16u);
  EXPECT_EQ(t.tgid, 4u);

  BtfBuilder bad;
  i = bad.int_type("int", 4);
  bad.composite(BTF_KIND_STRUCT, bad.str("task_struct"), 64,
                {{bad.str("tgid"), i, 20u << 24 | 32}, {bad.str("real_parent"), i, 128}},
                /*kind_flag=*/true);
  EXPECT_THAT(error_for(bad.blob()), HasSubstr("struct task_struct member tgid is a bitfield"));
}

TEST_F(BtfOffsetsTest, OnlyAForwardDeclaration) {
  BtfBuilder b;
  b.int_type("int", 4);
  b.add(BTF_KIND_FWD, b.str("task_struct"), 0, 0);
  b.str("real_parent");
  b.str("tgid");
  EXPECT_THAT(error_for(b.blob()), HasSubstr("no struct task_struct"));
}

TEST_F(BtfOffsetsTest, NameNotEvenAString) {
  BtfBuilder b;
  b.int_type("int", 4);
  EXPECT_THAT(error_for(b.blob()), HasSubstr("no struct task_struct"));
}

TEST_F(BtfOffsetsTest, MissingMember) {
  BtfBuilder b;
  std::uint32_t i = b.int_type("int", 4);
  std::uint32_t anon = b.composite(BTF_KIND_UNION, 0, 4, {{b.str("pid"), i, 0}});
  b.composite(BTF_KIND_STRUCT, b.str("task_struct"), 64,
              {{b.str("real_parent"), i, 64}, {0, anon, 96}});
  b.str("tgid");  // the name exists, as a string only
  std::string err = error_for(b.blob());
  EXPECT_THAT(err, HasSubstr("struct task_struct has no member tgid"));
  EXPECT_THAT(err, HasSubstr("BTF file "));
}

TEST_F(BtfOffsetsTest, NameSharedWithTheTailOfALongerString) {
  BtfBuilder b;
  std::uint32_t i = b.int_type("int", 4);
  std::uint32_t pid_tgid = b.str("pid_tgid");
  b.composite(BTF_KIND_STRUCT, b.str("my_task_struct") + 3, 64,
              {{b.str("real_parent"), i, 64}, {pid_tgid + 4, i, 96}, {pid_tgid, i, 128}});
  const TaskOffsets t = task_offsets(write(b.blob()));
  EXPECT_EQ(t.real_parent, 8u);
  EXPECT_EQ(t.tgid, 12u);
}

// Types and names that straddle the 64 KiB buffer: a type record split
// between two reads, and "task_struct" starting just before a chunk ends.
TEST_F(BtfOffsetsTest, RecordsAndNamesAcrossBufferBoundaries) {
  BtfBuilder b;
  std::uint32_t i = b.int_type("int", 4);
  for (int n = 0; n < 9000; ++n) b.add(BTF_KIND_ENUM, 0, 1, 4, {0, 0});  // 20 bytes each
  std::uint32_t ptr = b.add(BTF_KIND_PTR, 0, 0, 0);
  std::size_t filler = 65536 - 5 - b.strings().size() - 1;
  b.str(std::string(filler, 'x'));
  std::uint32_t name = b.str("task_struct");
  ASSERT_EQ(name, 65536u - 5);
  b.strings().append(std::string(70000, 'y')).push_back('\0');
  b.composite(BTF_KIND_STRUCT, name, 64,
              {{b.str("tgid"), i, 8 * 8}, {b.str("real_parent"), ptr, 16 * 8}});
  const TaskOffsets t = task_offsets(write(b.blob()));
  EXPECT_EQ(t.real_parent, 16u);
  EXPECT_EQ(t.tgid, 8u);
}

TEST_F(BtfOffsetsTest, TruncatedFiles) {
  const std::string blob = kernel_like().blob();
  for (std::size_t cut : {std::size_t{1}, std::size_t{10}, std::size_t{23}, std::size_t{100},
                          blob.size() / 2, blob.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(error_for(blob.substr(0, cut)), HasSubstr("truncated"));
  }
  EXPECT_THAT(error_for(""), HasSubstr("truncated"));

  // A header whose type section ends inside task_struct's record (the
  // last type, "long", is 16 bytes; 4 more cut the last member).
  std::string bad = blob;
  btf_header h;
  std::memcpy(&h, bad.data(), sizeof(h));
  h.type_len -= 16 + 4;
  std::memcpy(bad.data(), &h, sizeof(h));
  EXPECT_THAT(error_for(bad), HasSubstr("runs past the end of the type section"));
}

TEST_F(BtfOffsetsTest, BadMagicOtherByteOrderAndUnknownKind) {
  EXPECT_THAT(error_for(std::string(4096, '\x5a')), HasSubstr("not BTF"));
  std::string swapped = kernel_like().blob();
  std::swap(swapped[0], swapped[1]);
  EXPECT_THAT(error_for(swapped), HasSubstr("other byte order"));

  BtfBuilder b;
  b.int_type("int", 4);
  b.add(31, 0, 0, 0);
  b.str("task_struct");
  EXPECT_THAT(error_for(b.blob()), HasSubstr("type 2 has unknown BTF kind 31"));
}

TEST_F(BtfOffsetsTest, MissingFile) {
  try {
    task_offsets((dir_ / "nope").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope"));
    EXPECT_EQ(e.err(), ENOENT);
  }
}

TEST_F(BtfOffsetsTest, FifoIsRefusedWithoutBlocking) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  try {
    task_offsets(fifo);  // blocked in open(2) for a writer before the fix
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not a regular file (a FIFO)"));
  }
}

TEST_F(BtfOffsetsTest, ElfFileWithABtfSection) {
  const TaskOffsets t = task_offsets(write(elf_with_btf(kernel_like().blob())));
  EXPECT_EQ(t.real_parent, 1200u);
  EXPECT_EQ(t.tgid, 1172u);

  // Renamed, the section is not found (and .BTF.ext is no match).
  std::string renamed = elf_with_btf(kernel_like().blob());
  renamed[renamed.rfind(std::string(".BTF\0.shstrtab", 14)) + 3] = 'X';
  EXPECT_THAT(error_for(renamed), HasSubstr("without a .BTF section"));

  std::string tiny = elf_with_btf("x");
  EXPECT_THAT(error_for(tiny), HasSubstr("truncated"));
  EXPECT_THAT(error_for(tiny.substr(0, 40)), HasSubstr("truncated"));
}

// The running kernel's BTF, against libbpf's own parse of it.
TEST_F(BtfOffsetsTest, RealKernelBtfMatchesLibbpf) {
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no readable " << kKernelBtfPath;
  btf* b = btf__parse(kKernelBtfPath, nullptr);
  ASSERT_NE(b, nullptr);
  // Byte offset of a member, searching anonymous members too.
  std::function<std::optional<std::uint32_t>(const btf_type*, std::string_view)> find =
      [&](const btf_type* t, std::string_view name) -> std::optional<std::uint32_t> {
    const btf_member* m = btf_members(t);
    for (std::uint32_t k = 0; k < btf_vlen(t); ++k, ++m) {
      std::uint32_t bits = btf_member_bit_offset(t, k);
      if (m->name_off == 0) {
        const btf_type* inner = btf__type_by_id(b, m->type);
        if (inner && (btf_is_struct(inner) || btf_is_union(inner)))
          if (auto at = find(inner, name)) return bits / 8 + *at;
      } else if (name == btf__name_by_offset(b, m->name_off)) {
        return bits / 8;
      }
    }
    return std::nullopt;
  };
  int id = btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT);
  ASSERT_GT(id, 0);
  const btf_type* task = btf__type_by_id(b, id);
  auto real_parent = find(task, "real_parent"), tgid = find(task, "tgid");
  btf__free(b);
  ASSERT_TRUE(real_parent && tgid);

  const TaskOffsets t = task_offsets("");  // "": the running kernel's
  EXPECT_EQ(t.real_parent, *real_parent);
  EXPECT_EQ(t.tgid, *tgid);

  // The same data inside an ELF file (as --btf may give it) reads the same.
  std::ifstream in(kKernelBtfPath, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const TaskOffsets e = task_offsets(write(elf_with_btf(raw)));
  EXPECT_EQ(e.real_parent, *real_parent);
  EXPECT_EQ(e.tgid, *tgid);
}

TEST_F(BtfOffsetsTest, RealKernelTaskContextMatchesLibbpf) {
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no readable " << kKernelBtfPath;
  btf* b = btf__parse(kKernelBtfPath, nullptr);
  ASSERT_NE(b, nullptr);
  // Byte offset of a direct member, and a struct's size, as libbpf sees them.
  auto type = [&](const char* name) {
    int id = btf__find_by_name_kind(b, name, BTF_KIND_STRUCT);
    return id > 0 ? btf__type_by_id(b, id) : nullptr;
  };
  auto at = [&](const char* st, std::string_view name) -> std::uint32_t {
    const btf_type* t = type(st);
    if (!t) return UINT32_MAX;
    const btf_member* m = btf_members(t);
    for (std::uint32_t k = 0; k < btf_vlen(t); ++k, ++m)
      if (name == btf__name_by_offset(b, m->name_off)) return btf_member_bit_offset(t, k) / 8;
    return UINT32_MAX;
  };
  TaskContextOffsets want;
  want.task_nsproxy = at("task_struct", "nsproxy");
  want.task_thread_pid = at("task_struct", "thread_pid");
  want.task_group_leader = at("task_struct", "group_leader");
  want.nsproxy_mnt_ns = at("nsproxy", "mnt_ns");
  want.mntns_inum = at("mnt_namespace", "ns") + at("ns_common", "inum");
  want.pid_level = at("pid", "level");
  want.pid_numbers = at("pid", "numbers");
  want.upid_size = type("upid") ? type("upid")->size : 0;
  want.upid_nr = at("upid", "nr");
  want.upid_ns = at("upid", "ns");
  want.pidns_inum = at("pid_namespace", "ns") + at("ns_common", "inum");
  btf__free(b);

  const TaskContextOffsets got = task_context_offsets("");
  EXPECT_EQ(got.task_nsproxy, want.task_nsproxy);
  EXPECT_EQ(got.task_thread_pid, want.task_thread_pid);
  EXPECT_EQ(got.task_group_leader, want.task_group_leader);
  EXPECT_EQ(got.nsproxy_mnt_ns, want.nsproxy_mnt_ns);
  EXPECT_EQ(got.mntns_inum, want.mntns_inum);
  EXPECT_EQ(got.pid_level, want.pid_level);
  EXPECT_EQ(got.pid_numbers, want.pid_numbers);
  EXPECT_EQ(got.upid_size, want.upid_size);
  EXPECT_EQ(got.upid_nr, want.upid_nr);
  EXPECT_EQ(got.upid_ns, want.upid_ns);
  EXPECT_EQ(got.pidns_inum, want.pidns_inum);
}

}  // namespace
}  // namespace snoopkit
