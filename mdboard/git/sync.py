"""`mdboard sync`: one board shared through a git remote.

Under the board lock, sync fetches the remote branch, integrates the local
commits, validates the result and pushes, retrying (a bounded number of times)
when the remote moved between the fetch and the push.

Integration is a rebase of the local commits onto the remote, so the shared
history stays a straight line. Two exceptions use a merge instead, because only
a merge tells the truth there: cards created on both sides with the same ID (the
local, unpushed card is renumbered first, in a commit that says so, and both
creations stay in the history side by side), and local history that already
holds a merge.

Where git stops on a card, sync merges it field by field (git's line merge
refuses changes on neighbouring lines, and card fields are neighbours). What
cannot be merged that way (a card moved to two different states, one field set
two ways) stops the sync: the rebase or merge is aborted, the clone is put back
exactly as it was, and the error says which card, what each side did and which
command picks a side.

An interrupted sync (Ctrl-C, a closed terminal, a killed process, a power cut) is
finished by the next one. While sync works it keeps a journal (`sync.json` in the
board's private folder); the next sync that finds it aborts the rebase or merge
that was left half done and removes files a killed git had half written. What is
already committed stays: a renumbering commit in the local history is recognised
from the history itself (the card was created under the ID the remote now has),
so the next sync merges instead of replaying that creation onto the other card.
"""

from __future__ import annotations

import difflib
import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from mdboard.core import cardfile
from mdboard.core.config import CONFIG_NAME
from mdboard.core.errors import CardSyntaxError, GitError, MdboardError, Problem, parenthesized
from mdboard.core.fsutil import atomic_write
from mdboard.git.changes import Change, GitRepo, apply_change, board_lock
from mdboard.core.i18n import t
from mdboard.core.text import next_id
from mdboard.core.store import SYNC_JOURNAL, Board, card_path_parts, check_id, find_repo, is_archived_path
from mdboard.git.runner import check_safe, run_git

MAX_ATTEMPTS = 5
MAX_LISTED = 20  # conflicting or dirty files named in one message
JOURNAL = SYNC_JOURNAL  # in the board's state folder while a sync is under way
STOP_VARIABLE = "MDBOARD_TEST_SYNC_STOP"  # tests only: "step:SIGNAL" stops sync at a step (see _checkpoint)
_MISSING = object()  # a front matter key that a version does not have
_NO_OBJECT = "0" * 40


class SyncError(MdboardError):
    """sync cannot start or cannot finish; the message says why and what to do."""


@dataclass
class Conflict:
    """One thing that both sides changed in ways that cannot be combined."""

    card: str  # card ID, or "" for a file that is not a card
    kind: str  # state | field | body | deleted | file
    field: str = ""
    mine: str = ""
    theirs: str = ""
    who: str = ""
    path: str = ""


class SyncConflict(SyncError):
    """Integration stopped on conflicts; the clone is back where it was before sync."""

    def __init__(self, message: str, conflicts: list[Conflict]):
        super().__init__(message)
        self.conflicts = conflicts


class _Stopped(Exception):
    """Internal: the replay met conflicts that need a person (raised before restoring)."""

    def __init__(self, conflicts: list[Conflict]):
        super().__init__(len(conflicts))
        self.conflicts = conflicts


@dataclass
class Incoming:
    """What others did to one card, as it came in with this sync."""

    id: str
    type: str
    title: str = ""
    created: bool = False
    deleted: bool = False
    moved: tuple[str, str] | None = None  # (from state, to state)
    fields: list[str] = field(default_factory=list)
    who: list[str] = field(default_factory=list)
    renumbered_from: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "type": self.type, "title": self.title, "created": self.created,
                "deleted": self.deleted, "moved": list(self.moved) if self.moved else None,
                "fields": self.fields, "who": self.who, "renumbered_from": self.renumbered_from}


@dataclass
class Renumbered:
    """A local card that got a new ID because its old one was taken on the remote."""

    old: str
    new: str
    relinked: list[str] = field(default_factory=list)  # cards whose links were rewritten
    commit: str = ""


@dataclass
class OverWip:
    """A state that this sync left with more cards than its WIP limit."""

    type: str
    state: str
    count: int
    wip: int


@dataclass
class SyncResult:
    """What one sync did, for the CLI to report."""

    remote: str
    branch: str
    incoming: list[Incoming] = field(default_factory=list)
    renumbered: list[Renumbered] = field(default_factory=list)
    merged_cards: list[str] = field(default_factory=list)  # cards combined field by field
    picked_cards: list[str] = field(default_factory=list)  # cards where --ours/--theirs was applied
    pushed: int = 0
    attempts: int = 0
    used_merge: bool = False
    first_push: bool = False
    blocked: list[Problem] = field(default_factory=list)  # errors in what we would push: not pushed
    others: list[Problem] = field(default_factory=list)  # errors others left on the board
    over_wip: list[OverWip] = field(default_factory=list)  # states the sync filled beyond their limit

    def to_dict(self) -> dict:
        return {"remote": self.remote, "branch": self.branch,
                "incoming": [i.to_dict() for i in self.incoming],
                "renumbered": [vars(r) for r in self.renumbered], "merged_cards": self.merged_cards,
                "picked_cards": self.picked_cards,
                "pushed": self.pushed, "attempts": self.attempts, "used_merge": self.used_merge,
                "first_push": self.first_push, "blocked": [p.to_dict() for p in self.blocked],
                "others": [p.to_dict() for p in self.others], "over_wip": [vars(o) for o in self.over_wip]}


# --- running git -------------------------------------------------------------------------

