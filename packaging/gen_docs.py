#!/usr/bin/env python3
"""Generates one tool's man page (section 8) and bash completion.

The options come from the built tool itself (`<tool> --help`, CLI11's
format), so neither file can drift from the option definitions in
tools/<tool>.cpp and src/options.cc. The prose (DESCRIPTION, JSON OUTPUT,
EXAMPLES, OVERHEAD, REQUIREMENTS, SEE ALSO) comes from docs/man/<tool>.md, a
small Markdown subset described in docs/man/README.md.

  gen_docs.py --binary build/execsnoop --tool execsnoop --version 0.1.0 \
      --prose docs/man/execsnoop.md --common docs/man/common.md \
      --all-tools execsnoop,opensnoop [--prefix sk-] [--strict] \
      --man-out execsnoop.8.gz --completion-out execsnoop

Without --strict a missing prose file gives a generic page and a warning,
and an example that uses an option the tool lacks is a warning; with
--strict (package builds) both are errors.
"""

import argparse
import datetime
import gzip
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROSE_SECTIONS = ["DESCRIPTION", "JSON OUTPUT", "EXAMPLES", "OVERHEAD", "REQUIREMENTS", "SEE ALSO"]
# Sections a page may add, and where they go (after the one named).
OPTIONAL_SECTIONS = {"EXIT STATUS": "OPTIONS", "FILES": "REQUIREMENTS", "NOTES": "REQUIREMENTS"}


class DocError(Exception):
    pass


# --- CLI11 --help -----------------------------------------------------------

@dataclass
class Option:
    names: list            # ["-d", "--duration"]
    value: str = ""        # type name ("SECONDS"); empty for a flag
    check: str = ""        # CLI11's validator text ("POSITIVE", "UINT in [1 - 60]")
    help: str = ""
    excludes: list = field(default_factory=list)  # options it cannot be given with
    positional: bool = False

    @property
    def shorts(self):
        return [n for n in self.names if re.fullmatch(r"-[^-]", n)]

    @property
    def longs(self):
        return [n for n in self.names if n.startswith("--")]


@dataclass
class Help:
    description: str = ""
    options: list = field(default_factory=list)
    positionals: list = field(default_factory=list)
    footer: list = field(default_factory=list)  # paragraphs after the options


OPTION_LINE = re.compile(r"^  (-\S.*?)(?: {2,}(\S.*))?$")
POSITIONAL_LINE = re.compile(r"^  ([A-Za-z_]\S*.*?)(?: {2,}(\S.*))?$")


def parse_help(text):
    """Parses CLI11 2.x --help output; raises DocError on what it cannot read."""
    h = Help()
    lines = text.splitlines()
    usage = next((i for i, l in enumerate(lines) if l.startswith("Usage:")), None)
    if usage is None:
        raise DocError("--help has no 'Usage:' line")
    h.description = " ".join(l.strip() for l in lines[:usage] if l.strip())
    section, current = None, None
    for line in lines[usage + 1:]:
        if not line.strip():
            current = None
            continue
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", line):
            section = line[:-1]
            if section == "Subcommands":
                raise DocError("tools with subcommands are not supported by gen_docs.py")
            current = None
            continue
        if not line.startswith(" "):  # the footer (CLI::App::footer), one paragraph a line
            section, current = "Footer", None
            h.footer.append(line.strip())
            continue
        if current is not None and line.startswith("   "):
            current.help = (current.help + " " + line.strip()).strip()
            continue
        if section == "Options":
            m = OPTION_LINE.match(line)
            if not m:
                raise DocError(f"cannot read this --help line: {line!r}")
            current = parse_option(m.group(1))
            current.help = (m.group(2) or "").strip()
            h.options.append(current)
        elif section == "Positionals":
            m = POSITIONAL_LINE.match(line)
            if not m:
                raise DocError(f"cannot read this --help line: {line!r}")
            spec = m.group(1).split()
            value = (spec[1].split(":")[0] if len(spec) > 1 else spec[0]).upper()
            current = Option([spec[0]], value=value, help=(m.group(2) or "").strip(),
                             positional=True)
            h.positionals.append(current)
        elif section == "Footer":
            h.footer[-1] += " " + line.strip()
    if not h.options:
        raise DocError("--help lists no options")
    return h


