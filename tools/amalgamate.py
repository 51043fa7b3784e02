#!/usr/bin/env python3
"""Builds single_include/thingwell/thingwell.hpp from include/thingwell/thingwell.hpp.

Every thingwell header reached through an include is pasted in place of its first include, so the result
needs nothing but the standard library and the optional dependencies (<asio.hpp>, <wolfssl/...>, ...),
whose includes are kept as they are.

Which includes are thingwell's own:
  #include "x.hpp"            resolved relative to the including file (that is how the headers are written)
  #include <thingwell/x.hpp>  resolved relative to include/, in case a header spells it that way

A header that is first pasted inside an #if block could be missing when that condition is false, so such a
copy gets an include guard and a later include of the same header pastes it again (the guard keeps the
second copy inactive when the first one was compiled). Headers use #pragma once, so an include of a header
that is still being pasted (a cycle) is dropped, as the compiler would.

Usage:
  tools/amalgamate.py            write the single header
  tools/amalgamate.py --check    exit 1 when the committed single header differs from a fresh one
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = ROOT / "include"
UMBRELLA = INCLUDE_DIR / "thingwell" / "thingwell.hpp"
OUTPUT = ROOT / "single_include" / "thingwell" / "thingwell.hpp"
CONFIG = INCLUDE_DIR / "thingwell" / "core" / "config.hpp"

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*(?:"(?P<quoted>[^"]+)"|<(?P<angled>[^>]+)>)')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
IF_RE = re.compile(r"^\s*#\s*if(?:n?def)?\b")
ENDIF_RE = re.compile(r"^\s*#\s*endif\b")


class AmalgamationError(Exception):
    pass


def read_version() -> str:
    match = re.search(r'^#define\s+THINGWELL_VERSION_STRING\s+"([^"]+)"', CONFIG.read_text(encoding="utf-8"), re.M)
    if not match:
        raise AmalgamationError(f"{CONFIG.relative_to(ROOT)} defines no THINGWELL_VERSION_STRING")
    return match.group(1)


def display(path: Path) -> str:
    return path.relative_to(INCLUDE_DIR).as_posix()


def guard_macro(path: Path) -> str:
    return "THINGWELL_SINGLE_INCLUDE_" + re.sub(r"[^A-Za-z0-9]", "_", display(path)).upper()


def classic_include_guard(lines: list[str]) -> int | None:
    """Line number of the '#ifndef X' of an '#ifndef X / #define X ... #endif' guard, if the file has one."""
    directives = [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.lstrip().startswith("#")]
    if len(directives) < 3:
        return None
    first, second = directives[0][1], directives[1][1]
    match = re.match(r"#\s*ifndef\s+(\w+)$", first)
    if match and re.match(rf"#\s*define\s+{match.group(1)}\b", second) and ENDIF_RE.match(directives[-1][1]):
        return directives[0][0]
    return None


class Amalgamator:
    def __init__(self) -> None:
        # Headers pasted where they are always compiled: later includes of them are dropped.
        self.unconditional: set[Path] = set()
        # Headers pasted at least once, possibly inside a conditional block.
        self.pasted: set[Path] = set()
        self.stack: list[Path] = []

    def resolve(self, including: Path, lineno: int, match: re.Match[str]) -> Path | None:
        quoted, angled = match.group("quoted"), match.group("angled")
        if quoted is not None:
            target = (including.parent / quoted).resolve()
            if not target.is_file():
                raise AmalgamationError(
                    f'{display(including)}:{lineno}: #include "{quoted}" does not name a file next to it')
        elif angled.startswith("thingwell/"):
            target = (INCLUDE_DIR / angled).resolve()
            if not target.is_file():
                raise AmalgamationError(f"{display(including)}:{lineno}: #include <{angled}> does not exist")
        else:
            return None
        if INCLUDE_DIR not in target.parents:
            raise AmalgamationError(f"{display(including)}:{lineno}: {quoted or angled} is outside include/")
        return target

    def paste(self, path: Path, depth: int, out: list[str]) -> None:
        """Appends path's text to out; depth counts the #if blocks around this point of the output."""
        self.stack.append(path)
        guarded = depth > 0 or path in self.pasted
        self.pasted.add(path)
        if depth == 0:
            self.unconditional.add(path)

        out.append(f"// ----- begin {display(path)} -----")
        if guarded:
            out.append(f"#ifndef {guard_macro(path)}")
            out.append(f"#define {guard_macro(path)}")
        local_depth = 0
        lines = path.read_text(encoding="utf-8").splitlines()
        guard_line = classic_include_guard(lines)
        for lineno, line in enumerate(lines, start=1):
            if PRAGMA_ONCE_RE.match(line):
                continue
            if lineno == guard_line:
                # The #ifndef of a classic include guard: its block is the whole file, not a condition.
                out.append(line.rstrip())
                continue
            match = INCLUDE_RE.match(line)
            target = self.resolve(path, lineno, match) if match else None
            if target is not None:
                # A header that is still being pasted is one the compiler has already entered: #pragma once
                # makes the inner include a no-op, so it is one here too.
                if target not in self.unconditional and target not in self.stack:
                    # Inside a guarded copy at depth 0 everything is compiled once: either this copy is
                    # active, or an earlier copy of the same text was.
                    self.paste(target, depth + local_depth, out)
                continue
            if IF_RE.match(line):
                local_depth += 1
            elif ENDIF_RE.match(line):
                local_depth = max(0, local_depth - 1)
            out.append(line.rstrip())
        if guarded:
            out.append(f"#endif  // {guard_macro(path)}")
        out.append(f"// ----- end {display(path)} -----")
        self.stack.pop()


def amalgamate() -> str:
    if not UMBRELLA.is_file():
        raise AmalgamationError(f"{UMBRELLA.relative_to(ROOT)} does not exist")
    version = read_version()
    out = [
        f"// thingwell {version} — single-header edition.",
        "//",
        "// Generated by tools/amalgamate.py from include/thingwell/thingwell.hpp: do not edit, edit the headers",
        "// under include/ and run the script again.",
        "#pragma once",
        "",
    ]
    Amalgamator().paste(UMBRELLA.resolve(), 0, out)
    # Runs of blank lines left where #pragma once and includes were removed carry no meaning.
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)) + "\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; fail when the committed single header is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default: %(default)s)")
    args = parser.parse_args()

    try:
        text = amalgamate()
    except AmalgamationError as error:
        print(f"amalgamate: {error}", file=sys.stderr)
        return 2

    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current == text:
            print(f"amalgamate: {output} is up to date")
            return 0
        diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                         "committed", "fresh", lineterm="", n=1))
        print("\n".join(diff[:40]))
        if len(diff) > 40:
            print(f"... {len(diff) - 40} more diff lines")
        print(f"amalgamate: {output} is stale or missing; run tools/amalgamate.py and commit the result",
              file=sys.stderr)
        return 1

    output.parent.mkdir(parents=True, exist_ok=True)
    # Bytes, so that the file has \n line endings on every platform and --check compares like with like.
    output.write_bytes(text.encode("utf-8"))
    print(f"amalgamate: wrote {output} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
