#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Command-line checks of td-drill: usage errors exit 2 (PACKETDRILL.md 1).

    check_usage.py TD_DRILL
"""
import os
import subprocess
import sys


def run(drill, *args):
    return subprocess.run([drill, *args], capture_output=True, text=True, timeout=60)


def main():
    drill = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    good = os.path.join(here, "pass_closed_port.pkt")
    fails = []
    cases = [
        ((), 2, "usage:"),
        (("--bogus", good), 2, "option --bogus is not supported"),
        (("--ip_version=ipv5", good), 2, "ipv4 or ipv6"),
        (("--ip",), 2, "needs a value"),
        (("--tolerance_usecs=abc", good), 2, "not a valid value"),
        ((os.path.join(here, "no-such-file.pkt"),), 2, "cannot open"),
        (("--ip", "6", good), 0, ""),
        (("--ip=4", "--tolerance_usecs=1000", "--tolerance_percent=0", good), 0, ""),
        (("--tcp_ts_tick_usecs", "1000", good), 0, ""),
    ]
    for args, code, text in cases:
        p = run(drill, *args)
        if p.returncode != code or text not in p.stderr:
            fails.append(f"td-drill {' '.join(args)}: exit {p.returncode} (want {code}), "
                         f"stderr {p.stderr!r} (want {text!r})")
    p = run(drill, "--verbose", good)
    if p.returncode != 0 or "inject" not in p.stdout or "sent" not in p.stdout:
        fails.append(f"--verbose: exit {p.returncode}, stdout {p.stdout!r}")
    p = run(drill, "--help")
    if p.returncode != 0 or "usage:" not in p.stdout:
        fails.append(f"--help: exit {p.returncode}")
    for f in fails:
        print(f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
