"""A new board: `mdboard init` (the default types, in git from the first minute) and the
CI workflow files (`mdboard init --ci`, `mdboard hooks ci`)."""

from __future__ import annotations

import os
from pathlib import Path

from mdboard.core.config import CONFIG_NAME, parse_config
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import set_language, t
from mdboard.core.store import OUTPUT_DIR, find_git_dir, find_repo
from mdboard.core.fsutil import atomic_write, package_folder

CI_FILES = {"github": ".github/workflows/mdboard.yml", "gitlab": ".gitlab-ci.yml"}
DEFAULT_INSTALL = "git+https://github.com/YOUR-ORG/mdboard.git"
GITIGNORE = f"# mdboard: the built site and private caches are not part of the board\n/{OUTPUT_DIR}/\n/.mdboard/\n"


def skeleton_config(lang: str = "zh-CN", title: str | None = None) -> str:
    text = (package_folder("mdboard.domain", "skeleton") / f"{lang}.yaml").read_text("utf-8")
    if title:
        from mdboard.core.cardfile import render_value

        first = text.split("\ntitle: ", 1)
        rest = first[1].split("\n", 1)[1]
        text = f"{first[0]}\ntitle: {render_value(title)}\n{rest}"
    return text


def git_user(directory: str | Path) -> tuple[str, str]:
    """(name, email) git would commit with in `directory` (or the nearest folder above
    it that exists yet), or empty strings."""
    from mdboard.git.changes import GitRepo

    folder = Path(directory).resolve()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return GitRepo(folder).identity()


def me_in_roster(text: str, name: str, email: str) -> tuple[str, str]:
    """The skeleton config with the git user as the team list's only person (in place of
    the placeholder `me`), with the placeholder's roles (a one-person shop does it all);
    and the key they got."""
    from mdboard.core.cardfile import load_yaml
    from mdboard.core.config import Person
    from mdboard.domain.people import person_key, with_person

    roles = [str(role) for role in load_yaml(text)["people"]["me"].get("roles") or []]
    person = Person(person_key(name, [email], ()), name, [email], roles)
    return with_person(text, person, replace=True), person.key


def init_board(directory: str, lang: str | None = None, title: str | None = None, ci: str | None = None,
               no_commit: bool = False, me: bool = False) -> list[str]:
    """Write config, state folders and .gitignore; git init if needed; first commit.

    `me`: put the git user into the team list in place of the placeholder person."""
    from mdboard.core.cardfile import load_yaml

    root = Path(directory).resolve()
    lang = lang or "zh-CN"
    set_language(lang)
    if (root / CONFIG_NAME).exists():
        raise MdboardError(t("init.exists", path=root / CONFIG_NAME))
    text = skeleton_config(lang, title)
    added = []
    if me:
        name, email = git_user(root)
        if not (name and email):
            raise MdboardError(t("init.no_git_user"))
        text, key = me_in_roster(text, name, email)
        added.append(t("init.me_added", name=name, email=email, key=key))
    cfg = parse_config(load_yaml(text))
    if not no_commit and find_git_dir(root) is not None:
        from mdboard.git.runner import check_safe

        # the first commit would be refused: refuse before a single file is written
        here = next(folder for folder in (root, *root.parents) if folder.is_dir())
        check_safe(here, "status", "update-index", "commit")
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(root / CONFIG_NAME, text.encode("utf-8"))
    written = [CONFIG_NAME, ".gitignore"]
    for ctype in cfg.types.values():
        for state in ctype.states:
            keep = root / ctype.key / state.key / ".gitkeep"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.touch()
            written.append(f"{ctype.key}/{state.key}/.gitkeep")
    written += _write_starter_files(root, lang, cfg)
    gitignore = root / ".gitignore"
    existing = gitignore.read_text("utf-8") if gitignore.exists() else ""
    if f"/{OUTPUT_DIR}/" not in existing:
        atomic_write(gitignore, (existing + ("\n" if existing and not existing.endswith("\n") else "") + GITIGNORE).encode("utf-8"))
    lines = [t("init.written", path=root), *added]
    if ci:
        written += write_ci(root, ci, cfg)
        lines.append(t("init.ci_written", ci=ci))
    if no_commit:
        return lines
    from mdboard.git.changes import Change, GitRepo

    repo = GitRepo(root)
    if find_git_dir(root) is None:
        repo.run("init", "-q")
        lines.append(t("init.git_init"))
    repo.git_dir = find_git_dir(root)
    author = None if repo.config("user.email") else ("mdboard", "mdboard@localhost")
    repo.commit(Change({path: "" for path in written}, "init: mdboard board", [("Action", "init")], author))
    lines.append(t("init.committed"))
    return lines


