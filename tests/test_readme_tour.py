"""The README's quick tours, run verbatim: each line of the block, as a person would type it,
in a fresh folder, with `mdboard` on the PATH. Every step must exit 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, git

README = REPO / "README.md"


def tour(heading: str) -> list[str]:
    """The command lines of the first ```sh block after `heading` in README.md."""
    text = README.read_text("utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def run_tour(lines: list[str], folder: Path) -> list[tuple[str, subprocess.CompletedProcess]]:
    """Run each line with bash in the folder the previous line ended in; (line, process) for each."""
    gitconfig = folder.parent / "gitconfig"
    gitconfig.write_text("[user]\n\tname = 张店长\n\temail = boss@example.com\n[init]\n\tdefaultBranch = main\n", "utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_CONFIG_GLOBAL": str(gitconfig), "EDITOR": "false"}
    cwd_file, cwd, done = folder.parent / "cwd", folder, []
    for line in lines:
        script = f'{line}\nstatus=$?\npwd > "{cwd_file}"\nexit $status\n'
        proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        done.append((line, proc))
        assert proc.returncode == 0, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        cwd = Path(cwd_file.read_text("utf-8").strip())
    return done


def output_of(done, start: str) -> str:
    return next(proc.stdout for line, proc in done if line.startswith(start))


def test_the_chinese_tour_runs_verbatim(tmp_path):
    lines = tour("### 快速上手")
    assert lines[0].startswith("mdboard init shop --me && cd shop")
    assert len(lines) >= 15
    home = tmp_path / "home"
    home.mkdir()
    done = run_tour(lines, home)
    shop = home / "shop"
    card = (shop / "sku" / "shooting" / "SKU-0001.md").read_text("utf-8")
    for line in ("owner: zhaomin", "due: 2026-12-01", "price: 199", "platforms: [douyin, tmall]"):
        assert line in card.splitlines()
    assert "- [x] 主图" in card
    assert "SKU-0001" in output_of(done, "mdboard ls --state 拍摄中")
    assert "蓝牙耳机 Pro 上新" in output_of(done, "mdboard mine 赵敏")
    assert (shop / "_site" / "index.html").exists() and (shop / "看板.csv").exists()
    assert git(shop, "status", "--porcelain", "--untracked-files=no") == ""  # every change committed (the export is new)
    people = (shop / "mdboard.yaml").read_text("utf-8").split("\npeople:\n")[1].split("\n\n")[0]
    assert people.splitlines() == [
        "  boss:", "    name: 张店长", "    email: [boss@example.com]", "    roles: [运营, 美工, 文案, 客服]",
        "  wangli:", "    name: 王丽", "    email: [wangli@example.com]", "    roles: [运营]",
        "  zhaomin:", "    name: 赵敏", "    email: [zhaomin@example.com]", "    roles: [美工]"]


def test_the_english_tour_runs_verbatim(tmp_path):
    lines = tour("### A quick tour")
    assert lines[0].startswith("mdboard init shop --lang en --me && cd shop")
    home = tmp_path / "home"
    home.mkdir()
    done = run_tour(lines, home)
    shop = home / "shop"
    card = (shop / "sku" / "shooting" / "SKU-0001.md").read_text("utf-8")
    for line in ("owner: zhaomin", "due: 2026-12-01", "price: 199", "platforms: [douyin, tmall]"):
        assert line in card.splitlines()
    assert "SKU-0001" in output_of(done, "mdboard ls --state Shooting")
    assert git(shop, "status", "--porcelain", "--untracked-files=no") == ""  # every change committed (the export is new)
    every_output = "".join(proc.stdout + proc.stderr for _, proc in done)
    assert not re.search("[\u4e00-\u9fff]", every_output.replace("张店长", "")), every_output
