"""`mdboard init`: a new board with the default types, in git from the first minute."""

from __future__ import annotations

from pathlib import Path

from .config import CONFIG_NAME, parse_config
from .errors import MdboardError
from .i18n import set_language, t
from .store import OUTPUT_DIR, atomic_write, find_git_dir

SKELETON_DIR = Path(__file__).parent / "skeleton"
GITIGNORE = f"# mdboard: the built site and private caches are not part of the board\n/{OUTPUT_DIR}/\n/.mdboard/\n"


def skeleton_config(lang: str = "zh-CN", title: str | None = None) -> str:
    text = (SKELETON_DIR / f"{lang}.yaml").read_text("utf-8")
    if title:
        from .cardfile import render_value

        first = text.split("\ntitle: ", 1)
        rest = first[1].split("\n", 1)[1]
        text = f"{first[0]}\ntitle: {render_value(title)}\n{rest}"
    return text


def init_board(directory: str, lang: str | None = None, title: str | None = None, ci: str | None = None,
               no_commit: bool = False) -> list[str]:
    """Write config, state folders and .gitignore; git init if needed; first commit."""
    from .cardfile import load_yaml

    root = Path(directory).resolve()
    lang = lang or "zh-CN"
    set_language(lang)
    if (root / CONFIG_NAME).exists():
        raise MdboardError(t("init.exists", path=root / CONFIG_NAME))
    text = skeleton_config(lang, title)
    cfg = parse_config(load_yaml(text))
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(root / CONFIG_NAME, text.encode("utf-8"))
    written = [CONFIG_NAME, ".gitignore"]
    for ctype in cfg.types.values():
        for state in ctype.states:
            keep = root / ctype.key / state.key / ".gitkeep"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.touch()
            written.append(f"{ctype.key}/{state.key}/.gitkeep")
    gitignore = root / ".gitignore"
    existing = gitignore.read_text("utf-8") if gitignore.exists() else ""
    if f"/{OUTPUT_DIR}/" not in existing:
        atomic_write(gitignore, (existing + ("\n" if existing and not existing.endswith("\n") else "") + GITIGNORE).encode("utf-8"))
    lines = [t("init.written", path=root)]
    if ci:
        from .teams import write_ci

        written += write_ci(root, ci)
        lines.append(t("init.ci_written", ci=ci))
    if no_commit:
        return lines
    from .gitops import Change, GitRepo

    repo = GitRepo(root)
    if find_git_dir(root) is None:
        repo.run("init", "-q")
        lines.append(t("init.git_init"))
    repo.git_dir = find_git_dir(root)
    author = None if repo.config("user.email") else ("mdboard", "mdboard@localhost")
    repo.commit(Change({path: "" for path in written}, "init: mdboard board", [("Action", "init")], author))
    lines.append(t("init.committed"))
    return lines