def _write_starter_files(root: Path, lang: str, cfg) -> list[str]:
    """The default playbooks (双11, 618) and the coming year's sale calendar; a file already
    there (a board made in a folder that had them) is kept as it is."""
    from mdboard.core import dates
    from mdboard.domain.playbooks import starter_files

    written = []
    for rel, text in starter_files(lang, cfg.platforms, dates.today(cfg.timezone)).items():
        if not (root / rel).exists():
            atomic_write(root / rel, text.encode("utf-8"))
            written.append(rel)
    return written


# --- CI workflows ------------------------------------------------------------------------------

def write_ci(root: Path, ci: str, cfg=None) -> list[str]:
    """Write the CI workflow for `ci` ("github" or "gitlab") at the repository's top folder.

    The workflow checks the board on every push and publishes the site from the
    default branch; each working morning (`notify.time`/`days` of `cfg`, the board's
    config, in its timezone) it sends the digest. Returns the written paths relative
    to the board folder.
    """
    if ci not in CI_FILES:
        raise MdboardError(t("teams.ci_unknown", ci=ci, known=", ".join(sorted(CI_FILES))))
    root = Path(root).resolve()
    top = _repo_top(root)
    board = os.path.relpath(root, top).replace(os.sep, "/")
    path = top / CI_FILES[ci]
    text = (_github if ci == "github" else _gitlab)(board, os.environ.get("MDBOARD_INSTALL") or DEFAULT_INSTALL, cfg)
    if path.exists() and path.read_text("utf-8") != text:
        raise MdboardError(t("teams.ci_exists", path=path))
    atomic_write(path, text.encode("utf-8"))
    return [os.path.relpath(path, root).replace(os.sep, "/")]


def _repo_top(root: Path) -> Path:
    """The repository's top folder above (or at) the board, else the board folder itself."""
    found = find_repo(root)
    return found[0] if found else root


def _comment(key: str, **values) -> str:
    return "\n".join("# " + line if line else "#" for line in t(key, **values).splitlines())


def _schedule_values(cfg) -> dict:
    """The digest's time in the board's words and as cron lines (UTC for GitHub, local for GitLab).

    Without a config (a workflow written before the board exists) the defaults apply.
    """
    from mdboard.core.config import DEFAULT_TIMEZONE, NotifyConfig
    from mdboard.domain.notify import local_cron, utc_cron

    notify, tz = (cfg.notify, cfg.timezone) if cfg is not None else (NotifyConfig(), DEFAULT_TIMEZONE)
    return {"time": notify.time, "tz": tz, "utc": utc_cron(notify.time, notify.days, tz),
            "local": local_cron(notify.time, notify.days)}


# The steps every GitHub job starts with: the whole history (for `history`, `standup`), Python, mdboard.
GITHUB_SETUP = """\
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install mdboard
        run: pip install "$MDBOARD_INSTALL"
"""


def _github(board: str, install: str, cfg) -> str:
    site = OUTPUT_DIR if board == "." else f"{board}/{OUTPUT_DIR}"
    default = "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    when = _schedule_values(cfg)
    setup = GITHUB_SETUP
    return f"""{_comment("teams.ci_github_head")}
{_comment("teams.ci_install_note")}
{_comment("notify.ci_github_schedule", **when)}
name: mdboard
on:
  push:
  workflow_dispatch:
    inputs:
      notify:
        description: "{t("notify.ci_dispatch_input")}"
        type: boolean
        default: false
  schedule:
    - cron: "{when["utc"]}"
permissions:
  contents: read
env:
  MDBOARD_INSTALL: "{install}"
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
{setup}      - name: Check the board
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
  notify:
    if: github.event_name == 'schedule' || inputs.notify
    runs-on: ubuntu-latest
    steps:
{setup}      - name: Send the morning digest
        env:
          MDBOARD_CI_SECRETS: ${{{{ toJSON(secrets) }}}}
        run: mdboard --board "{board}" notify
      - name: Check the board
        run: mdboard --board "{board}" check
"""


def _gitlab(board: str, install: str, cfg) -> str:
    site = OUTPUT_DIR if board == "." else f"{board}/{OUTPUT_DIR}"
    when = _schedule_values(cfg)
    return f"""{_comment("teams.ci_gitlab_head")}
{_comment("teams.ci_install_note")}
{_comment("notify.ci_gitlab_schedule", **when)}
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
notify:
  stage: check
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script:
    - pip install "$MDBOARD_INSTALL"
    - mdboard --board "{board}" notify
    - mdboard --board "{board}" check
"""
