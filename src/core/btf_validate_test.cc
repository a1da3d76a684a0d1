#include "core/btf_validate.h"

#include <linux/btf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/btf_offsets.h"
#include "core/error.h"
#include "core/temp_dir_test_util.h"

namespace snoopkit {
namespace {

using ::testing::HasSubstr;

// Synthetic BTF as 32-bit words: each type is its three header words and
// its trailer; strings are "\0" then the names given.
struct Blob {
  std::vector<std::uint32_t> types;
  std::string strings{"\0int\0s\0m\0", 9};  // offsets: int=1 s=5 m=7
  std::uint32_t next = 1;

  std::uint32_t type(std::uint32_t kind, std::uint32_t name, std::uint32_t vlen,
                     std::uint32_t size_or_type, std::vector<std::uint32_t> trailer = {}) {
    types.insert(types.end(), {name, kind << 24 | vlen, size_or_type});
    types.insert(types.end(), trailer.begin(), trailer.end());
    return next++;
  }
  std::string bytes() const {
    btf_header h{};
    h.magic = BTF_MAGIC;
    h.version = BTF_VERSION;
    h.hdr_len = sizeof(h);
    h.type_len = static_cast<std::uint32_t>(types.size() * 4);
    h.str_off = h.type_len;
    h.str_len = static_cast<std::uint32_t>(strings.size());
    std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
    out.append(reinterpret_cast<const char*>(types.data()), types.size() * 4);
    return out + strings;
  }
};

// A small but complete BTF: one type of every kind.
Blob every_kind() {
  Blob b;
  std::uint32_t i = b.type(BTF_KIND_INT, 1, 0, 4, {32});            // 1
  std::uint32_t fwd = b.type(BTF_KIND_FWD, 5, 0, 0);                // 2
  std::uint32_t ptr = b.type(BTF_KIND_PTR, 0, 0, fwd);              // 3
  b.type(BTF_KIND_ARRAY, 0, 0, 0, {i, i, 16});                      // 4
  b.type(BTF_KIND_ENUM, 5, 1, 4, {7, 0});                           // 5
  b.type(BTF_KIND_ENUM64, 5, 1, 8, {7, 1, 2});                      // 6
  std::uint32_t proto = b.type(BTF_KIND_FUNC_PROTO, 0, 2, i, {7, ptr, 0, 0});
  b.type(BTF_KIND_FUNC, 7, 1, proto);
  std::uint32_t var = b.type(BTF_KIND_VAR, 7, 0, i, {1});
  b.type(BTF_KIND_DATASEC, 5, 1, 4, {var, 0, 4});
  b.type(BTF_KIND_DECL_TAG, 7, 0, var, {0xffffffff});
  b.type(BTF_KIND_TYPE_TAG, 7, 0, ptr);
  b.type(BTF_KIND_FLOAT, 7, 0, 8);
  std::uint32_t td = b.type(BTF_KIND_TYPEDEF, 5, 0, i);
  b.type(BTF_KIND_CONST, 0, 0, td);
  b.type(BTF_KIND_VOLATILE, 0, 0, td);
  b.type(BTF_KIND_RESTRICT, 0, 0, ptr);
  b.type(BTF_KIND_STRUCT, 5, 2, 16, {7, i, 0, 0, ptr, 64});
  b.type(BTF_KIND_UNION, 5, 1, 8, {7, ptr, 0});
  return b;
}

std::string problem(const std::string& bytes) {
  try {
    validate_btf(bytes);
  } catch (const BtfInvalid& e) {
    return e.what();
  }
  return "";
}

// The struct's member type (word 4 of its first member) set to v.
std::string struct_member_type(std::uint32_t v) {
  Blob b = every_kind();
  b.types[b.types.size() - 3 - 3 - 6 + 1] = v;  // STRUCT: 3 header words, 2 members; UNION after
  return b.bytes();
}

TEST(BtfValidate, AcceptsEveryKind) { EXPECT_EQ(problem(every_kind().bytes()), ""); }

TEST(BtfValidate, TypeIdPastTheLastType) {
  // As in a kernel BTF whose task_struct members were set to 0x7ffffff0.
  EXPECT_THAT(problem(struct_member_type(0x7ffffff0)),
              HasSubstr("refers to type 2147483632, past the last type 19"));
  EXPECT_THAT(problem(struct_member_type(20)), HasSubstr("past the last type 19"));
  EXPECT_EQ(problem(struct_member_type(19)), "");
  EXPECT_THAT(problem(struct_member_type(0)), HasSubstr("cannot stand there"));  // void member
}

TEST(BtfValidate, ReferencesOfEveryKindAreChecked) {
  auto with = [](std::uint32_t kind, std::uint32_t vlen, std::uint32_t st,
                 std::vector<std::uint32_t> trailer) {
    Blob b;
    b.type(BTF_KIND_INT, 1, 0, 4, {32});
    b.type(kind, 5, vlen, st, std::move(trailer));
    return problem(b.bytes());
  };
  EXPECT_THAT(with(BTF_KIND_PTR, 0, 9, {}), HasSubstr("type 2 (a modifier) refers to type 9"));
  EXPECT_THAT(with(BTF_KIND_ARRAY, 0, 0, {9, 1, 4}), HasSubstr("ARRAY's elements"));
  EXPECT_THAT(with(BTF_KIND_ARRAY, 0, 0, {1, 9, 4}), HasSubstr("ARRAY's index"));
  EXPECT_THAT(with(BTF_KIND_FUNC_PROTO, 1, 9, {0, 1}), HasSubstr("FUNC_PROTO's return"));
  EXPECT_THAT(with(BTF_KIND_FUNC_PROTO, 1, 1, {0, 9}), HasSubstr("parameter"));
  EXPECT_THAT(with(BTF_KIND_FUNC, 0, 1, {}), HasSubstr("cannot stand there"));  // not a proto
  EXPECT_THAT(with(BTF_KIND_VAR, 0, 9, {0}), HasSubstr("(a VAR)"));
  EXPECT_THAT(with(BTF_KIND_DATASEC, 1, 4, {9, 0, 4}), HasSubstr("DATASEC entry"));
  EXPECT_THAT(with(BTF_KIND_DECL_TAG, 0, 9, {0}), HasSubstr("DECL_TAG"));
  EXPECT_THAT(with(BTF_KIND_UNION, 1, 4, {7, 9, 0}), HasSubstr("(a member)"));
}

TEST(BtfValidate, StringOffsetsStayInTheStringSection) {
  Blob b;
  b.type(BTF_KIND_INT, 9, 0, 4, {32});  // the string section is 9 bytes
  EXPECT_THAT(problem(b.bytes()), HasSubstr("its name at string offset 9, past the string section"));
  Blob m;
  m.type(BTF_KIND_INT, 1, 0, 4, {32});
  m.type(BTF_KIND_STRUCT, 5, 1, 4, {1000, 1, 0});
  EXPECT_THAT(problem(m.bytes()), HasSubstr("a member's name at string offset 1000"));
  Blob e;
  e.type(BTF_KIND_ENUM, 5, 1, 4, {77, 0});
  EXPECT_THAT(problem(e.bytes()), HasSubstr("an enumerator's name"));
  Blob unframed;
  unframed.strings = "xint";
  EXPECT_THAT(problem(unframed.bytes()), HasSubstr("start and end with NUL"));
}

TEST(BtfValidate, SizesVlenAndKinds) {
  auto one = [](std::uint32_t kind, std::uint32_t vlen, std::uint32_t st,
                std::vector<std::uint32_t> trailer = {}) {
    Blob b;
    b.type(kind, 1, vlen, st, std::move(trailer));
    return problem(b.bytes());
  };
  EXPECT_THAT(one(BTF_KIND_INT, 0, 3, {24}), HasSubstr("an INT of size 3"));
  EXPECT_THAT(one(BTF_KIND_INT, 0, 4, {33}), HasSubstr("INT bits past its size"));
  EXPECT_THAT(one(BTF_KIND_INT, 1, 4, {32}), HasSubstr("vlen 1 for a kind without members"));
  EXPECT_THAT(one(BTF_KIND_ENUM, 0, 5), HasSubstr("an ENUM of size 5"));
  EXPECT_THAT(one(BTF_KIND_FLOAT, 0, 3), HasSubstr("a FLOAT of size 3"));
  EXPECT_THAT(one(BTF_KIND_FUNC, 3, 0), HasSubstr("FUNC linkage 3"));
  EXPECT_THAT(one(25, 0, 0), HasSubstr("unknown BTF kind 25"));
  // A vlen the section cannot hold.
  EXPECT_THAT(one(BTF_KIND_STRUCT, 0xffff, 4, {1, 0, 0}),
              HasSubstr("type 1 runs past the end of the type section"));
}

TEST(BtfValidate, LoopsOfModifiers) {
  Blob b;
  b.type(BTF_KIND_CONST, 0, 0, 2);
  b.type(BTF_KIND_TYPEDEF, 5, 0, 1);
  EXPECT_THAT(problem(b.bytes()), HasSubstr("(a loop?)"));
  Blob p;
  p.type(BTF_KIND_PTR, 0, 0, 1);  // a pointer to itself
  EXPECT_THAT(problem(p.bytes()), HasSubstr("(a loop?)"));
}

TEST(BtfValidate, Header) {
  std::string good = every_kind().bytes();
  auto patched = [&](std::size_t at, std::uint32_t v, std::size_t n = 4) {
    std::string s = good;
    std::memcpy(s.data() + at, &v, n);
    return problem(s);
  };
  EXPECT_THAT(problem(good.substr(0, 10)), HasSubstr("shorter than a BTF header"));
  EXPECT_THAT(patched(0, 0x9feb, 2), HasSubstr("other byte order"));
  EXPECT_THAT(patched(0, 0x1234, 2), HasSubstr("bad magic"));
  EXPECT_THAT(patched(2, 2, 1), HasSubstr("version 2"));
  EXPECT_THAT(patched(3, 1, 1), HasSubstr("flags 1"));
  EXPECT_THAT(patched(4, 1000), HasSubstr("header length"));
  EXPECT_THAT(patched(8, 2), HasSubstr("not 4-byte aligned"));
  EXPECT_THAT(patched(20, 1000), HasSubstr("out of place"));  // str_len
  EXPECT_THAT(patched(12, 0xfffffff0), HasSubstr("out of place"));  // type_len
  EXPECT_THAT(problem(good.substr(0, good.size() - 1)), HasSubstr("out of place"));
}

TEST(BtfValidate, EveryByteFlipIsCaughtOrHarmless) {
  // The validator never reads past the data, whatever one byte becomes.
  std::string good = every_kind().bytes();
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int v : {0x00, 0x7f, 0xcc, 0xff}) {
      std::string s = good;
      s[i] = static_cast<char>(v);
      problem(s);
    }
  }
}