class _Git:
    """The git CLI in the board's repository, with paths translated to and from the board."""

    def __init__(self, board: Board):
        self.board = board
        found = find_repo(board.root.resolve())
        if found is None:
            raise GitError(t("teams.hook_not_repo", path=board.root))
        self.top = found[0]
        rel = os.path.relpath(board.root.resolve(), self.top.resolve()).replace(os.sep, "/")
        self.prefix = "" if rel == "." else rel + "/"

    def run(self, *args: str, env: dict | None = None, input: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run git (no hook runs: see mdboard.git.runner); returns the finished process
        (check returncode yourself)."""
        env = {"GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no", **(env or {})}
        return run_git(cwd or self.top, "-c", "core.quotepath=off", *args, input=input, env=env)

    def out(self, *args: str, cwd: Path | None = None, **kw) -> str:
        """Run git and return its stdout; a failure becomes GitError with git's words."""
        proc = self.run(*args, cwd=cwd, **kw)
        if proc.returncode != 0:
            raise GitError(t("git.failed", command="git " + " ".join(args[:2]), detail=_detail(proc)))
        return proc.stdout.decode("utf-8", "replace").rstrip("\n")

    def ok(self, *args: str, **kw) -> bool:
        return self.run(*args, **kw).returncode == 0

    def head(self) -> str:
        return self.out("rev-parse", "HEAD")

    def is_ancestor(self, a: str, b: str) -> bool:
        return self.ok("merge-base", "--is-ancestor", a, b)

    def to_board(self, repo_path: str) -> str | None:
        """A repository path as a board path, or None when it lies outside the board."""
        if repo_path.startswith(self.prefix):
            return repo_path[len(self.prefix):]
        return None

    def blobs(self, names: list[str]) -> dict[str, str | None]:
        """Many blobs as text (object ids or `:path`), in one git call; None if missing."""
        return {k: None if v is None else v.decode("utf-8", "replace") for k, v in cat_blobs(self.top, names).items()}


def cat_blobs(top: Path, names: list[str]) -> dict[str, bytes | None]:
    """Many blobs (object ids or `:path` for the staged version) in one `git cat-file --batch`."""
    if not names:
        return {}
    proc = run_git(top, "cat-file", "--batch", input="".join(n + "\n" for n in names))
    data, pos, out = proc.stdout, 0, {}
    for name in names:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            out[name] = None
            continue
        size = int(header[2])
        out[name] = data[pos:pos + size]
        pos += size + 1
    return out


def _detail(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()
    return text[-500:]


def card_ref(board: Board, rel: str) -> tuple[str, str, str] | None:
    """(ID, type, state) when a board path is a card file, else None (same rule as the scan).

    An archived card (`<type>/<state>/<year>/<ID>.md`) is the same card in the same state:
    archiving it on one side and editing it on the other merges like a move and an edit.
    """
    parts = card_path_parts(rel)
    if parts is None or parts[0] not in board.config.types:
        return None
    return parts[2], parts[0], parts[1]


# --- the sync ------------------------------------------------------------------------------

def sync(board: Board, ours: tuple[str, ...] = (), theirs: tuple[str, ...] = (),
         attempts: int = MAX_ATTEMPTS) -> SyncResult:
    """Fetch, integrate, validate and push; see the module docstring."""
    if board.git_dir is None:
        raise SyncError(t("teams.not_a_repo", path=board.root))
    prefer = _preferences(ours, theirs)
    git = _Git(board)
    with board_lock(board):
        trouble = GitRepo.of(board).trouble()  # gives a git that is running a moment to finish
        if not (board.git_dir / "index.lock").exists() and _finish_interrupted(board, git):
            trouble = GitRepo.of(board).trouble()
        if trouble:
            raise GitError(trouble)
        check_safe(git.top, "status", "fetch", "merge", "rebase", "commit", "push")
        branch = _branch(git)
        remote, remote_branch = _upstream(git, branch)
        _refuse_dirty(git)
        orig = git.head()
        result = SyncResult(remote, remote_branch)
        counts = _state_counts(board)
        _write_journal(board, orig, branch, remote, remote_branch)
        try:
            tip = _attempts(board, git, orig, prefer, result, branch, attempts)
        finally:
            if not _in_progress(board, git):  # else a restore was cut short: the next sync finishes it
                _drop_journal(board)
        result.incoming = incoming(board, git, orig, tip)
        result.over_wip = _filled_beyond_wip(board, counts)
    return result


def _state_counts(board: Board) -> dict[tuple[str, str], int]:
    """(type, state) -> how many cards sit there."""
    counts: dict[tuple[str, str], int] = {}
    for type_key, state, _ in board.names():
        counts[(type_key, state)] = counts.get((type_key, state), 0) + 1
    return counts


def _filled_beyond_wip(board: Board, before: dict[tuple[str, str], int]) -> list[OverWip]:
    """States over their WIP limit that gained cards in this sync: each side kept to the limit,
    together they do not (two people each moved a card into a full column)."""
    board.invalidate()
    out = []
    for (type_key, state_key), count in sorted(_state_counts(board).items()):
        state = board.config.types[type_key].state(state_key)
        if state and state.wip and count > state.wip and count > before.get((type_key, state_key), 0):
            out.append(OverWip(type_key, state_key, count, state.wip))
    return out


def _attempts(board: Board, git: _Git, orig: str, prefer: dict, result: SyncResult, branch: str,
              attempts: int) -> str | None:
    """Fetch, integrate, validate and push until the push lands; returns the remote commit used."""
    remote, remote_branch = result.remote, result.branch
    for attempt in range(1, attempts + 1):
        result.attempts = attempt
        tip = _fetch(git, remote, remote_branch)
        _checkpoint("fetched")
        _integrate(board, git, orig, tip, prefer, result)
        _checkpoint("integrated")
        result.blocked, result.others = _validate(board, git, tip)
        if result.blocked or (tip is not None and git.is_ancestor(git.head(), tip)):
            return tip
        if _push(git, remote, remote_branch, branch, tip, result):
            _checkpoint("pushed")
            return tip
    raise SyncError(t("teams.gave_up", n=attempts, remote=remote))


def _checkpoint(step: str) -> None:
    """Where the kill tests stop sync: with MDBOARD_TEST_SYNC_STOP=step:SIGNAL (e.g.
    `merging:KILL`) set, sync sends itself that signal here. Only tests set it."""
    wanted, _, name = os.environ.get(STOP_VARIABLE, "").partition(":")
    if wanted == step:
        os.kill(os.getpid(), getattr(signal, "SIG" + name, signal.SIGKILL))


# --- the journal: finishing an interrupted sync -------------------------------------------------

def _write_journal(board: Board, orig: str, branch: str, remote: str, remote_branch: str) -> None:
    """Note that a sync is under way (removed when it ends, whichever way it ends)."""
    data = {"orig": orig, "branch": branch, "remote": remote, "remote_branch": remote_branch}
    atomic_write(board.state_dir / JOURNAL, json.dumps(data).encode("utf-8"))


def _drop_journal(board: Board) -> None:
    (board.state_dir / JOURNAL).unlink(missing_ok=True)


def _finish_interrupted(board: Board, git: _Git) -> bool:
    """Undo what a sync that was stopped half way left in progress (it never pushed that).

    A rebase or merge it had started is aborted, and files that a killed git had
    already written from the remote's commit are put back (they come in again
    with this sync). Commits it completed stay (a renumbering, an integration):
    they are sound on their own and this sync builds on them. True when there was
    such a sync.
    """
    path = board.state_dir / JOURNAL
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text("utf-8"))
        remote_ref = f"refs/remotes/{data['remote']}/{data['remote_branch']}"
    except (OSError, ValueError, KeyError, TypeError):
        data, remote_ref = {}, None
    _abort(board, git)
    if _in_progress(board, git):
        raise SyncError(t("teams.interrupted_stuck", path=board.git_dir))
    if remote_ref and git.ok("rev-parse", "-q", "--verify", remote_ref):
        _drop_leftovers(git, remote_ref)
    _drop_journal(board)
    board.invalidate()
    return True


def _abort(board: Board, git: _Git) -> None:
    """Abort a rebase or merge in progress (the work tree goes back to the last commit)."""
    gd = board.git_dir
    if (gd / "rebase-merge").exists() or (gd / "rebase-apply").exists():
        git.run("rebase", "--abort")
    if (gd / "MERGE_HEAD").exists() and not git.ok("merge", "--abort"):
        # sync had staged a merged card but not yet written it: only sync touched these files
        git.run("reset", "--hard", "--quiet", "HEAD")


def _drop_leftovers(git: _Git, tip: str) -> None:
    """Put back files that hold the remote's version while git does not know it: what a git
    killed in the middle of writing the remote's files leaves behind. Of the files git does
    not track, only cards are looked at (sync does not start while a new card is uncommitted;
    other files are the user's)."""
    proc = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames")
    paths = [e[3:] for e in proc.stdout.decode("utf-8", "replace").split("\0")
             if e and "U" not in e[:2] and (e[:2] != "??" or _is_card(git, e[3:]))]
    if not paths:
        return
    theirs = cat_blobs(git.top, [f"{tip}:{path}" for path in paths])
    for path in paths:
        full = git.top / path
        try:
            here = full.read_bytes()
        except OSError:
            here = None
        if here != theirs[f"{tip}:{path}"]:
            continue  # not the remote's: someone's own edit, which sync never touches
        if git.ok("cat-file", "-e", f"HEAD:{path}"):
            git.run("checkout", "--quiet", "HEAD", "--", path)
        else:
            git.run("rm", "--cached", "--quiet", "--ignore-unmatch", "--", path)
            full.unlink(missing_ok=True)


def _preferences(ours, theirs) -> dict[str, str]:
    """Card ID -> which side wins its conflicts ("mine" or "theirs")."""
    prefer = {check_id(i): "mine" for i in ours}
    for card_id in theirs:
        card_id = check_id(card_id)
        if card_id in prefer:
            raise SyncError(t("teams.both_sides", id=card_id))
        prefer[card_id] = "theirs"
    return prefer


def _branch(git: _Git) -> str:
    proc = git.run("symbolic-ref", "-q", "--short", "HEAD")
    if proc.returncode != 0:
        raise GitError(t("git.detached"))
    return proc.stdout.decode().strip()


def _upstream(git: _Git, branch: str) -> tuple[str, str]:
    """(remote, branch on the remote): the branch's upstream, else `origin` or the only remote."""
    remote = git.run("config", "--get", f"branch.{branch}.remote").stdout.decode().strip()
    merge = git.run("config", "--get", f"branch.{branch}.merge").stdout.decode().strip()
    if remote and remote != "." and merge.startswith("refs/heads/"):
        return remote, merge[len("refs/heads/"):]
    remotes = git.out("remote").split()
    if not remotes:
        raise SyncError(t("teams.no_remote"))
    if "origin" in remotes:
        return "origin", branch
    if len(remotes) == 1:
        return remotes[0], branch
    raise SyncError(t("teams.many_remotes", remotes=", ".join(remotes), branch=branch))


def _is_card(git: _Git, repo_path: str) -> bool:
    """Whether a repository path is a card file of the board (or its mdboard.yaml)."""
    rel = git.to_board(repo_path)
    return rel is not None and (rel == CONFIG_NAME or card_ref(git.board, rel) is not None)


def _refuse_dirty(git: _Git) -> None:
    """Stop when tracked files have uncommitted changes, or new card files are not committed."""
    proc = git.run("status", "--porcelain", "-z", "--untracked-files=all")
    entries = [e for e in proc.stdout.decode("utf-8", "replace").split("\0") if e]
    dirty, skip = [], False
    for entry in entries:
        if skip:  # the second path of a rename entry
            skip = False
            continue
        code, path = entry[:2], entry[3:]
        skip = code[0] in "RC"
        if code == "??" and not _is_card(git, path):
            continue
        dirty.append(path)
    if dirty:
        shown = "\n".join("  " + p for p in dirty[:MAX_LISTED])
        more = t("teams.and_more", n=len(dirty) - MAX_LISTED) if len(dirty) > MAX_LISTED else ""
        raise SyncError(t("teams.dirty", files=shown + more, first=dirty[0]))


def _fetch(git: _Git, remote: str, branch: str) -> str | None:
    """Fetch the remote branch; its commit id, or None when the remote has no such branch yet."""
    ref = f"refs/remotes/{remote}/{branch}"
    # git's own words decide "no such branch yet", so they must not be translated
    proc = git.run("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{ref}", env={"LC_ALL": "C"})
    if proc.returncode != 0:
        detail = _detail(proc)
        if "couldn't find remote ref" in detail or "could not find remote ref" in detail:
            return None
        url = git.run("remote", "get-url", remote).stdout.decode().strip()
        raise SyncError(t("teams.unreachable", remote=remote, url=url or remote, detail=detail))
    return git.out("rev-parse", ref)


def _push(git: _Git, remote: str, branch: str, local_branch: str, tip: str | None, result: SyncResult) -> bool:
    """Push HEAD; False when the remote moved meanwhile (the caller integrates again)."""
    count = int(git.out("rev-list", "--count", "HEAD" if tip is None else f"{tip}..HEAD"))
    proc = git.run("push", "--quiet", remote, f"HEAD:refs/heads/{branch}")
    if proc.returncode == 0:
        result.pushed, result.first_push = count, tip is None
        if not git.ok("config", "--get", f"branch.{local_branch}.remote"):
            git.run("config", f"branch.{local_branch}.remote", remote)
            git.run("config", f"branch.{local_branch}.merge", f"refs/heads/{branch}")
        return True
    detail = _detail(proc)
    if _fetch(git, remote, branch) != tip:
        return False
    raise SyncError(t("teams.push_failed", remote=remote, detail=detail))


# --- integrating -----------------------------------------------------------------------------

def _integrate(board: Board, git: _Git, orig: str, tip: str | None, prefer: dict, result: SyncResult) -> None:
    """Bring the remote's commits in under the local ones (fast-forward, rebase or merge)."""
    head = git.head()
    if tip is None or git.is_ancestor(tip, head):
        return
    if git.is_ancestor(head, tip):
        git.out("merge", "--ff-only", "--quiet", tip)
        return
    proc = git.run("merge-base", head, tip)
    if proc.returncode != 0:
        raise SyncError(t("teams.unrelated"))
    base = proc.stdout.decode().strip()
    theirs_new = _new_ids(git, base, tip)
    taken = sorted(_new_ids(git, base, head) & theirs_new)
    # a creation the remote also has, even if renumbered since (by an interrupted sync), cannot be
    # replayed onto the remote's card: merge, so both creations stay side by side
    collided = _ever_created(git, base, head) & theirs_new
    use_merge = bool(collided) or bool(git.out("rev-list", "--merges", f"{base}..HEAD"))
    result.used_merge = result.used_merge or use_merge
    try:
        picks = _clashes(board, git, base, head, tip, prefer, collided) if use_merge else []
        for old in taken:
            result.renumbered.append(renumber(board, git, old, tip))
            _checkpoint("renumbered")
        target = _commit_picks(board, git, tip, picks, result) if picks else tip
        _replay(board, git, base, target, prefer, result, merge=use_merge)
    except _Stopped as stop:
        _restore(git, orig, tip)
        raise SyncConflict(conflict_message(board, stop.conflicts), stop.conflicts)
    except BaseException:
        _restore(git, orig, tip)
        raise
    board.invalidate()


def _new_ids(git: _Git, a: str, b: str) -> set[str]:
    """IDs of cards that exist in `b` but not in `a` (added on that side, not moved)."""
    return {card_id for card_id, (before, after) in _changed_cards(git, a, b).items() if before is None and after}


def _changed_cards(git: _Git, a: str, b: str) -> dict[str, tuple[str | None, str | None]]:
    """card ID -> (its board path in `a`, its board path in `b`; None where it is not there),
    for every card that differs between the two commits."""
    raw = git.out("diff", "--name-status", "--no-renames", "-z", a, b, "--", git.prefix or ".")
    parts = raw.split("\0")
    out: dict[str, tuple[str | None, str | None]] = {}
    for status, path in zip(parts[0::2], parts[1::2]):
        rel = git.to_board(path)
        ref = card_ref(git.board, rel) if rel is not None else None
        if ref:
            before, after = out.get(ref[0], (None, None))
            out[ref[0]] = (rel if status != "A" else before, rel if status != "D" else after)
    return out


# --- a picked side, in the merge case -----------------------------------------------------------

@dataclass
class _Pick:
    """A card both sides changed in ways that clash, and the side the user picked for it."""

    card: str
    base: tuple[str, str]  # (board path, text) of each version; None where a side deleted it
    mine: tuple[str, str] | None
    theirs: tuple[str, str] | None
    side: str  # "mine" | "theirs"


def _clashes(board: Board, git: _Git, base: str, head: str, tip: str, prefer: dict,
             skip: set[str]) -> list[_Pick]:
    """The cards both sides changed in ways that clash, each with its picked side.

    Raises _Stopped when a clash has no side picked (nothing is changed yet). IDs in
    `skip` (two different cards created under one ID) are not one card's versions.
    """
    mine, theirs = _changed_cards(git, base, head), _changed_cards(git, base, tip)
    both = sorted((mine.keys() & theirs.keys()) - skip)
    names = {}
    for card_id in both:
        start = mine[card_id][0] or theirs[card_id][0]
        names[card_id] = (start and f"{base}:{git.prefix}{start}",
                          mine[card_id][1] and f"{head}:{git.prefix}{mine[card_id][1]}",
                          theirs[card_id][1] and f"{tip}:{git.prefix}{theirs[card_id][1]}")
    texts = git.blobs([n for trio in names.values() for n in trio if n])
    version = lambda name: (name.split(":", 1)[1][len(git.prefix):], texts[name]) if name else None
    picks, conflicts = [], []
    for card_id in both:
        start, ours, others = (version(n) for n in names[card_id])
        if start is None:
            continue
        _, found = merge_card(board, card_id, start, ours, others)
        if not found:
            continue
        side = prefer.get(card_id)
        if side and not any(c.kind == "file" for c in found):
            picks.append(_Pick(card_id, start, ours, others, side))
            continue
        who = _who(git, base, tip, [git.prefix + p for p in (start[0], ours and ours[0], others and others[0]) if p])
        conflicts += [replace(c, who=who) for c in found]
    if conflicts:
        raise _Stopped(conflicts)
    return picks


def _commit_picks(board: Board, git: _Git, tip: str, picks: list[_Pick], result: SyncResult) -> str:
    """Commit what each picked side changes, on the side that gives way; returns the commit to merge.

    Picking the remote's side (--theirs) changes your version of what clashed in a
    commit on your branch; picking yours (--ours) changes the remote's version in a
    commit on top of the remote's. Either way the merge then has nothing left to
    choose, and the history shows the choice as a change made now, by you: a
    clashing choice hidden inside a merge would leave each card's story ending with
    whichever side's change happened to be made last.
    """
    target = tip
    for pick in picks:
        loser = pick.mine if pick.side == "theirs" else pick.theirs
        lost = "mine" if pick.side == "theirs" else "theirs"
        winner_whole = pick.theirs if pick.side == "theirs" else pick.mine
        if loser is None or winner_whole is None:
            aligned = winner_whole  # deleted on one side: the whole card is what clashed
        else:
            won = merge_card(board, pick.card, pick.base, pick.mine, pick.theirs, pick.side)[0]
            gave = merge_card(board, pick.card, pick.base, pick.mine, pick.theirs, lost)[0]
            aligned = merge_card(board, pick.card, gave, loser, won)[0]  # the loser, with what the winner chose
        files = {loser[0]: None} if loser else {}
        if aligned:
            files[aligned[0]] = aligned[1]
        change = Change(files, f"resolve {pick.card} (--{'ours' if pick.side == 'mine' else 'theirs'})",
                        [("Card", pick.card), ("Action", "resolve"), ("Kept", "ours" if pick.side == "mine" else "theirs")])
        if pick.side == "theirs":
            apply_change(board, change)
        else:
            target = _commit_on(git, target, change)
        if pick.card not in result.picked_cards:
            result.picked_cards.append(pick.card)
        _checkpoint("picked")
    return target


def _commit_on(git: _Git, parent: str, change: Change) -> str:
    """A commit of `change` on top of `parent`, made without touching the work tree or the index."""
    with tempfile.TemporaryDirectory(prefix="mdboard-sync-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.out("read-tree", parent, env=env)
        entries = []
        for rel, text in sorted(change.files.items()):
            path = git.prefix + rel
            entries.append(f"0 {_NO_OBJECT}\t{path}")
            if text is not None:
                blob = git.out("hash-object", "-w", "--stdin", "--path", path, input=text)
                entries.append(f"100644 {blob}\t{path}")
        git.out("update-index", "-z", "--index-info", input="".join(e + "\0" for e in entries), env=env)
        tree = git.out("write-tree", env=env)
    return git.out("commit-tree", tree, "-p", parent, input=change.message())


def _ever_created(git: _Git, a: str, b: str) -> set[str]:
    """IDs of cards that some commit in a..b added (also those renamed or deleted later)."""
    raw = git.out("log", "--no-renames", "--diff-filter=A", "--name-only", "--format=", "-z", f"{a}..{b}",
                  "--", git.prefix or ".")
    ids = set()
    for path in raw.split("\0"):
        rel = git.to_board(path.strip("\n"))
        ref = card_ref(git.board, rel) if rel is not None else None
        if ref:
            ids.add(ref[0])
    return ids


def renumber(board: Board, git: _Git, old: str, tip: str) -> Renumbered:
    """Give the local card `old` the next ID free on both sides, rewriting links to it and
    mentions of it in the cards' text (all written here, before the remote's cards come
    in, so they mean this card); commit."""
    board.invalidate()
    card = board.by_id()[old]
    new = _free_id(board, git, card.type, tip)
    folder = f"{card.type}/{card.state}" if card.state else card.type
    new_rel = f"{folder}/{new}.md"
    text = board.read_text(card)
    if "id" in card.meta:
        text = cardfile.set_field(text, "id", new)
    text = cardfile.replace_id_in_body(text, old, new) or text
    files: dict[str, str | None] = {card.path: None, new_rel: text}
    relinked = []
    for other in board.cards():
        if other.id == old or other.error:
            continue
        changed = _relink(board, other, card.type, old, new)
        changed = cardfile.replace_id_in_body(changed or board.read_text(other), old, new) or changed
        if changed is not None:
            files[other.path] = changed
            relinked.append(other.id)
    trailers = [("Card", new), ("Action", "renumber"), ("From-Id", old), ("To-Id", new)]
    trailers += [("Relinked", r) for r in relinked]
    change = Change(files, f"renumber {old} → {new}", trailers, renames={new_rel: card.path})
    sha = apply_change(board, change)
    return Renumbered(old, new, relinked, sha or "")


def _free_id(board: Board, git: _Git, type_key: str, tip: str) -> str:
    """One more than the highest number of this type on either side."""
    ctype = board.config.types[type_key]
    names = git.out("ls-tree", "-r", "--name-only", "-z", tip, "--", git.prefix + type_key).split("\0")
    ids = {c.id for c in board.cards()} | {n.rsplit("/", 1)[-1][:-3] for n in names if n.endswith(".md")}
    return next_id(ctype.prefix, ids | {card_id for _, _, card_id, _ in board.archived_names()})


def _relink(board: Board, card, target_type: str, old: str, new: str) -> str | None:
    """The card's text with links to `old` pointing at `new`, or None when it has none."""
    text = None
    for fd in board.type_of(card).fields.values():
        if fd.type not in ("link", "links") or fd.to != target_type:
            continue
        value = card.meta.get(fd.key)
        if value == old:
            value = new
        elif isinstance(value, list) and old in value:
            value = [new if v == old else v for v in value]
        else:
            continue
        text = cardfile.set_field(text if text is not None else board.read_text(card), fd.key, value)
    return text


def _replay(board: Board, git: _Git, base: str, tip: str, prefer: dict, result: SyncResult, merge: bool) -> None:
    """Rebase (or merge) onto `tip`, resolving card conflicts field by field on every stop."""
    what = "git merge" if merge else "git rebase"
    if merge:
        subject = f"sync: merge {result.remote}/{result.branch}"
        proc = git.run("merge", "--no-ff", "--no-edit", "-m", subject, tip)
        mine_stage = 2
    else:
        proc = git.run("rebase", "--quiet", tip)
        mine_stage = 3  # while rebasing, "ours" is the remote side and "theirs" the local commit
    for _ in range(10_000):  # one round per stop; a stop is one local commit
        if not _in_progress(board, git):
            if proc.returncode != 0:
                break
            return
        unmerged = _unmerged(git)
        if not unmerged:
            break  # git stopped for another reason (e.g. an untracked file in the way)
        _checkpoint("merging")
        conflicts = _resolve(board, git, unmerged, mine_stage, prefer, base, tip, result)
        if conflicts:
            raise _Stopped(conflicts)
        _checkpoint("resolved")
        if merge:
            proc = git.run("commit", "--no-edit", "--quiet")
        elif git.ok("diff", "--cached", "--quiet"):
            proc = git.run("rebase", "--skip")  # the other side already has it all
        else:
            proc = git.run("rebase", "--continue")
    raise GitError(t("git.failed", command=what, detail=_detail(proc)))


def _in_progress(board: Board, git: _Git) -> bool:
    gd = board.git_dir
    return (gd / "rebase-merge").exists() or (gd / "rebase-apply").exists() or (gd / "MERGE_HEAD").exists()


def _restore(git: _Git, orig: str, tip: str) -> None:
    """Abort whatever is in progress and put the branch back at `orig` (nothing half merged)."""
    _abort(git.board, git)
    git.run("reset", "--quiet", "--keep", orig)
    _drop_leftovers(git, tip)
    git.board.invalidate()


def _unmerged(git: _Git) -> dict[str, dict[int, tuple[str, str]]]:
    """Unmerged index entries grouped by card ID (or by path for other files): {key: {stage: (path, blob)}}."""
    groups: dict[str, dict[int, tuple[str, str]]] = {}
    for entry in git.out("ls-files", "-u", "-z").split("\0"):
        if not entry:
            continue
        info, path = entry.split("\t", 1)
        _, sha, stage = info.split()
        rel = git.to_board(path)
        ref = card_ref(git.board, rel) if rel is not None else None
        key = ref[0] if ref else "\0" + path
        groups.setdefault(key, {})[int(stage)] = (path, sha)
    return groups


def _resolve(board: Board, git: _Git, unmerged: dict, mine_stage: int, prefer: dict, base: str, tip: str,
             result: SyncResult) -> list[Conflict]:
    """Resolve every card conflict that a field-by-field merge can; return the rest."""
    theirs_stage = 5 - mine_stage
    texts = git.blobs(sorted({sha for stages in unmerged.values() for _, sha in stages.values()}))
    conflicts: list[Conflict] = []
    for key, stages in unmerged.items():
        if key.startswith("\0"):
            conflicts.append(Conflict("", "file", path=key[1:]))
            continue
        side = lambda n: (git.to_board(stages[n][0]), texts[stages[n][1]]) if n in stages else None
        outcome, found = merge_card(board, key, side(1), side(mine_stage), side(theirs_stage), prefer.get(key),
                                    start="mine" if mine_stage == 2 else "theirs")  # the side already in HEAD
        if found:
            who = _who(git, base, tip, [p for p, _ in stages.values()])
            conflicts += [Conflict(key, c.kind, c.field, c.mine, c.theirs, who, c.path) for c in found]
            continue
        _write_resolution(git, [p for p, _ in stages.values()], outcome)
        done = result.picked_cards if key in prefer else result.merged_cards
        if key not in done:
            done.append(key)
    return conflicts


def _who(git: _Git, base: str, tip: str, paths: list[str]) -> str:
    """Who last changed these paths on the remote side."""
    names = git.out("log", "--format=%an", f"{base}..{tip}", "--", *paths).splitlines()
    return names[0] if names else ""


def _write_resolution(git: _Git, paths: list[str], outcome: tuple[str, str] | None) -> None:
    """Put the merged card in place of every conflicting version.

    Staged first, written second: if sync is stopped in between, every file it
    wrote is one git knows, and aborting the rebase or merge takes it away.
    """
    final = git.prefix + outcome[0] if outcome else None
    entries = [f"0 {_NO_OBJECT}\t{path}" for path in sorted(set(paths) | ({final} if final else set()))]
    if outcome:
        blob = git.out("hash-object", "-w", "--stdin", "--path", final, input=outcome[1])
        entries.append(f"100644 {blob}\t{final}")
    git.out("update-index", "-z", "--index-info", input="".join(e + "\0" for e in entries))
    for path in paths:
        if path != final:
            (git.top / path).unlink(missing_ok=True)
    if outcome:
        full = git.top / final
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(outcome[1], "utf-8", newline="")


# --- merging one card -----------------------------------------------------------------------

def merge_card(board: Board, card_id: str, base, mine, theirs, prefer: str | None = None, start: str = "mine"):
    """Three-way merge of one card, each side `(board path, text)` or None (deleted).

    Returns ((path, text) or None, conflicts). The folder (state) and each front
    matter key are merged on their own: a side that left a thing as it was takes
    the other side's change; two different changes are a conflict unless `prefer`
    ("mine"/"theirs") picks one.
    """
    if mine is None or theirs is None:
        return _merge_deleted(card_id, base, mine, theirs, prefer)
    conflicts: list[Conflict] = []
    path, clash = _pick(base[0] if base else _MISSING, mine[0], theirs[0], prefer)
    if clash:
        conflicts.append(Conflict(card_id, "state", mine=_state_label(board, mine[0]),
                                  theirs=_state_label(board, theirs[0]), path=mine[0]))
        path = mine[0]
    try:
        text, found = merge_card_text(board, card_id, base[1] if base else None, mine[1], theirs[1], prefer, start)
    except CardSyntaxError as exc:
        return None, conflicts + [Conflict(card_id, "file", mine=exc.message, path=mine[0])]
    return (path, text), conflicts + found


def _merge_deleted(card_id, base, mine, theirs, prefer):
    """One side deleted the card: accept that only when the other side left it unchanged."""
    kept = mine or theirs
    if kept is None or (base is not None and kept == base):
        return None, []
    if prefer:
        return (mine if prefer == "mine" else theirs), []
    return None, [Conflict(card_id, "deleted", mine="" if mine else "deleted", theirs="" if theirs else "deleted",
                           path=kept[0])]


def merge_card_text(board: Board, card_id: str, base: str | None, mine: str, theirs: str,
                    prefer: str | None = None, start: str = "mine") -> tuple[str, list[Conflict]]:
    """Merge a card's text key by key and its body line by line; edits only the lines that change.

    The result is the `start` side's text with the other side's changes applied.
    """
    if start == "theirs":
        flipped = {"mine": "theirs", "theirs": "mine"}.get(prefer or "")
        text, found = _merge_text(board, card_id, base, theirs, mine, flipped, remote="mine")
        return text, [replace(c, mine=c.theirs, theirs=c.mine) for c in found]
    return _merge_text(board, card_id, base, mine, theirs, prefer, remote="theirs")


def _merge_text(board: Board, card_id: str, base: str | None, mine: str, theirs: str, prefer: str | None,
                remote: str) -> tuple[str, list[Conflict]]:
    """merge_card_text starting from `mine`; `remote` names the side the shared board has."""
    if mine == theirs or base == theirs:
        return mine, []
    if base == mine:
        return theirs, []
    pm, pt = cardfile.parse(mine), cardfile.parse(theirs)
    pb = cardfile.parse(base) if base is not None else cardfile.Parsed({}, "")
    text, conflicts = mine, []
    for key in list(pm.meta) + [k for k in pt.meta if k not in pm.meta]:
        m, th = pm.meta.get(key, _MISSING), pt.meta.get(key, _MISSING)
        value, clash = _pick(pb.meta.get(key, _MISSING), m, th, prefer)
        if clash:
            conflicts.append(Conflict(card_id, "field", key, _shown(board, card_id, key, m),
                                      _shown(board, card_id, key, th)))
        elif value is not m and value != m:
            text = cardfile.set_field(text, key, None if value is _MISSING else value)
    body, clash = _merge_body(pb.body, pm.body, pt.body, prefer, remote)
    if clash:
        conflicts.append(Conflict(card_id, "body"))
    elif body != pm.body:
        lay = cardfile.layout(text)
        text = lay.bom + "".join(lay.lines[:lay.fm_end + 1]) + body
    return text, conflicts


def _pick(base, mine, theirs, prefer):
    """(value, conflict?) of a three-way choice between two sides' versions of one thing."""
    if _same(mine, theirs) or _same(base, theirs):
        return mine, False
    if _same(base, mine):
        return theirs, False
    if prefer:
        return (mine if prefer == "mine" else theirs), False
    return mine, True


def _same(a, b) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return type(a) is type(b) and a == b


def _merge_body(base: str, mine: str, theirs: str, prefer: str | None, remote: str) -> tuple[str, bool]:
    """Bodies, line by line (see `merge_lines`); (merged body, clash left?)."""
    value, clash = _pick(base, mine, theirs, None)
    if not clash:
        return value, False
    lines, clash = merge_lines(base.split("\n"), mine.split("\n"), theirs.split("\n"), prefer, remote)
    return "\n".join(lines), clash


def merge_lines(base: list[str], mine: list[str], theirs: list[str], prefer: str | None = None,
                first: str = "theirs") -> tuple[list[str], bool]:
    """Three-way merge of lines; (merged lines, clash left?).

    Each side's changes are found against `base`; a place only one side changed
    takes that change, even right next to the other side's change (ticking two
    neighbouring checklist items is not a clash, unlike in git's merge). Where both
    sides changed the same lines differently, `prefer` ("mine"/"theirs") picks a
    side for those lines only: line by line when no side added or removed lines,
    and lines that both sides added at the same place are all kept (`first`'s
    first: the remote's, which the shared board already has). Without `prefer`
    such a place is a clash.
    """
    out: list[str] = []
    pos, clash = 0, False
    for start, end, ours, others in _clusters(_hunks(base, mine), _hunks(base, theirs)):
        out += base[pos:start]
        m, t_ = _patched(base, start, end, ours), _patched(base, start, end, others)
        if not others or m == t_:
            out += m
        elif not ours:
            out += t_
        else:
            lines, open_clash = _settle(base[start:end], m, t_, prefer, first)
            out += lines
            clash = clash or open_clash
        pos = end
    return out + base[pos:], clash


def _hunks(base: list[str], side: list[str]) -> list[tuple[int, int, list[str]]]:
    """(start, end, new lines) of each place where `side` differs from `base`."""
    matcher = difflib.SequenceMatcher(None, base, side, autojunk=False)
    return [(i1, i2, side[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def _touch(a: tuple, b: tuple) -> bool:
    """Whether two hunks of different sides change the same place of the base."""
    (s1, e1, _), (s2, e2, _) = a, b
    if s1 == e1 and s2 == e2:
        return s1 == s2  # two insertions: only at the same place
    if s1 == e1:
        return s2 < s1 < e2  # an insertion inside the other's change
    if s2 == e2:
        return s1 < s2 < e1
    return s1 < e2 and s2 < e1


def _clusters(mine: list[tuple], theirs: list[tuple]):
    """(start, end, mine's hunks, theirs' hunks) of each group of hunks that touch."""
    tagged = sorted([(h[0], h[1], 0, h) for h in mine] + [(h[0], h[1], 1, h) for h in theirs])
    groups: list[tuple[list, list]] = []
    for _, _, side, hunk in tagged:
        if groups and any(_touch(hunk, other) for other in groups[-1][1 - side]):
            groups[-1][side].append(hunk)
        else:
            group: tuple[list, list] = ([], [])
            group[side].append(hunk)
            groups.append(group)
    for ours, others in groups:
        hunks = ours + others
        yield min(h[0] for h in hunks), max(h[1] for h in hunks), ours, others


def _patched(base: list[str], start: int, end: int, hunks: list[tuple]) -> list[str]:
    """base[start:end] with one side's hunks (all inside that range) applied."""
    out, pos = [], start
    for s, e, lines in sorted(hunks, key=lambda h: (h[0], h[1])):
        out += base[pos:s] + lines
        pos = e
    return out + base[pos:end]


def _settle(base: list[str], mine: list[str], theirs: list[str], prefer: str | None,
            first: str) -> tuple[list[str], bool]:
    """One place both sides changed differently: (its lines, clash left?)."""
    if len(base) == len(mine) == len(theirs):
        picked = [_pick(b, m, th, prefer) for b, m, th in zip(base, mine, theirs)]
        return [v for v, _ in picked], any(c for _, c in picked)
    if not base and prefer:  # both added lines here: keep both
        if mine[:len(theirs)] == theirs:
            return mine, False
        if theirs[:len(mine)] == mine:
            return theirs, False
        return theirs + mine if first == "theirs" else mine + theirs, False
    if prefer:
        return (mine if prefer == "mine" else theirs), False
    return mine, True


def _state_label(board: Board, rel: str) -> str:
    ref = card_ref(board, rel)
    if not ref:
        return rel
    return board.config.types[ref[1]].state_label(ref[2])


def _shown(board: Board, card_id: str, key: str, value) -> str:
    """A value as people read it, for conflict messages."""
    from mdboard.core.fields import display

    if value is _MISSING or value is None:
        return t("teams.empty_value")
    ctype = board.config.type_for_prefix(card_id.split("-")[0])
    fd = ctype.fields.get(key) if ctype else None
    return (display(fd, value, board.config) if fd else "") or cardfile.render_value(value)


def conflict_message(board: Board, conflicts: list[Conflict]) -> str:
    """Which card, what each side did, and the commands that pick a side."""
    lines = [t("teams.conflict_head")]
    cards = []
    for c in conflicts:
        who = c.who or t("teams.someone")
        title = _title(board, c.card)
        if c.kind == "state":
            lines.append(t("teams.conflict_state", id=c.card, title=title, mine=c.mine, theirs=c.theirs, who=who))
        elif c.kind == "field":
            lines.append(t("teams.conflict_field", id=c.card, title=title, field=_field_label(board, c),
                           mine=c.mine, theirs=c.theirs, who=who))
        elif c.kind == "body":
            lines.append(t("teams.conflict_body", id=c.card, title=title, who=who))
        elif c.kind == "deleted":
            side = t("teams.you") if c.mine else who
            lines.append(t("teams.conflict_deleted", id=c.card, title=title, side=side))
        elif c.card:
            lines.append(t("teams.conflict_broken", id=c.card, path=c.path, problem=c.mine))
        else:
            lines.append(t("teams.conflict_file", path=c.path))
        if c.card and c.card not in cards and c.kind != "file":
            cards.append(c.card)
    lines.append(t("teams.conflict_restored"))
    if cards:
        ids = " ".join(cards)
        lines.append(t("teams.conflict_pick", ours=f"mdboard sync --ours {ids}", theirs=f"mdboard sync --theirs {ids}"))
    else:
        lines.append(t("teams.conflict_by_hand"))
    return "\n".join(lines)


def _title(board: Board, card_id: str) -> str:
    card = board.by_id().get(card_id)
    return card.title if card else card_id


def _field_label(board: Board, c: Conflict) -> str:
    ctype = board.config.type_for_prefix(c.card.split("-")[0])
    fd = ctype.fields.get(c.field) if ctype else None
    return parenthesized(fd.label, c.field) if fd and fd.label != c.field else c.field


# --- after integrating -----------------------------------------------------------------------

def _validate(board: Board, git: _Git, tip: str | None) -> tuple[list[Problem], list[Problem]]:
    """(errors in what this clone would push, errors others left): the first stop the push."""
    from mdboard.core.workflow import check_board

    board.invalidate()
    errors = [p for p in check_board(board) if p.level == "error"]
    if not errors:
        return [], []
    if tip is None:
        return errors, []
    pushed = {git.to_board(p) for p in git.out("diff", "--name-only", "-z", tip, "HEAD").split("\0") if p}
    if CONFIG_NAME in pushed:
        return errors, []
    return [p for p in errors if p.path in pushed], [p for p in errors if p.path not in pushed]


def incoming(board: Board, git: _Git, orig: str, tip: str | None) -> list[Incoming]:
    """What the commits in orig..tip did, one entry per card, in the order they first appear."""
    if tip is None or git.is_ancestor(tip, orig):
        return []
    fmt = "--format=%x1e%an%x1f%(trailers:key=Set,valueonly,separator=%x1f)"
    raw = git.out("log", "--reverse", "-M", "--name-status", fmt, f"{orig}..{tip}", "--", git.prefix or ".")
    events: dict[str, Incoming] = {}
    for chunk in raw.split("\x1e")[1:]:
        head, _, changes = chunk.partition("\n")
        who, *sets = head.split("\x1f")
        keys = [s.split("=", 1)[0].strip() for s in sets if s.strip()]
        for line in changes.splitlines():
            _record(board, git, events, line.split("\t"), who, keys)
    index = board.by_id()
    if any(ev.id not in index for ev in events.values()):  # an archived card's title, read only then
        index = {c.id: c for c in board.archived_cards(lazy=True)} | index
    out = []
    for ev in events.values():
        if ev.moved and ev.moved[0] == ev.moved[1]:
            ev.moved = None
        card = index.get(ev.id)
        ev.title = card.title if card else ev.id
        if ev.created or ev.deleted or ev.moved or ev.fields or ev.renumbered_from or ev.who:
            out.append(ev)
    return out


def _record(board: Board, git: _Git, events: dict, parts: list[str], who: str, keys: list[str]) -> None:
    """Fold one `--name-status` line of one commit into the per-card events."""
    if len(parts) < 2:
        return
    status = parts[0][:1]
    refs = [card_ref(board, r) if (r := git.to_board(p)) is not None else None for p in parts[1:]]
    new = refs[-1]
    if new is None or (status == "R" and refs[0] and refs[0][0] == new[0] and is_archived_path(git.to_board(parts[-1]))):
        return  # filed away in the archive: not something that happened to the card
    ev = events.setdefault(new[0], Incoming(new[0], new[1]))
    if who not in ev.who:
        ev.who.append(who)
    if status == "A":
        ev.created = True
    elif status == "D":
        ev.deleted = True
    elif status == "R" and refs[0]:
        old = refs[0]
        if old[0] != new[0]:
            ev.renumbered_from = old[0]
            before = events.pop(old[0], None)  # what happened to this card under its old ID
            if before is not None:
                ev.created = ev.created or before.created
                ev.who = before.who + [w for w in ev.who if w not in before.who]
        elif old[2] != new[2] and not ev.created:
            ev.moved = (ev.moved[0] if ev.moved else old[2], new[2])
    if status in "MR":
        ev.fields += [k for k in keys if k not in ev.fields]
