"""Commands for teams: `mdboard sync`, `mdboard hooks …` (and `hooks ci`, the CI workflow files).

The library lives in `git/sync.py` (sync, renumbering, merging cards), `git/hooks.py`
(the pre-commit check) and `domain/init.py` (the CI workflows); this module parses
options, calls one of them and prints what happened.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path

import click

from mdboard.cli.common import emit_json, json_option, pass_ctx
from mdboard.core.errors import MdboardError, ValidationFailed
from mdboard.core.i18n import t
from mdboard.domain.init import CI_FILES, write_ci

# --- mdboard sync ---------------------------------------------------------------------------

@click.command(help=t("teams.help_sync"))
@click.option("--ours", multiple=True, metavar="ID", help=t("teams.opt_ours"))
@click.option("--theirs", multiple=True, metavar="ID", help=t("teams.opt_theirs"))
@json_option
@pass_ctx
def sync_command(ctx, ours, theirs, as_json):
    from mdboard.git.sync import sync

    board = ctx.board
    try:
        with _interrupts_as_ctrl_c():
            result = sync(board, tuple(ours), tuple(theirs))
    except KeyboardInterrupt:
        raise MdboardError(t("teams.interrupted")) from None
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(sync_report(board, result))
    if result.blocked:
        sys.exit(1)


@contextlib.contextmanager
def _interrupts_as_ctrl_c():
    """While sync runs, a closed terminal (SIGHUP) or a plain `kill` (SIGTERM) stops it the
    way Ctrl-C does: sync undoes what it had half done before the program ends."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    caught = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    before = {s: signal.signal(s, interrupt) for s in caught}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


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
    lines += [_over_wip_line(board, o) for o in result.over_wip]
    return "\n".join(lines)


def _over_wip_line(board, over) -> str:
    """`注意：同步后，上新「拍摄中」有 7 张卡片，超过 WIP 上限 6 …`"""
    ctype = board.config.types[over.type]
    state = ctype.state(over.state)
    return t("teams.over_wip", type=ctype.label, state=state.label if state else over.state,
             count=over.count, wip=over.wip)


def _incoming_line(board, ev) -> str:
    """`SKU-0042 标题: 规划中 → 拍摄中 (赵敏)`."""
    ctype = board.config.types.get(ev.type)
    label = lambda key: ctype.state_label(key) if ctype else key
    parts = []
    if ev.created:
        card = board.by_id().get(ev.id)
        parts.append(t("teams.ev_created", state=label(card.state) if card else ""))
    if ev.renumbered_from:
        parts.append(t("teams.ev_renumbered", old=ev.renumbered_from))
    if ev.moved:
        parts.append(f"{label(ev.moved[0])} → {label(ev.moved[1])}")
    if ev.fields and not ev.created:
        labels = [ctype.fields[k].label if ctype and k in ctype.fields else k for k in ev.fields]
        parts.append(t("teams.ev_fields", fields=("、" if board.config.language == "zh-CN" else ", ").join(labels)))
    if ev.deleted and not ev.created:
        parts.append(t("teams.ev_deleted"))
    if not parts:
        parts.append(t("teams.ev_changed"))
    sep = t("teams.ev_join")
    return t("teams.ev_line", id=ev.id, title=ev.title, what=sep.join(parts), who=sep.join(ev.who))


# --- mdboard hooks ----------------------------------------------------------------------------

@click.group(help=t("teams.help_hooks"))
def hooks_command():
    pass


@hooks_command.command("install", help=t("teams.help_hooks_install"))
@click.option("--force", is_flag=True, help=t("teams.opt_hooks_force"))
@pass_ctx
def hooks_install(ctx, force):
    from mdboard.git.hooks import install

    path, backup = install(ctx.board.root, force)
    if backup:
        click.echo(t("teams.hook_backup", path=backup))
    click.echo(t("teams.hook_installed", path=path))


@hooks_command.command("uninstall", help=t("teams.help_hooks_uninstall"))
@pass_ctx
def hooks_uninstall(ctx):
    from mdboard.git.hooks import uninstall

    click.echo(t("teams.hook_removed", path=uninstall(ctx.board.root)))


@hooks_command.command("pre-commit", help=t("teams.help_hooks_precommit"))
@click.argument("files", nargs=-1, type=click.Path())
@pass_ctx
def hooks_pre_commit(ctx, files):
    from mdboard.git.hooks import staged_problems

    board_dir = Path(ctx.board.root) if ctx.board_path else None
    problems = staged_problems(Path.cwd(), list(files) or None, board_dir)
    if problems:
        raise ValidationFailed(t("teams.hook_refused"), problems)


@hooks_command.command("ci", help=t("teams.help_hooks_ci"))
@click.argument("ci", type=click.Choice(sorted(CI_FILES)))
@pass_ctx
def hooks_ci(ctx, ci):
    for path in write_ci(ctx.board.root, ci, ctx.board.config):
        click.echo(t("teams.ci_file", path=path))
    click.echo(t("teams.ci_next"))
