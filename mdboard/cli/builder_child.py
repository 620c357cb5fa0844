"""The program of the site builder's own process (`mdboard.serve.builder_process`).

`mdboard serve` and `mdboard watch` start it with the pipe's file descriptor, the board
folder and the output folder. As the entry point of its process it decides the process's
policy, as `mdboard.cli.main.run` does for the server: garbage collected as a long-running
command does (it holds a board for as long as the server runs), malloc kept to few arenas
with large blocks mapped on their own (`mdboard.serve.memory`), and Ctrl-C left to the
server: a terminal sends it to both, and the server ends the child when it stops (a
child stopped by it mid-build would print a traceback and be started again).
"""

from __future__ import annotations

import signal
import sys

from mdboard.cli.common import collect_garbage
from mdboard.serve.builder_process import serve_builds
from mdboard.serve.memory import tune_malloc


def main(argv: list[str]) -> None:
    fd, root, out_dir = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    collect_garbage()
    tune_malloc()
    serve_builds(int(fd), root, out_dir)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