def parse_option(spec):
    """'-d,--duration SECONDS:POSITIVE' -> Option(names, value, check)."""
    names_part, _, rest = spec.partition(" ")
    opt = Option(names_part.split(","))
    excl = re.search(r"(?:^| )Excludes: (.*?)(?= Needs:|$)", rest)
    opt.excludes = excl.group(1).split() if excl else []
    rest = re.sub(r"(?:^| )(REQUIRED|(Excludes|Needs): .*)$", "", rest.strip())
    if rest:
        value, sep, check = rest.partition(":")
        if not sep:  # 'NAME [default]'
            value = re.sub(r" \[.*\]$", "", value)
        opt.value = value.split()[0]
        opt.check = check.strip()
    return opt


# --- Markdown subset -> troff ----------------------------------------------

def esc(text):
    """Escapes running text for troff (backslash, hyphen as minus)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def line_safe(text):
    """A leading '.' or "'" would be read as a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")


def inline(text, rename):
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        code, bold, ital, link_text, _url = m.groups()
        if code is not None:
            out.append("\\fB" + esc(rename(code)) + "\\fR")
        elif bold is not None:
            out.append("\\fB" + esc(bold) + "\\fR")
        elif ital is not None:
            out.append("\\fI" + esc(ital) + "\\fR")
        else:
            out.append(esc(link_text))
        pos = m.end()
    out.append(esc(text[pos:]))
    return line_safe("".join(out))


def markdown_to_troff(md, rename):
    """Renders paragraphs, ``` blocks, '- ' lists, 'term' + ': text' lists."""
    out, para = [], []
    lines = md.splitlines()

    def flush():
        if para:
            out.append(".PP")
            out.append(inline(" ".join(s.strip() for s in para), rename))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            if i == len(lines):
                raise DocError("unterminated ``` block")
            out += [".PP", ".RS 4", ".EX"]
            out += [line_safe(esc(rename(b))) for b in block]
            out += [".EE", ".RE"]
        elif line.startswith("### "):
            flush()
            out.append(".SS " + esc(line[4:].strip()))
        elif line.startswith("|"):
            raise DocError("tables are not supported; use a '- ' list or 'term' + ': text' lines")
        elif line.startswith("- "):
            flush()
            item = [line[2:].strip()]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                item.append(lines[i].strip())
            out += [".IP \\(bu 2", inline(" ".join(item), rename)]
        elif line.strip() and i + 1 < len(lines) and lines[i + 1].startswith(": "):
            flush()
            out += [".TP", inline(line.strip(), rename)]
            text = []
            while i + 1 < len(lines) and (lines[i + 1].startswith(": ") or
                                          (text and lines[i + 1].startswith("  ") and lines[i + 1].strip())):
                i += 1
                text.append(lines[i][2:].strip())
            out.append(inline(" ".join(text), rename))
        elif not line.strip():
            flush()
        else:
            para.append(line)
        i += 1
    flush()
    return out


def split_sections(md, where):
    """'## NAME' headings -> {NAME: body}; HTML comments are dropped."""
    md = re.sub(r"<!--.*?-->", "", md, flags=re.S)
    sections, name = {}, None
    for line in md.splitlines():
        m = re.match(r"^## (.+?)\s*$", line)
        if m:
            name = m.group(1).upper()
            if name in sections:
                raise DocError(f"{where}: section '{name}' appears twice")
            sections[name] = []
        elif line.startswith("# "):
            continue
        elif name is None:
            if line.strip():
                raise DocError(f"{where}: text before the first '## SECTION' heading: {line!r}")
        else:
            sections[name].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in sections.items()}


# --- checks of the prose against --help -------------------------------------

