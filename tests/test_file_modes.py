"""Files mdboard writes get the mode git and editors give them: 0666 less the umask
(issue 13 item 14: every file used to be 0600, whatever the umask)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("mdboard")


def mdboard(root: Path, umask: int, *args: str) -> None:
    proc = subprocess.run(["sh", "-c", f'umask {umask:03o}; exec "$0" "$@"', str(EXE), *args], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_cards_caches_and_pages_follow_the_umask(board, umask):
    want = 0o666 & ~umask
    mdboard(board, umask, "new", "sku", "蓝牙耳机", "--owner", "wangli")
    card = board / "sku/planning/SKU-0001.md"
    assert mode(card) == want
    mdboard(board, umask, "set", "SKU-0001", "price=99")
    assert mode(card) == want
    mdboard(board, umask, "move", "SKU-0001", "shooting")
    assert mode(board / "sku/shooting/SKU-0001.md") == want
    mdboard(board, umask, "build")
    assert mode(board / "_site/index.html") == want
    # mdboard's own private files (jinja2 writes its compiled templates itself, 0600)
    private = [p for p in (board / ".git" / "mdboard").rglob("*") if p.is_file() and p.parent.name != "templates"]
    assert private and {p.relative_to(board).as_posix(): mode(p) for p in private} == \
        {p.relative_to(board).as_posix(): want for p in private}


def test_init_writes_the_config_with_the_umask(tmp_path):
    mdboard(tmp_path, 0o002, "init", "board")
    assert mode(tmp_path / "board" / "mdboard.yaml") == 0o664
    assert mode(tmp_path / "board" / ".gitignore") == 0o664
