#include "bpfload/verifier_log.h"

namespace snoopkit {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "12: (79) r0 = ...": digits, ": (", two hex digits, ") ".
bool is_insn(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && is_digit(l[i])) ++i;
  if (i == 0 || l.substr(i, 3) != ": (" || l.size() < i + 7) return false;
  return l[i + 5] == ')' && l[i + 6] == ' ';
}

// "12: R1=ctx() R10=fp0", "from 4 to 6: ...": state and path lines, no verdict.
bool is_state(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && is_digit(l[i])) ++i;
  if (i > 0 && l.substr(i, 2) == ": ") return true;
  return l.substr(0, 5) == "from " || l.substr(0, 5) == "func#" || l.substr(0, 5) == "last_" ||
         l.substr(0, 5) == "regs=" || l.substr(0, 7) == "parent ";
}

// Cuts the register state the verifier appends after an instruction.
std::string_view strip_state(std::string_view insn) {
  std::size_t semi = insn.find(" ; ");
  if (semi != std::string_view::npos) insn = insn.substr(0, semi);
  while (!insn.empty() && insn.back() == ' ') insn.remove_suffix(1);
  return insn;
}

}  // namespace

std::vector<std::string_view> log_lines(std::string_view log) {
  std::vector<std::string_view> lines;
  while (!log.empty()) {
    std::size_t nl = log.find('\n');
    lines.push_back(log.substr(0, nl));
    if (nl == std::string_view::npos) break;
    log.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> last_lines(const std::vector<std::string_view>& lines,
                                         std::size_t n) {
  std::size_t from = lines.size() > n ? lines.size() - n : 0;
  return {lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end()};
}

VerifierVerdict verifier_verdict(const std::vector<std::string_view>& lines) {
  VerifierVerdict v;
  std::size_t at = lines.size();
  for (std::size_t i = lines.size(); i-- > 0;) {
    if (is_insn(lines[i])) {
      at = i;
      break;
    }
  }
  if (at == lines.size()) {
    // No instruction (e.g. a BTF or a load-time check failed): the first
    // line that is not statistics is the complaint.
    for (std::string_view l : lines)
      if (!l.empty() && l.substr(0, 10) != "processed ") {
        v.complaint = l;
        break;
      }
    return v;
  }
  v.insn = strip_state(lines[at]);
  v.index = v.insn.substr(0, v.insn.find(':'));
  v.code = v.insn.substr(v.insn.find(") ") + 2);
  for (std::size_t i = at + 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.empty() || l[0] == ';' || is_state(l) || l.substr(0, 10) == "processed ") continue;
    v.complaint = l;
    break;
  }
  return v;
}

}  // namespace snoopkit