class BtfFile : public TempDirTest {
 protected:
  std::string error_for(const std::string& path) {
    try {
      check_btf(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(BtfFile, RawGoodAndBad) {
  EXPECT_EQ(error_for(file("good.btf", every_kind().bytes())), "");
  EXPECT_THAT(error_for(file("bad.btf", struct_member_type(0x7ffffff0))),
              HasSubstr("is not valid BTF: type 18 (a member) refers to type 2147483632"));
}

TEST_F(BtfFile, NotBtfSaysWhy) {
  // An ELF file without BTF: never "No such file or directory".
  EXPECT_THAT(error_for("/bin/true"), HasSubstr("/bin/true is not valid BTF: an ELF file without "
                                                "a .BTF section"));
  EXPECT_THAT(error_for(file("text", "hello")), HasSubstr("bad magic"));
  EXPECT_THAT(error_for(file("empty", "")), HasSubstr("bad magic"));
  EXPECT_THAT(error_for(dir_ + "/missing"), HasSubstr("No such file or directory"));
}

TEST_F(BtfFile, NonRegularFilesAreRefusedWithoutBlocking) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(error_for(fifo), HasSubstr("is not a regular file (a FIFO)"));
  EXPECT_THAT(error_for(dir_), HasSubstr("is not a regular file (a directory)"));
  EXPECT_THAT(error_for("/dev/null"), HasSubstr("is not a regular file (a character device)"));
}

TEST_F(BtfFile, TheRunningKernelsBtfIsValid) {
  if (access(kKernelBtfPath, R_OK) != 0) GTEST_SKIP() << "no readable " << kKernelBtfPath;
  EXPECT_EQ(error_for(kKernelBtfPath), "");
}

TEST(BtfValidateElf, ObjectWithoutBtfIsFineAndGarbageIsNot) {
  std::ifstream in("/bin/true", std::ios::binary);
  std::string elf{std::istreambuf_iterator<char>(in), {}};
  ASSERT_FALSE(elf.empty());
  EXPECT_NO_THROW(validate_elf_btf(elf));  // no .BTF section: nothing to check
  EXPECT_THROW(validate_elf_btf(std::string_view("\177ELF")), BtfInvalid);
}

}  // namespace
}  // namespace snoopkit
