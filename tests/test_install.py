"""Installing mdboard: the Makefile's set-up commands, and a wheel that carries everything.

A wheel is built from a copy of this tree, installed into a fresh virtual environment
(no network: the packages mdboard needs come from the test run's own environment,
mdboard itself only from the wheel), and `mdboard demo` builds the demo board's site
from there, in a folder far from the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

SKIP_DIRS = {".git", ".venv", "_site", ".demo", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}


def make(*args: str) -> list[str]:
    """The commands `make -n -B ARGS` would run (nothing is run)."""
    # run by `make test`, this make is a sub-make: without the parent's variables it does not
    # print "make[1]: Entering directory" lines among the commands
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    proc = subprocess.run(["make", "-n", "-B", *args], cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_make_demo_installs_mdboard_without_the_test_packages(tmp_path):
    lines = make("demo", f"VENV={tmp_path}/v")
    installs = [line for line in lines if "pip install" in line]
    assert installs == [f"{tmp_path}/v/bin/python -m pip install -q --disable-pip-version-check -e ."]
    assert lines[-1] == f"{tmp_path}/v/bin/mdboard demo --port 8000"


def test_make_test_adds_the_test_packages(tmp_path):
    installs = [line for line in make("venv", f"VENV={tmp_path}/v") if "pip install" in line]
    assert installs == [f"{tmp_path}/v/bin/python -m pip install -q --disable-pip-version-check -e .",
                        f"{tmp_path}/v/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'"]


def test_make_install_links_the_command_into_prefix_bin(tmp_path):
    lines = make("install", f"PREFIX={tmp_path}")
    assert f"python3 -m venv --clear {tmp_path}/share/mdboard/venv" in lines
    assert f"{tmp_path}/share/mdboard/venv/bin/python -m pip install -q --disable-pip-version-check ." in lines
    assert f"ln -sf {tmp_path}/share/mdboard/venv/bin/mdboard {tmp_path}/bin/mdboard" in lines


def test_the_makefile_refuses_an_old_python(tmp_path):
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\nif [ \"$1\" = -V ]; then echo 'Python 3.9.2'; exit 0; fi\nexit 1\n")
    old.chmod(0o755)
    proc = subprocess.run(["make", "python-version", f"PYTHON={old}"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "mdboard needs Python 3.11 or newer (mdboard 需要 Python 3.11 或更新的版本)" in proc.stdout
    assert "Python 3.9.2" in proc.stdout


def _source_copy(dest: Path) -> Path:
    """This tree as it is now (uncommitted work included), without caches and environments."""
    def ignore(folder, names):
        return [n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")]

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from this tree, offline (the test environment's setuptools builds it)."""
    base = tmp_path_factory.mktemp("wheel")
    src = _source_copy(base / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(base / "dist"), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (found,) = (base / "dist").glob("mdboard-*.whl")
    return found


def test_the_wheel_carries_templates_skeletons_catalogues_and_the_demo_board(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("mdboard/site/templates/base.html", "mdboard/domain/skeleton/zh-CN.yaml",
                 "mdboard/domain/skeleton/en.yaml", "mdboard/locale/zh-CN/cli.json", "mdboard/locale/en/cli.json",
                 "mdboard/domain/demo_board/mdboard.yaml", "mdboard/domain/demo_board/.gitignore",
                 "mdboard/domain/demo_board/sku/listed/SKU-0001.md"):
        assert name in names, name
    cards = {n for n in names if n.startswith("mdboard/domain/demo_board/") and n.endswith(".md")}
    in_tree = {p.relative_to(REPO).as_posix() for p in (REPO / "mdboard/domain/demo_board").rglob("*.md")}
    assert cards == in_tree


@pytest.mark.slow
def test_an_installed_wheel_builds_the_demo_far_from_the_source_tree(wheel, tmp_path):
    env_dir = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # mdboard's own dependencies, offline: this test run's site-packages, after the fresh one
    # (a folder named in a .pth file is searched; the .pth files inside it are not run, so
    # the editable install of this tree stays out)
    Path(purelib, "mdboard-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import mdboard; print(mdboard.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=env)
    assert where.stdout.strip() == str(Path(purelib, "mdboard", "__init__.py")), where.stderr
    demo = tmp_path / "far" / "away"
    run = subprocess.run([str(env_dir / "bin" / "mdboard"), "demo", "--dir", str(demo), "--no-serve"], cwd=tmp_path,
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"网站已生成：{demo}/_site/index.html" in run.stdout
    assert "声迈数码旗舰店" in (demo / "_site" / "index.html").read_text("utf-8")
    board = tmp_path / "shop"
    init = subprocess.run([str(env_dir / "bin" / "mdboard"), "init", str(board)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert init.returncode == 0, init.stderr
    assert (board / "mdboard.yaml").read_text("utf-8").startswith("# mdboard 看板配置：")
