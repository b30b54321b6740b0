#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""List the conformance scripts for meson: one line per script,
"NAME IPV...", where IPV is "ipv4 ipv6", or "pinned" when an option line at
the top of the script sets --ip_version (the script then runs once, as is).

    list_scripts.py DIR
"""
import os
import re
import sys

OPTION = re.compile(r"^\s*--([A-Za-z0-9_]+)")


def pinned(path):
    """True if an option line before the first event sets the IP version."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    # Drop comments as the lexer does, then look at the leading option lines.
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    for line in text.splitlines():
        if not line.strip():
            continue
        m = OPTION.match(line)
        if not m:
            return False
        if m.group(1) in ("ip_version", "ip"):
            return True
    return False


def main():
    d = sys.argv[1]
    if not os.path.isdir(d):
        return 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".pkt"):
            continue
        print(name, "pinned" if pinned(os.path.join(d, name)) else "ipv4 ipv6")
    return 0


if __name__ == "__main__":
    sys.exit(main())
