#pragma once
// Checks BTF before libbpf parses it. libbpf trusts the type ids and string
// offsets it reads (a type id past the last type becomes a null pointer it
// dereferences), so a malformed object or --btf file would crash a tool
// instead of ending in one error line. The check streams the data through
// one fixed buffer and keeps one byte and one type id per type.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace snoopkit {

/// Bytes at offsets of some data: a file or a buffer.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Copies up to n bytes at off to out; fewer only at the end of the data.
  /// Throws Error on a read error.
  virtual std::size_t read_at(std::uint64_t off, void* out, std::size_t n) const = 0;
};

/// What is wrong with BTF data: one phrase, without the file's name.
class BtfInvalid : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Checks the BTF data at [begin, begin + size) of src: the header and its
/// sections, a NUL-framed string section, and each type record: a known
/// kind with a sane size and vlen, every name offset inside the string
/// section, every type id it refers to inside the type section and of a
/// kind that can stand there, and no loop of modifiers or typedefs.
/// Throws BtfInvalid.
void validate_btf(const ByteSource& src, std::uint64_t begin, std::uint64_t size);

/// validate_btf over bytes in memory.
void validate_btf(std::string_view bytes);

/// Checks the .BTF section of the ELF image in bytes, if it has one (an
/// object without BTF is fine). Throws BtfInvalid, also for an ELF image
/// libelf cannot read.
void validate_elf_btf(std::string_view bytes);

/// Opens path read-only without blocking (a FIFO or a terminal never stalls
/// start-up) and refuses anything but a regular file. Returns the fd
/// (close-on-exec); throws Error "<what> <path>: ..." with hint otherwise.
int open_regular_file(const std::string& path, const std::string& what,
                      const std::string& hint = {});

/// Checks the BTF file at path, raw BTF or an ELF file with a .BTF section,
/// as validate_btf does. Throws Error naming the file and what is wrong.
void validate_btf_file(const std::string& path);

/// Checks that the kernel's BTF (or --btf PATH) is there; a --btf file must
/// also pass validate_btf_file. Throws Error with the fix otherwise.
void check_btf(const std::string& custom_path);

}  // namespace snoopkit