def example_option_problems(md, tool, help_):
    """Options used in command lines of the tool that --help does not list."""
    longs = {n for o in help_.options for n in o.longs}
    shorts = {n[1] for o in help_.options for n in o.shorts}
    value_shorts = {n[1] for o in help_.options if o.value for n in o.shorts}
    problems = []
    commands = re.findall(r"```.*?\n(.*?)```", md, flags=re.S) + re.findall(r"`([^`\n]+)`", md)
    for block in commands:
        for cmdline in block.splitlines():
            for segment in re.split(r"[|;&]+", cmdline):
                words = segment.replace("#", " ").split()
                while words and words[0] in ("sudo", "$", "env", "timeout") or (
                        words and re.fullmatch(r"\d+|[A-Z_]+=\S*", words[0])):
                    words = words[1:]
                if not words or words[0] != tool:
                    continue
                skip_value = False
                for w in words[1:]:
                    if skip_value:
                        skip_value = False
                        continue
                    if w.startswith("--") and len(w) > 2:
                        if w.split("=")[0] not in longs:
                            problems.append(w.split("=")[0])
                    elif re.fullmatch(r"-[A-Za-z]+", w):
                        for j, c in enumerate(w[1:]):
                            if c not in shorts:
                                problems.append("-" + c)
                                break
                            if c in value_shorts:
                                skip_value = j == len(w) - 2
                                break
    return sorted(set(problems))


# --- the man page -------------------------------------------------------------

def check_phrase(check):
    m = re.fullmatch(r"(UINT|INT|FLOAT|NUMBER) in \[(\S+) - (\S+)\]", check)
    if m:
        return f"from {m.group(2)} to {m.group(3)}"
    known = {"POSITIVE": "a positive number", "NONNEGATIVE": "zero or a positive number",
             "FILE": "an existing file", "DIR": "an existing directory",
             "PATH(existing)": "an existing path"}
    if check in known:
        return known[check]
    # A bare upper-case word is a custom validator's name, no description.
    return "" if re.fullmatch(r"[A-Z0-9_]+", check) else check


def render_option(o):
    if o.positional:
        names = "\\fI" + esc(o.value) + "\\fR"
    else:
        names = ", ".join("\\fB" + esc(n) + "\\fR" for n in o.names)
    if o.value and not o.positional:
        names += " \\fI" + esc(o.value) + "\\fR"
    text = o.help.rstrip()
    if o.check and check_phrase(o.check):
        if text and not text.endswith("."):
            text += "."
        text += f" {o.value}: {check_phrase(o.check)}."
    if o.excludes:
        if text and not text.endswith("."):
            text += "."
        text += f" Not with {' or '.join(o.excludes)}."
    return [".TP", names, line_safe(esc(text.strip()))]


def synopsis(name, help_):
    out = [".SH SYNOPSIS", ".B " + esc(name)]
    for o in help_.options:
        n = (o.shorts or o.longs or o.names)[0]
        if o.value:
            out.append(f".RB [ {esc(n)} \"\\~\\fI{esc(o.value)}\\fR\" ]")
        else:
            out.append(f".RB [ {esc(n)} ]")
    for p in help_.positionals:
        out.append(f".RI [ {esc(p.value)} ]")
    return out


def generic_prose(tool, help_, all_tools):
    others = ", ".join(f"**{t}**(8)" for t in all_tools if t != tool)
    return {
        "DESCRIPTION": f"{help_.description}\n\nThis page has no prose of its own yet; "
                       f"the options below are those of `{tool} --help`.",
        "JSON OUTPUT": "With `--json`, one JSON object per line; the records are described in "
                       "/usr/share/doc/snoopkit/JSON.md and /usr/share/doc/snoopkit/schema/.",
        "EXAMPLES": f"`{tool}`\n: Trace until Ctrl-C.\n\n`{tool} --json -d 10`\n: Trace for 10 seconds, "
                    "as JSON lines.",
        "OVERHEAD": "Not documented yet.",
        "REQUIREMENTS": "Linux with BTF, run as root or with CAP_BPF and CAP_PERFMON.",
        "SEE ALSO": (others + ", " if others else "") + "**jq**(1)",
    }


