"""Profile one mdboard command in CPU time, in-process, on a board.

    .venv/bin/python bench/cpu_profile.py --board bench/out/board-c10000-m20000-s7 -- ls
    .venv/bin/python bench/cpu_profile.py --board DIR --sort cumulative --limit 40 -- check

The command runs through the real CLI (`mdboard.cli.main`), with its output thrown
away, under cProfile timed by `time.process_time`: on a shared machine the CPU
time a function takes is steady while its wall time is not. `MDBOARD_NOW` is fixed
as in the benchmark. The whole process (interpreter start, imports) is what
`bench/run.py` measures; this shows where the command's own share goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402


def profile(board: Path, argv: list[str]) -> cProfile.Profile:
    """Run `mdboard ARGV` in `board` under a CPU-time profiler; returns the profile."""
    os.environ.setdefault("MDBOARD_NOW", generate.TODAY)
    os.chdir(board)
    from mdboard.cli.main import main

    prof = cProfile.Profile(time.process_time)
    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
    prof.enable()
    try:
        main(argv, prog_name="mdboard")
    except SystemExit:
        pass
    finally:
        prof.disable()
        sys.stdout.close()
        sys.stdout = stdout
    return prof


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", type=Path, required=True)
    parser.add_argument("--sort", default="tottime", help="pstats sort key: tottime, cumulative, ncalls")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the mdboard arguments, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.process_time()
    prof = profile(args.board.resolve(), command)
    print(f"mdboard {' '.join(command)}: {time.process_time() - started:.3f} s CPU in the command")
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
