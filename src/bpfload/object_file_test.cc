#include "bpfload/object_file.h"

#include <elf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/temp_dir_test_util.h"

namespace snoopkit {
namespace {

using ::testing::HasSubstr;

class ObjectFileCheck : public TempDirTest {
 protected:
  // An ELF header: 64-bit, byte order data, machine m.
  std::string elf(unsigned char data, unsigned m) {
    std::string h(sizeof(Elf64_Ehdr), '\0');
    h[0] = ELFMAG0, h[1] = ELFMAG1, h[2] = ELFMAG2, h[3] = ELFMAG3;
    h[EI_CLASS] = ELFCLASS64;
    h[EI_DATA] = static_cast<char>(data);
    h[EI_VERSION] = EV_CURRENT;
    const std::size_t at = offsetof(Elf64_Ehdr, e_machine);
    h[data == ELFDATA2MSB ? at + 1 : at] = static_cast<char>(m & 0xff);
    h[data == ELFDATA2MSB ? at : at + 1] = static_cast<char>(m >> 8);
    return h;
  }
  std::string message(const std::string& path) {
    try {
      check_object_file(path);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(ObjectFileCheck, AcceptsBpfObjectsOfEitherByteOrder) {
  EXPECT_EQ(message(file("le.bpf.o", elf(ELFDATA2LSB, EM_BPF))), "");
  EXPECT_EQ(message(file("be.bpf.o", elf(ELFDATA2MSB, EM_BPF))), "");
}

TEST_F(ObjectFileCheck, RejectsWhatIsNotABpfObject) {
  EXPECT_THAT(message(dir_ + "/missing.o"), HasSubstr("No such file or directory"));
  EXPECT_THAT(message(dir_), HasSubstr("is not a regular file"));
  EXPECT_THAT(message(""), HasSubstr("empty"));
  EXPECT_THAT(message(file("text.o", "hello, world\n")), HasSubstr("is not an ELF file"));
  EXPECT_THAT(message(file("empty.o", "")), HasSubstr("is not an ELF file"));
  EXPECT_THAT(message(file("short.o", elf(ELFDATA2LSB, EM_BPF).substr(0, 16))),
              HasSubstr("is not an ELF file"));
  EXPECT_THAT(message(file("x86.o", elf(ELFDATA2LSB, EM_X86_64))),
              HasSubstr("another machine (e_machine 62)"));
  EXPECT_THAT(message(file("be-x86.o", elf(ELFDATA2MSB, EM_X86_64))),
              HasSubstr("another machine (e_machine 62)"));
}

TEST_F(ObjectFileCheck, EscapesThePath) {
  std::string name = "evil\x1b[31m\n.o";
  EXPECT_THAT(message(dir_ + "/" + name), HasSubstr("evil\\x1b[31m\\x0a.o"));
}

}  // namespace
}  // namespace snoopkit