def man_page(tool, name, version, help_, prose, common, all_tools, prefix, date):
    def rename(code):
        if not prefix:
            return code
        return re.sub(r"(?<![\w./-])(" + "|".join(map(re.escape, all_tools)) + r")(?![\w-]|\.\w)",
                      lambda m: prefix + m.group(1), code)

    def rename_refs(md):  # execsnoop(8) -> sk-execsnoop(8), in any text
        if not prefix:
            return md
        return re.sub(r"(?<![\w-])(" + "|".join(map(re.escape, all_tools)) + r")(\*\*)?\(8\)",
                      lambda m: prefix + m.group(1) + (m.group(2) or "") + "(8)", md)

    desc = help_.description.rstrip(".")
    if desc[:1].isupper() and not desc[1:2].isupper():
        desc = desc[0].lower() + desc[1:]
    out = [
        f'.\\" Generated by packaging/gen_docs.py from `{tool} --help` and docs/man/{tool}.md.',
        '.\\" Do not edit: edit those instead.',
        f'.TH "{esc(name.upper())}" 8 "{date}" "snoopkit {version}" "System Administration"',
        ".SH NAME",
        f"{esc(name)} \\- {esc(desc)}",
    ]
    out += synopsis(name, help_)
    sections = dict(prose)
    for k, v in common.items():
        sections.setdefault(k, v)

    def emit(title):
        out.append(f'.SH "{title}"' if " " in title else f".SH {title}")
        out.extend(markdown_to_troff(rename_refs(sections[title]), rename))
        for extra, after in OPTIONAL_SECTIONS.items():
            if after == title and extra in sections:
                emit(extra)

    emit("DESCRIPTION")
    out.append(".SH OPTIONS")
    for o in help_.options + help_.positionals:
        out += render_option(o)
    for paragraph in help_.footer:
        out += [".PP", line_safe(esc(paragraph))]
    for extra, after in OPTIONAL_SECTIONS.items():
        if after == "OPTIONS" and extra in sections:
            emit(extra)
    for title in PROSE_SECTIONS[1:]:
        emit(title)
    return "\n".join(out) + "\n"


def fallback_page(name, version, date, reason):
    """The page of a developer build whose tool or prose could not be read."""
    return "\n".join([
        f'.TH "{esc(name.upper())}" 8 "{date}" "snoopkit {version}" "System Administration"',
        ".SH NAME", f"{esc(name)} \\- a snoopkit tool", ".SH SYNOPSIS", f".B {esc(name)}",
        "[\\fIOPTIONS\\fR]", ".SH DESCRIPTION",
        line_safe(esc(f"This page could not be generated ({reason}); run {name} --help.")),
    ]) + "\n"


# --- bash completion -------------------------------------------------------------

def value_completion(o):
    """The compgen action for an option's value, from its type name."""
    t, names = o.value.upper(), " ".join(o.names)
    if t in ("PID", "PPID", "TID"):
        return '_snoopkit_words "$(cd /proc 2>/dev/null && compgen -G "[0-9]*")"'
    if t == "UID":
        return 'COMPREPLY=($(compgen -u -- "$cur"))'
    if t == "NAME":
        return '_snoopkit_words "$(cat /proc/[0-9]*/comm 2>/dev/null | sort -u)"'
    if t in ("PATH", "FILE", "DIR"):
        if "cgroup" in names or t == "DIR":
            return '_snoopkit_files -d'
        return '_snoopkit_files'
    return ""  # a free-form value: offer nothing


def completion(name, help_):
    fn = "_snoopkit_" + re.sub(r"\W", "_", name)
    words = " ".join(n for o in help_.options for n in o.names)
    cases = {}
    for o in help_.options:
        if o.value:
            cases.setdefault(value_completion(o), []).extend(o.names)
    case_lines = []
    for action, names in cases.items():
        body = (action + "; " if action else "") + "return"
        case_lines.append(f"        {'|'.join(names)})\n            {body}\n            ;;")
    return f"""# bash completion for {name}(8)
# Generated by snoopkit's packaging/gen_docs.py from `{name} --help`: do not edit.

_snoopkit_words()
{{
    local IFS=$'\\n'
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
}}

_snoopkit_files()
{{
    if declare -F _filedir >/dev/null; then
        _filedir "$@"
    else
        compopt -o filenames 2>/dev/null
        if [[ $1 == -d ]]; then
            COMPREPLY=($(compgen -d -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
    fi
}}

{fn}()
{{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        COMPREPLY=()
        cur=${{COMP_WORDS[COMP_CWORD]}}
        prev=${{COMP_WORDS[COMP_CWORD-1]}}
    fi

    case $prev in
{chr(10).join(case_lines)}
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '{words}' -- "$cur"))
    fi
}} &&
    complete -F {fn} {name}
"""


