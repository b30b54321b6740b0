#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run td-drill on a self-test script and check its exit status and stderr.

    check.py TD_DRILL SCRIPT

Directives in SCRIPT's comments:
    // expect-exit: N            exit status (default 0)
    // expect-stderr: TEXT       TEXT must occur in stderr (repeatable)
    // args: ARG...              extra td-drill arguments, before the script
    // also-run: FILE...         more scripts (next to SCRIPT) on the same command line
"""
import os
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    drill, script = sys.argv[1], sys.argv[2]
    want_exit, want_err, args, extra = 0, [], [], []
    with open(script, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*//\s*(expect-exit|expect-stderr|args|also-run):\s?(.*?)\s*$",
                         line)
            if not m:
                continue
            key, val = m.groups()
            if key == "expect-exit":
                want_exit = int(val)
            elif key == "expect-stderr":
                want_err.append(val)
            elif key == "args":
                args += val.split()
            else:
                extra += [os.path.join(os.path.dirname(script), v) for v in val.split()]
    cmd = [drill] + args + [script] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    ok = True
    if p.returncode != want_exit:
        print(f"exit status {p.returncode}, expected {want_exit}")
        ok = False
    for w in want_err:
        if w not in p.stderr:
            print(f"stderr lacks: {w!r}")
            ok = False
    if not ok or os.environ.get("DRILL_SELFTEST_VERBOSE"):
        print("command:", " ".join(cmd))
        print("--- stdout ---\n" + p.stdout + "--- stderr ---\n" + p.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
