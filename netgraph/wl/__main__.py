"""``python -m netgraph.wl script.wl``: run a WL script as a notebook would.

The value of each top-level expression that does not end in ``;`` is printed (as WL
InputForm-like text); ``Print`` prints as it runs. A syntax error or a failing call prints
its positioned message and exits with status 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import NetGraphError
from . import run_script
from .values import wl_repr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m netgraph.wl",
                                 description="Run a Wolfram Language script with netgraph.")
    ap.add_argument("script", help="a .wl or .m file ('-' reads standard input)")
    args = ap.parse_args(argv)
    try:
        text = sys.stdin.read() if args.script == "-" else Path(args.script).read_text()
    except OSError as e:
        print(f"netgraph.wl: cannot read {args.script}: {e.strerror}", file=sys.stderr)
        return 1
    env: dict = {}
    try:
        for value, silent in run_script(text, env):
            if not silent and value is not None:
                print(wl_repr(value), flush=True)
    except NetGraphError as e:
        print(f"{args.script}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