# --- main --------------------------------------------------------------------------

def write_file(path, data):
    """Writes through a temporary file, so a failed run leaves no half file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def gzip_bytes(text):
    # No name and mtime 0 in the header: the same page gives the same bytes.
    import io
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(text.encode())
    return buf.getvalue()


def build_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.strftime("%Y-%m-%d")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True, help="the built tool, run with --help")
    ap.add_argument("--tool", required=True, help="the tool's own name (tools/<tool>.cpp)")
    ap.add_argument("--prefix", default="", help="name prefix of the installed command")
    ap.add_argument("--version", required=True)
    ap.add_argument("--prose", required=True, help="docs/man/<tool>.md (may be missing without --strict)")
    ap.add_argument("--common", help="prose shared by every page (docs/man/common.md)")
    ap.add_argument("--all-tools", default="", help="comma-separated: every tool, for renaming")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--man-out", required=True, help="<name>.8 or <name>.8.gz")
    ap.add_argument("--completion-out", required=True)
    a = ap.parse_args(argv)
    tool, name = a.tool, a.prefix + a.tool
    all_tools = [t for t in a.all_tools.split(",") if t] or [tool]

    def warn_or_fail(msg):
        if a.strict:
            raise DocError(msg)
        print(f"gen_docs.py: warning: {msg}", file=sys.stderr)

    try:
        # A sanitizer build's leak report at exit is no concern of --help.
        env = {**os.environ, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0")}
        run = subprocess.run([a.binary, "--help"], capture_output=True, text=True, timeout=30,
                             env=env)
        if run.returncode != 0:
            raise DocError(f"`{a.binary} --help` exited {run.returncode}: {run.stderr.strip()}")
        help_ = parse_help(run.stdout)

        prose_path = Path(a.prose)
        if prose_path.exists():
            prose = split_sections(prose_path.read_text(), str(prose_path))
            missing = [s for s in PROSE_SECTIONS if s not in prose]
            unknown = [s for s in prose if s not in PROSE_SECTIONS and s not in OPTIONAL_SECTIONS]
            if missing or unknown:
                raise DocError(f"{prose_path}: sections missing: {missing or 'none'}; "
                               f"unknown: {unknown or 'none'} (expected ## {', ## '.join(PROSE_SECTIONS)})")
            bad = example_option_problems(prose_path.read_text(), tool, help_)
            if bad:
                warn_or_fail(f"{prose_path} uses {', '.join(bad)}, which `{tool} --help` does not list")
        else:
            warn_or_fail(f"{prose_path} is missing: write the man page prose of {tool} "
                         f"(copy docs/man/execsnoop.md; see docs/man/README.md)")
            prose = generic_prose(tool, help_, all_tools)
        common = split_sections(Path(a.common).read_text(), a.common) if a.common else {}

        page = man_page(tool, name, a.version, help_, prose, common, all_tools, a.prefix, build_date())
        write_file(a.man_out, gzip_bytes(page) if a.man_out.endswith(".gz") else page.encode())
        write_file(a.completion_out, completion(name, help_).encode())
    except DocError as e:
        if a.strict:
            print(f"gen_docs.py: error: {tool}: {e}", file=sys.stderr)
            return 1
        # A developer build goes on, with a page that says what went wrong.
        e = " ".join(str(e).split())
        print(f"gen_docs.py: warning: {tool}: {e}; writing a placeholder page", file=sys.stderr)
        page = fallback_page(name, a.version, build_date(), e)
        write_file(a.man_out, gzip_bytes(page) if a.man_out.endswith(".gz") else page.encode())
        write_file(a.completion_out, f"# {name}: no completion ({e})\n".encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
