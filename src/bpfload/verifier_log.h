#pragma once
// Reading the kernel verifier's log after a program was rejected: its last
// lines, the instruction it stopped at, and its complaint.

#include <cstddef>
#include <string_view>
#include <vector>

namespace snoopkit {

/// The lines of log (split at '\n', a trailing empty line dropped).
std::vector<std::string_view> log_lines(std::string_view log);

/// The last n of lines (all of them if there are fewer).
std::vector<std::string_view> last_lines(const std::vector<std::string_view>& lines, std::size_t n);

/// The verifier's verdict, read from the end of its log.
struct VerifierVerdict {
  // The instruction, register state cut off: "8: (79) r0 = *(u64 *)(r0 +64)"; "" if none.
  std::string_view insn;
  std::string_view index;      // "8"
  std::string_view code;       // "r0 = *(u64 *)(r0 +64)"
  std::string_view complaint;  // "invalid access to map value, value_size=8 off=64 size=8"; or ""
};

/// Finds the last instruction the verifier looked at (a line "N: (op) ...")
/// and the first line after it that is neither an instruction, a source
/// line ("; ..."), register state, nor the "processed N insns" statistics.
VerifierVerdict verifier_verdict(const std::vector<std::string_view>& lines);

}  // namespace snoopkit
