"""Commands for teams: `mdboard sync`, `mdboard hooks …`, and the CI workflow files.

The library lives in `sync.py` (sync, renumbering, merging cards) and `hooks.py`
(the pre-commit check); this module parses options, calls one of them and
prints what happened.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .cli import emit_json, json_option, pass_ctx
from .errors import MdboardError, ValidationFailed
from .i18n import t
from .store import OUTPUT_DIR, atomic_write

CI_FILES = {"github": ".github/workflows/mdboard.yml", "gitlab": ".gitlab-ci.yml"}
DEFAULT_INSTALL = "git+https://github.com/YOUR-ORG/mdboard.git"


# --- mdboard sync ---------------------------------------------------------------------------

@click.command(help=t("teams.help_sync"))
@click.option("--ours", multiple=True, metavar="ID", help=t("teams.opt_ours"))
@click.option("--theirs", multiple=True, metavar="ID", help=t("teams.opt_theirs"))
@json_option
@pass_ctx
def sync_command(ctx, ours, theirs, as_json):
    from .sync import sync

    board = ctx.board
    result = sync(board, tuple(ours), tuple(theirs))
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(sync_report(board, result))
    if result.blocked:
        sys.exit(1)


def sync_report(board, result) -> str:
    """What one sync did, in a few short lines."""
    lines = [t("teams.synced", remote=result.remote, branch=result.branch)]
    if result.incoming:
        lines.append(t("teams.incoming_head", n=len(result.incoming)))
        lines += ["  " + _incoming_line(board, ev) for ev in result.incoming[:20]]
        if len(result.incoming) > 20:
            lines.append("  " + t("teams.and_more", n=len(result.incoming) - 20).strip())
    else:
        lines.append(t("teams.nothing_in"))
    for r in result.renumbered:
        lines.append(t("teams.renumbered", old=r.old, new=r.new))
        if r.relinked:
            lines.append(t("teams.relinked", cards=", ".join(r.relinked), new=r.new))
    if result.merged_cards:
        lines.append(t("teams.merged_cards", cards=", ".join(result.merged_cards)))
    if result.picked_cards:
        lines.append(t("teams.picked_cards", cards=", ".join(result.picked_cards)))
    if result.blocked:
        lines.append(t("teams.blocked"))
        lines += [p.line() for p in result.blocked]
        lines.append(t("teams.blocked_fix"))
        return "\n".join(lines)
    if result.first_push:
        lines.append(t("teams.first_push", n=result.pushed, remote=result.remote, branch=result.branch))
    elif result.pushed:
        lines.append(t("teams.pushed", n=result.pushed))
    else:
        lines.append(t("teams.nothing_out"))
    if result.attempts > 1:
        lines.append(t("teams.retried", n=result.attempts))
    if result.others:
        lines.append(t("teams.others_problems", n=len(result.others)))
    return "\n".join(lines)


def _incoming_line(board, ev) -> str:
    """`SKU-0042 标题: 规划中 → 拍摄中 (赵敏)`."""
    ctype = board.config.types.get(ev.type)
    label = lambda key: (ctype.state(key).label if ctype and ctype.state(key) else key)
    parts = []
    if ev.renumbered_from:
        parts.append(t("teams.ev_renumbered", old=ev.renumbered_from))
    if ev.created:
        card = board.by_id().get(ev.id)
        parts.append(t("teams.ev_created", state=label(card.state) if card else ""))
    if ev.moved:
        parts.append(f"{label(ev.moved[0])} → {label(ev.moved[1])}")
    if ev.fields and not ev.created:
        labels = [ctype.fields[k].label if ctype and k in ctype.fields else k for k in ev.fields]
        parts.append(t("teams.ev_fields", fields=("、" if board.config.language == "zh-CN" else ", ").join(labels)))
    if ev.deleted and not ev.created:
        parts.append(t("teams.ev_deleted"))
    if not parts:
        parts.append(t("teams.ev_changed"))
    return t("teams.ev_line", id=ev.id, title=ev.title, what=", ".join(parts), who=", ".join(ev.who))


# --- mdboard hooks ----------------------------------------------------------------------------

@click.group(help=t("teams.help_hooks"))
def hooks_command():
    pass


@hooks_command.command("install", help=t("teams.help_hooks_install"))
@click.option("--force", is_flag=True, help=t("teams.opt_hooks_force"))
@pass_ctx
def hooks_install(ctx, force):
    from .hooks import install

    path, backup = install(ctx.board.root, force)
    if backup:
        click.echo(t("teams.hook_backup", path=backup))
    click.echo(t("teams.hook_installed", path=path))


@hooks_command.command("uninstall", help=t("teams.help_hooks_uninstall"))
@pass_ctx
def hooks_uninstall(ctx):
    from .hooks import uninstall

    click.echo(t("teams.hook_removed", path=uninstall(ctx.board.root)))


@hooks_command.command("pre-commit", help=t("teams.help_hooks_precommit"))
@click.argument("files", nargs=-1, type=click.Path())
@pass_ctx
def hooks_pre_commit(ctx, files):
    from .hooks import staged_problems

    board_dir = Path(ctx.board.root) if ctx.board_path else None
    problems = staged_problems(Path.cwd(), list(files) or None, board_dir)
    if problems:
        raise ValidationFailed(t("teams.hook_refused"), problems)


@hooks_command.command("ci", help=t("teams.help_hooks_ci"))
@click.argument("ci", type=click.Choice(sorted(CI_FILES)))
@pass_ctx
def hooks_ci(ctx, ci):
    for path in write_ci(ctx.board.root, ci):
        click.echo(t("teams.ci_file", path=path))
    click.echo(t("teams.ci_next"))


# --- CI workflows ------------------------------------------------------------------------------

def write_ci(root: Path, ci: str) -> list[str]:
    """Write the CI workflow for `ci` ("github" or "gitlab") at the repository's top folder.

    The workflow checks the board on every push and publishes the site from the
    default branch. Returns the written paths relative to the board folder.
    """
    if ci not in CI_FILES:
        raise MdboardError(t("teams.ci_unknown", ci=ci, known=", ".join(sorted(CI_FILES))))
    root = Path(root).resolve()
    top = _repo_top(root)
    board = os.path.relpath(root, top).replace(os.sep, "/")
    path = top / CI_FILES[ci]
    text = (_github if ci == "github" else _gitlab)(board, os.environ.get("MDBOARD_INSTALL") or DEFAULT_INSTALL)
    if path.exists() and path.read_text("utf-8") != text:
        raise MdboardError(t("teams.ci_exists", path=path))
    atomic_write(path, text.encode("utf-8"))
    return [os.path.relpath(path, root).replace(os.sep, "/")]


def _repo_top(root: Path) -> Path:
    """The folder holding `.git` above (or at) the board, else the board folder itself."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return folder
    return root


def _comment(key: str, **values) -> str:
    return "\n".join("# " + line if line else "#" for line in t(key, **values).splitlines())


def _github(board: str, install: str) -> str:
    site = OUTPUT_DIR if board == "." else f"{board}/{OUTPUT_DIR}"
    default = "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    return f"""{_comment("teams.ci_github_head")}
{_comment("teams.ci_install_note")}
name: mdboard
on:
  push:
  workflow_dispatch:
permissions:
  contents: read
env:
  MDBOARD_INSTALL: "{install}"
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install mdboard
        run: pip install "$MDBOARD_INSTALL"
      - name: Check the board
        run: mdboard --board "{board}" check
      - name: Build the site
        run: mdboard --board "{board}" build
      - name: Upload the site
        if: {default}
        uses: actions/upload-pages-artifact@v3
        with:
          path: "{site}"
  publish:
    needs: check
    if: {default}
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    concurrency:
      group: pages
      cancel-in-progress: false
    steps:
      - name: Publish to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
"""


def _gitlab(board: str, install: str) -> str:
    site = OUTPUT_DIR if board == "." else f"{board}/{OUTPUT_DIR}"
    return f"""{_comment("teams.ci_gitlab_head")}
{_comment("teams.ci_install_note")}
variables:
  MDBOARD_INSTALL: "{install}"
  GIT_DEPTH: "0"
default:
  image: python:3.12
stages:
  - check
  - deploy
check:
  stage: check
  script:
    - pip install "$MDBOARD_INSTALL"
    - mdboard --board "{board}" check
pages:
  stage: deploy
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - pip install "$MDBOARD_INSTALL"
    - mdboard --board "{board}" check
    - mdboard --board "{board}" build
    - rm -rf public && cp -r "{site}" public
  artifacts:
    paths:
      - public
"""
