"""Changing the board: one lock, one redo journal, one git commit per change.

`apply_change` is the only way mdboard writes cards. Under the board lock it
1. writes a journal (the intended content of every path) and fsyncs it,
2. applies the files (atomic writes; a move is a rename),
3. commits exactly those paths through the git CLI (`mdboard.git.runner`),
4. removes the journal.
If the process dies anywhere in between, the next command that takes the lock
finds the journal and finishes the change, so a change is either absent or
complete - unless its card was edited by hand since (committed with plain git or
not: the journal notes what each path held before), which then stays as it is.
The lock is an flock, released by the kernel when a process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import re
import threading
import time
from pathlib import Path

from mdboard.core.digest import sha256
from mdboard.core.errors import GitError, LockBusy, MdboardError, Problem, UnsavedEdits, parenthesized
from mdboard.core.i18n import t
from mdboard.core.records import ValueRecord
from mdboard.core.store import SYNC_JOURNAL, Board, find_repo
from mdboard.core.fsutil import atomic_write

LOCK_TIMEOUT = float(os.environ.get("MDBOARD_LOCK_TIMEOUT", "30"))
STALE_TEMP_SECONDS = 600
INDEX_LOCK_WAIT = 1.0  # seconds to wait for a running git to release .git/index.lock


class Change(ValueRecord):
    """What one command does to the board, and how its commit reads: `files`, board-relative
    path -> new text (None: the path goes away); `author` (name, email); `renames`, new path
    -> old path (content untouched); `creates`, paths that must not exist yet (a new card);
    `hand_edits` True only for `save` (commit paths that differ from HEAD as they are). A
    plain record (`core.records`), equal and shown as the dataclass it was."""

    FIELDS = ("files", "subject", "trailers", "author", "renames", "creates", "hand_edits")

    def __init__(self, files: dict[str, str | None], subject: str, trailers: list[tuple[str, str]] | None = None,
                 author: tuple[str, str] | None = None, renames: dict[str, str] | None = None,
                 creates: list[str] | None = None, hand_edits: bool = False):
        self.files, self.subject = files, subject
        self.trailers = [] if trailers is None else trailers
        self.author = author
        self.renames = {} if renames is None else renames
        self.creates = [] if creates is None else creates
        self.hand_edits = hand_edits

    def message(self) -> str:
        lines = [_one_line(self.subject), ""] + [f"{k}: {_one_line(v)}" for k, v in self.trailers]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        return {"files": self.files, "subject": self.subject, "trailers": self.trailers,
                "author": list(self.author) if self.author else None, "renames": self.renames,
                "creates": self.creates, "hand_edits": self.hand_edits}

    @classmethod
    def from_json(cls, data: dict) -> "Change":
        return cls(data["files"], data["subject"], [tuple(x) for x in data["trailers"]],
                   tuple(data["author"]) if data.get("author") else None, data.get("renames") or {},
                   data.get("creates") or [], bool(data.get("hand_edits")))

    def new_paths(self) -> list[str]:
        """The paths this change brings into being: a move's new path, a new card's file."""
        return sorted(set(self.renames) | set(self.creates))


def _one_line(value) -> str:
    return " ".join(str(value).split())


# --- the lock -------------------------------------------------------------------------

@contextlib.contextmanager
def board_lock(board: Board, timeout: float | None = None):
    """Hold the board's lock; wait up to `timeout` seconds, then LockBusy. Inside a batch of
    this board on this thread (`batched`), the batch already holds it (and its journal is
    the batch's own: nothing to recover)."""
    if _batch_of(board) is not None:
        yield
        return
    path = board.state_dir / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # less the umask, like every file mdboard makes
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(t("git.lock_busy"))
                time.sleep(0.02)
        _sweep_state_temps(board.state_dir)
        recover(board)
        yield
    finally:
        os.close(fd)


# --- git ------------------------------------------------------------------------------

class GitRepo:
    """The repository holding a board, driven through the git CLI.

    Card changes run git as plain subprocesses through `mdboard.git.runner` (hooks and
    fsmonitor off): importing gitpython costs 70-100 ms, a third of the 0.3 s a `move`
    may take on a 10,000-card board, and its index API is 7x slower than `git commit`.
    Every git call mdboard makes for a change goes through `run`, so errors read the
    same everywhere.
    """

    def __init__(self, root: Path, git_dir: Path | None = None):
        self.root = Path(root)
        self.git_dir = git_dir
        self._identity: tuple[str, str] | None = None

    @classmethod
    def of(cls, board: Board) -> "GitRepo":
        return cls(board.root, board.git_dir)

    def run(self, *args: str, env: dict | None = None, input: str | bytes | None = None, check: bool = True) -> str:
        """Run `git ARGS` in the board folder; GitError with git's own words on failure."""
        from mdboard.git.runner import run_git

        proc = run_git(self.root, *args, input=input, env=env)
        if proc.returncode != 0 and check:
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
            raise GitError(_explained(detail) or t("git.failed", command="git " + " ".join(args[:2]),
                                                   detail=detail[-500:]))
        return proc.stdout.decode("utf-8", "replace").rstrip("\n") if proc.returncode == 0 else ""

    def run_bytes(self, *args: str, input: bytes | None = None) -> bytes:
        """Run `git ARGS` and return its output as bytes (object contents); GitError on failure."""
        from mdboard.git.runner import failure, run_git

        proc = run_git(self.root, *args, input=input)
        if proc.returncode != 0:
            raise failure(args, proc)
        return proc.stdout

    def repo_config(self):
        """The configuration git sees here (`runner.RepoConfig`, read once per process)."""
        from mdboard.git.runner import repo_config

        return repo_config(self.root)

    def common_dir(self) -> Path:
        """The folder holding objects and refs (a linked worktree's is the main `.git`)."""
        gd = self.git_dir
        if (gd / "commondir").is_file():
            return (gd / (gd / "commondir").read_text("utf-8", "replace").strip()).resolve()
        return gd

    def config(self, key: str) -> str:
        return self.run("config", "--get", key, check=False)

    def identity(self) -> tuple[str, str]:
        """(user.name, user.email) from git config (the runner's one read of it per process)."""
        if self._identity is None:
            from mdboard.git.runner import identity

            self._identity = identity(self.root)
        return self._identity

    def trouble(self) -> str | None:
        """Why committing now would be unsafe, or None.

        A lock file (index, HEAD, the branch) is given a moment to go away first.
        """
        gd = self.git_dir
        lock = _left_lock(self._lock_files())
        if lock is not None:
            return t("git.index_lock" if lock.name == "index.lock" else "git.ref_lock", path=lock)
        in_progress = any((gd / name).exists() for name in ("MERGE_HEAD", "rebase-merge", "rebase-apply"))
        if in_progress and (gd / "mdboard" / SYNC_JOURNAL).exists():  # the journal of a sync cut short
            return t("git.sync_unfinished")
        if (gd / "MERGE_HEAD").exists():
            return t("git.merging")
        if (gd / "rebase-merge").exists() or (gd / "rebase-apply").exists():
            return t("git.rebasing")
        if (gd / "CHERRY_PICK_HEAD").exists() or (gd / "REVERT_HEAD").exists():
            return t("git.cherry_picking")
        head = (gd / "HEAD").read_text("utf-8", "replace").strip() if (gd / "HEAD").exists() else ""
        if head and not head.startswith("ref:"):
            return t("git.detached")
        return None

    def _lock_files(self) -> list[Path]:
        """The lock files a commit needs free: the index, HEAD, the branch and packed-refs.

        A git killed while committing leaves one of them behind, and every later
        commit fails on it until someone deletes it.
        """
        gd = self.git_dir
        common = self.common_dir()  # a linked worktree keeps refs in the main .git
        head = (gd / "HEAD").read_text("utf-8", "replace").strip() if (gd / "HEAD").exists() else ""
        locks = [gd / "index.lock", gd / "HEAD.lock", common / "packed-refs.lock"]
        if head.startswith("ref: refs/"):
            locks.append(common / (head[5:] + ".lock"))
        return locks

    def ready(self, change: Change) -> dict:
        """Refuse (GitError) when committing `change` cannot work; else the commit's environment.

        Called before anything is written, so a refused change leaves no trace.
        """
        trouble = self.trouble()
        if trouble:
            raise GitError(trouble)
        from mdboard.git.runner import check_safe

        check_safe(self.root, "status", "update-index", "commit")  # no command of the repository's own runs
        return self._identity_env(change.author)

    def commit(self, change: Change, env: dict | None = None, snapshot=None) -> str:
        """Commit only the change's paths; a user's other staged work stays staged.

        The index entries of the paths are updated first (so a crash before the commit
        leaves them staged, and `recover` commits them), then the commit is built from the
        trees that hold the paths (`mdboard.git.commit`; `snapshot`: those trees as read
        before the files were written), or, where that cannot stand for `git commit` (the
        first commit, signed commits ...), by `git commit --only`.
        """
        paths = change_paths(change)
        env = self._identity_env(change.author) if env is None else env
        # update-index, not `add -A`: after a crash the old path of a move may be gone
        # from both the work tree and the index, which `git add` refuses as a pathspec.
        self.run("update-index", "--add", "--remove", "--", *paths)
        message = change.message()
        path_commit = self.path_commit()
        if path_commit is not None:
            from mdboard.git.commit import stripspace

            sha = path_commit.build(paths, stripspace(message), _one_line(change.subject), env, snapshot)
            if sha is not None:
                return sha
        args = ["commit", "--no-verify", "--quiet", "--allow-empty", "-F", "-"]
        self.run(*args, "--only", "--", *paths, env=env, input=message)
        return self.run("rev-parse", "HEAD")

    def path_commit(self):
        """The `mdboard.git.commit.PathCommit` of this board (paths under its folder in the
        repository's trees), or None outside a repository."""
        found = find_repo(self.root) if self.git_dir is not None else None
        if found is None:
            return None
        from mdboard.git.commit import PathCommit

        rel = os.path.relpath(self.root, found[0]).replace(os.sep, "/")
        at_top = GitRepo(found[0], self.git_dir)  # `hash-object --stdin-paths` reads paths from the top
        return PathCommit(at_top, "" if rel == "." else rel + "/")

    def unstage(self, paths: list[str]) -> None:
        """Put the index entries of `paths` back as they are in HEAD (after a failed commit)."""
        try:
            self.run("reset", "-q", "--", *paths)
        except (GitError, OSError):  # OSError: git could not be started (what the batch may be failing on)
            pass  # the work tree is already restored; a stale index entry shows as a change

    def _identity_env(self, author) -> dict:
        """The commit's identity: the author given (passed by environment, not `--author`,
        which git splits at the first "<"); the committer is git's own user, else the author.
        No identity at all is an error."""
        env = {}
        if author:
            name, email = git_identity(*author)
            env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
        own_name, own_email = self.identity()
        if own_name and own_email:
            return env
        if author:
            return {**env, "GIT_COMMITTER_NAME": env["GIT_AUTHOR_NAME"], "GIT_COMMITTER_EMAIL": env["GIT_AUTHOR_EMAIL"]}
        raise GitError(t("git.no_identity"))


_IDENT_SPECIAL = re.compile(r"[<>\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_LOCK_EXISTS = re.compile(r"Unable to create '([^']+\.lock)': File exists")


def git_identity(name: str, email: str) -> tuple[str, str]:
    """(name, email) as git may record them for an author or committer.

    git reads an identity as `name <email>`: a `<`, `>` or line break in a
    roster name would make part of the name the address (or end the header).
    Those characters become spaces in a name; an address holding one (or any
    space) is refused, since no mail system would deliver to it and a guess
    could name somebody else.
    """
    clean = " ".join(_IDENT_SPECIAL.sub(" ", str(name)).split()).strip(".,:;'\"\\ ")
    if _IDENT_SPECIAL.search(email) or any(c.isspace() for c in email) or not email.strip():
        raise GitError(t("git.bad_email", email=" ".join(_IDENT_SPECIAL.sub(" ", email).split()), name=clean))
    return clean or email.split("@")[0], email


def _explained(detail: str) -> str | None:
    """git's own words made readable where we know what they mean (a lock left behind)."""
    m = _LOCK_EXISTS.search(detail)
    if m:
        path = Path(m.group(1))
        return t("git.index_lock" if path.name == "index.lock" else "git.ref_lock", path=path)
    return None


def _left_lock(locks: list[Path]) -> Path | None:
    """The first lock file still there after a moment's wait, else None.

    A git command that is running right now (an editor's, or the git child of a
    killed mdboard) holds its locks for milliseconds; one left by a crashed git stays.
    """
    deadline = time.monotonic() + INDEX_LOCK_WAIT
    while True:
        left = next((p for p in locks if p.exists()), None)
        if left is None or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def user_identity(board: Board) -> tuple[str, str]:
    """(name, email) from git config, or ("", "") outside a repository / when unset."""
    if board.git_dir is None:
        return "", ""
    return GitRepo.of(board).identity()


# --- applying a change ------------------------------------------------------------------

def commits_enabled(board: Board, no_commit: bool = False) -> bool:
    return not no_commit and board.config.commit and board.git_dir is not None


def change_paths(change: Change) -> list[str]:
    """Every board-relative path a change touches (a move's old and new path)."""
    return sorted(set(change.files) | set(change.renames.values()))


def apply_change(board: Board, change: Change, commit: bool = True) -> str | None:
    """Write the change's files and commit them; returns the commit id (None if not committed).

    The caller holds `board_lock`. Everything that can be refused (paths outside
    the board, a file already where the change means to create one, git in the
    middle of a merge, no identity, hand edits git has not recorded in a path the
    change commits) is refused before the first byte is written; if the commit
    itself fails, the files are put back.
    """
    for rel in change_paths(change):
        board.check_inside(rel)
    for rel in change.new_paths():
        if os.path.lexists(board.root / rel):
            raise MdboardError(parenthesized(t("git.path_taken", path=rel), t("git.hint_path_taken")))
    batch = _batch_of(board) if commit else None
    if batch is not None:
        sha = batch.add(change)
        if sha is not None:
            return sha
    repo = GitRepo.of(board) if commit else None
    env = repo.ready(change) if repo else None
    snapshot = None
    if repo:
        path_commit = repo.path_commit()
        snapshot = path_commit.read(change_paths(change)) if path_commit else None
        old_paths = [rel for rel in change_paths(change) if rel not in change.new_paths()]
        if not change.hand_edits and not (snapshot and path_commit.clean(snapshot, old_paths)):
            refuse_unsaved(board, old_paths)
    before = _current_bytes(board, change)
    journal = board.state_dir / "journal.json"
    with naming_failures(journal):
        atomic_write(journal, json.dumps({"change": change.to_json(), "commit": bool(commit),
                                          "before": _digests(before), "head": snapshot.head if snapshot else None},
                                         ensure_ascii=False).encode("utf-8"))
    _apply_files(board, change)
    sha = None
    if repo:
        try:
            sha = repo.commit(change, env, snapshot)
        except GitError:
            _restore(board, before)
            repo.unstage(change_paths(change))
            journal.unlink()
            board.invalidate()
            raise
    journal.unlink()
    board.invalidate()
    return sha


def refuse_unsaved(board: Board, paths: list[str]) -> None:
    """UnsavedEdits when any of `paths` differs from git's HEAD (edited, staged, or a
    file git does not know): a commit of those paths would carry edits nobody checked.

    Each path is named with what to do: `mdboard save ID` checks and commits the hand
    edit, or `git restore` throws it away. No repository: nothing to refuse.
    """
    if board.git_dir is None or not paths:
        return
    repo = GitRepo.of(board)
    status = repo.run("--no-optional-locks", "--literal-pathspecs", "status", "--porcelain", "-z",
                      "--untracked-files=all", "--no-renames", "--", *paths)
    problems = []
    for entry in filter(None, status.split("\0")):
        code, rel = entry[:2], entry[3:]
        card_id = Path(rel).stem
        if code in ("??", "A ", "AM"):
            problems.append(Problem(rel, "", t("git.unsaved_new"), t("git.hint_unsaved_new", id=card_id)))
        elif "D" not in code and (" " in code or _differs_from_head(repo, rel)):
            problems.append(Problem(rel, "", t("git.unsaved_edit"),
                                    t("git.hint_unsaved_edit", id=card_id, path=rel)))
    if problems:
        raise UnsavedEdits(t("git.unsaved"), problems)


def _differs_from_head(repo: GitRepo, rel: str) -> bool:
    """Whether the file differs from HEAD (staged and then changed again: maybe back)."""
    return bool(repo.run("--no-optional-locks", "--literal-pathspecs", "diff", "--name-only", "HEAD", "--", rel))


def _current_bytes(board: Board, change: Change) -> dict[str, bytes | None]:
    """The bytes each path of the change holds now (None: absent), to undo a failed commit."""
    out = {}
    for rel in change_paths(change):
        try:
            out[rel] = (board.root / rel).read_bytes()
        except FileNotFoundError:
            out[rel] = None
    return out


def _digests(before: dict[str, bytes | None]) -> dict[str, str | None]:
    """What each path held before a change (a digest; None: absent), for its journal: a replay
    tells the bytes it left from an edit made after it (`_edited_since`)."""
    return {rel: None if data is None else sha256(data).hexdigest() for rel, data in before.items()}


def _restore(board: Board, before: dict[str, bytes | None]) -> None:
    """Put every path back to the bytes it held before the change."""
    for rel, data in before.items():
        path = board.root / rel
        if data is None:
            if path.exists():
                path.unlink()
        elif _digest_file(path) != sha256(data).hexdigest():
            atomic_write(path, data)


def _apply_files(board: Board, change: Change) -> None:
    """Make the work tree match the change; safe to run again after a crash."""
    root = board.root
    for new, old in change.renames.items():
        if (root / old).exists() and not (root / new).exists():
            with naming_failures(root / new):
                (root / new).parent.mkdir(parents=True, exist_ok=True)
                os.rename(root / old, root / new)
    for rel, text in change.files.items():
        path = root / rel
        with naming_failures(path):
            if text is None:
                if path.exists() or path.is_symlink():
                    path.unlink()
            elif _digest_file(path) != _digest(text):  # bytes already there (a saved hand edit) stay untouched
                atomic_write(path, text.encode("utf-8"))


@contextlib.contextmanager
def naming_failures(path: Path):
    """An OSError raised while writing `path` names it.

    A full disk fails the write itself (ENOSPC), and Python's error then carries
    no file name: the message would read "cannot write : No space left on device".
    """
    try:
        yield
    except OSError as exc:
        if not exc.filename:
            exc.filename = str(path)
        raise


def _digest(text: str) -> str:
    return sha256(text.encode("utf-8")).hexdigest()


def _digest_file(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# --- several changes, one branch move -------------------------------------------------------

_ACTIVE = threading.local()  # the batch this thread is filling, if any


def _batch_of(board: Board) -> "Batch | None":
    """The batch this thread is filling for this board's folder, or None."""
    batch = getattr(_ACTIVE, "batch", None)
    return batch if batch is not None and batch.board.root == board.root else None


def pending_tip(board: Board) -> str | None:
    """The last commit of the batch this thread is filling for the board (its changes are in
    the work tree, its commits not yet on the branch), or None: what `git log` should start
    from to see them."""
    batch = _batch_of(board)
    return batch.tip if batch is not None else None


@contextlib.contextmanager
def batched(board: Board):
    """Let the changes applied on this thread meanwhile share one branch move: each is still
    its own commit (its author, its message), chained on the one before; the index and the
    branch are updated once, at the end (`Batch.flush`). Holds the board's lock throughout.
    Yields the Batch (`lost`: the commits that could not be recorded, and why), or None
    when the lock cannot be had or the board cannot commit - the changes then go one by one."""
    if board.git_dir is None or not board.config.commit:
        yield None
        return
    try:
        lock = board_lock(board)
        lock.__enter__()
    except MdboardError:
        yield None
        return
    batch = Batch(board)
    _ACTIVE.batch = batch
    try:
        yield batch
    finally:
        _ACTIVE.batch = None
        try:
            batch.flush()
        finally:
            lock.__exit__(None, None, None)


class Batch:
    """Changes committed one after another on a pending tip (loose objects, as a single
    change's are), the work tree written as each goes, recorded by one `update-index` and
    one `update-ref HEAD TIP BASE` (refused if HEAD moved meanwhile). The journal holds the
    batch's changes in order, so a process killed anywhere leaves them to be replayed (and,
    once the branch has moved, only the index to be brought up to date)."""

    def __init__(self, board: Board):
        self.board = board
        self.repo = GitRepo.of(board)
        self.path_commit = self.repo.path_commit()
        self.base: str | None = None  # HEAD the pending commits are built on
        self.tip: str | None = None  # the last pending commit
        self.changes: list[Change] = []
        self.befores: list[dict[str, bytes | None]] = []
        self.shas: list[str] = []
        self.lost: dict[str, MdboardError] = {}  # commit id -> why it is not on the branch (put back)
        # why the batch stopped with its journal left for the next command to finish (files that
        # could not be put back): nothing more is taken, and the journal is never written over
        self.stuck: str | None = None
        self._journal_fd: int | None = None
        self._journal_size = 0  # the bytes of whole lines in the journal

    @property
    def journal(self) -> Path:
        return batch_journal(self.board)

    def add(self, change: Change) -> str | None:
        """Apply and commit `change` on the pending tip; its commit id, or None where it must
        go the single way (`apply_change` goes on: what is pending is recorded first).
        MdboardError `git.not_saved` once the batch is stuck (`_leave`): not begun."""
        self._refuse_if_stuck()
        if self.path_commit is None or change.hand_edits:
            self.flush()
            self._refuse_if_stuck()
            return None
        env = self.repo.ready(change)
        paths = change_paths(change)
        snapshot = self.path_commit.read(paths, at=self.tip or "HEAD")
        old_paths = [rel for rel in paths if rel not in change.new_paths()]
        if snapshot is None or not snapshot.plain or not self.path_commit.clean(snapshot, old_paths):
            self.flush()  # git says what the hand edit (or the attribute) makes of it, against HEAD
            self._refuse_if_stuck()
            return None
        self.base = self.base or snapshot.head
        before = _current_bytes(self.board, change)
        mark = self._journal_size  # the journal without this change
        try:  # cut off again where it failed (`_note`): nothing of the change is begun
            self._note({"change": change.to_json(), "before": _digests(before)})
        except OSError as exc:
            raise MdboardError(t("git.not_saved", error=_reason(exc))) from exc
        try:  # whatever stops it (git, the disk, an identity it cannot write), nothing stays half done
            _apply_files(self.board, change)
            sha = self.path_commit.make(paths, stripspace_message(change), env, snapshot)
        except OSError as exc:  # a full disk: put back, so "not saved" is what happened
            self._undo(before, mark, exc)
            raise MdboardError(t("git.not_saved", error=_reason(exc))) from exc
        except BaseException as exc:
            self._undo(before, mark, exc)
            raise
        if sha is None:  # a path git must store itself: the change goes the single way
            self._undo(before, mark, None)
            self.flush()
            self._refuse_if_stuck()
            return None
        self.changes.append(change)
        self.befores.append(before)
        self.shas.append(sha)
        self.tip = sha
        self.board.invalidate()
        return sha

    def _undo(self, before: dict[str, bytes | None], mark: int, cause: BaseException | None) -> None:
        """Put back the files of the change being added (not yet pending), then cut its line
        off the journal (`mark`: the journal's length before it), which needs no room on a
        full disk, as a line saying "undone" would. Where that fails (no room to put a file
        back), the journal keeps the change, with every pending one, for the next command to
        finish (`_leave`), and MdboardError says so: written, to be recorded."""
        try:
            _restore(self.board, before)
            self._cut_journal(mark)
        except OSError as cannot:
            self._leave(cannot)
            raise MdboardError(t("git.saved_not_recorded", error=self.stuck)) from (cause or cannot)
        finally:
            self.board.invalidate()
        if not self.changes:
            self.base = None

    def _leave(self, cannot: OSError) -> None:
        """Stop the batch with its journal as it is, for the next command to finish (`recover`
        replays every change in it, each its own commit): the files it holds could not be
        put back. Every pending commit is `lost`, told written and to be recorded; the branch
        is not moved, and no later change of the batch is taken (`_refuse_if_stuck`)."""
        self.stuck = _reason(cannot)
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
        self._journal_size = 0
        left = MdboardError(t("git.saved_not_recorded", error=self.stuck))
        self.lost.update({sha: left for sha in self.shas})
        self.base = self.tip = None
        self.changes, self.befores, self.shas = [], [], []

    def _refuse_if_stuck(self) -> None:
        """MdboardError `git.not_saved` for a change the batch cannot take any more (`_leave`)."""
        if self.stuck is not None:
            raise MdboardError(t("git.not_saved", error=self.stuck))

    def flush(self) -> None:
        """Record the pending commits: the index entries of their paths, then HEAD moved
        from the base to the tip. Failing that (git, a full disk), every pending change is
        undone and its commit is `lost` (`_put_back`), or, where even that fails, left to the
        journal (`_leave`)."""
        if self.stuck is not None:
            return  # the journal stays for the next command
        if not self.changes:
            self._close_journal()
            return
        paths = sorted({rel for change in self.changes for rel in change_paths(change)})
        try:
            self._note({"tip": self.tip})
            self.repo.run("update-index", "--add", "--remove", "--", *paths)
            self.repo.run("update-ref", "-m", "commit: " + _one_line(self.changes[-1].subject), "HEAD",
                          self.tip, self.base)
        except Exception as exc:  # git refused, the disk is full, git could not be started
            if not self._recorded():
                self._put_back(paths, exc)
        else:
            with contextlib.suppress(OSError):  # recorded: tidying up is no part of the answer
                self.path_commit.maintain()
        finally:
            self.board.invalidate()
            self.base = self.tip = None
            self.changes, self.befores, self.shas = [], [], []
        if self.stuck is None:
            self._close_journal()

    def _recorded(self) -> bool:
        """Whether HEAD is the tip after all (git said it failed once the branch had moved)."""
        try:
            return self.repo.run("rev-parse", "-q", "--verify", "HEAD", check=False) == self.tip
        except OSError:
            return False

    def _put_back(self, paths: list[str], exc: Exception) -> None:
        """Undo every pending change after the batch could not be recorded: its files put back,
        its index entries unstaged, its journal gone, its commit `lost` (why: git's words, or
        `git.not_saved`). Where the files cannot be put back (the disk is full), the journal
        stays for the next command to finish the changes, and their commits are `lost` as
        written and to be recorded (`_leave`) - what the person is told is what happens."""
        try:
            for before in reversed(self.befores):
                _restore(self.board, before)
        except OSError as cannot:
            self._leave(cannot)
            return
        self.repo.unstage(paths)
        why = exc if isinstance(exc, MdboardError) else MdboardError(t("git.not_saved", error=_reason(exc)))
        self.lost.update({sha: why for sha in self.shas})

    def _note(self, record: dict) -> None:
        """Append one line to the batch's journal and make it durable before going on: a
        change (before its files are written), the undoing of the last one, the tip (before
        the branch moves). Appending costs one fsync; the folder is synced once, when the
        journal is made. A line cut short by a crash never had its change begun; one cut
        short by a failed write (a full disk) is cut off again at once, so the next line
        starts on a line of its own and no whole line ever follows a broken one."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with naming_failures(self.journal):
            if self._journal_fd is None:  # made whole (file and folder synced), then appended to
                atomic_write(self.journal, line)
                self._journal_fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND)
                self._journal_size = len(line)
                return
            fd = self._journal_fd
            try:
                if os.fstat(fd).st_size != self._journal_size:  # a torn tail the last cut could not drop
                    os.ftruncate(fd, self._journal_size)
                view = memoryview(line)
                while view:  # a short write (a disk filling up) writes the rest or fails
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self._journal_size)
                raise
            self._journal_size += len(line)

    def _cut_journal(self, size: int) -> None:
        """Cut the journal back to its first `size` bytes (0: it goes)."""
        if not size:
            self._close_journal()
            return
        with naming_failures(self.journal):
            os.ftruncate(self._journal_fd, size)
            os.fsync(self._journal_fd)
        self._journal_size = size

    def _close_journal(self) -> None:
        """The batch is recorded (or put back): its journal goes."""
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
        self._journal_size = 0  # the next change's line starts a new journal: `add` marks it from 0
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()


def _reason(exc: Exception) -> str:
    """What went wrong, in the words a person can act on (the system's for a disk error)."""
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def batch_journal(board: Board) -> Path:
    """Where a batch keeps its journal (one JSON record a line, appended as it goes)."""
    return board.state_dir / "batch-journal.jsonl"


def _read_batch_journal(path: Path) -> tuple[list[Change], list[dict | None], str | None]:
    """The changes a batch's journal holds, in order, what their paths held before each
    (None: a journal written before that was noted), and its tip (None: the branch was not
    about to move). Every whole line counts: one cut short (a kill while it was written)
    never had its change begun and is passed over, and so is any other line that holds no
    change this version can replay (written over, made by another program): the changes
    after it are replayed all the same, and its card's file is left as it is, for
    `mdboard save` or `git restore`. (An undone change is cut off the journal; journals
    written before that say `undo` instead.)"""
    changes: list[Change | None] = []
    befores: list[dict | None] = []
    tip = None
    for line in path.read_bytes().split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if "change" in record:
            changes.append(_journaled(record["change"]))
            befores.append(_before_of(record.get("before")))
        elif record.get("undo") and changes:
            changes.pop()
            befores.pop()
        elif "tip" in record and isinstance(record["tip"], str):
            tip = record["tip"]
    kept = [i for i, change in enumerate(changes) if change is not None]
    return [changes[i] for i in kept], [befores[i] for i in kept], tip


def _journaled(data) -> Change | None:
    """The change a journal record holds, or None when it holds none this version can replay
    (a key missing, a value of the wrong kind): written over, or by some other program."""
    try:
        change = Change.from_json(data)
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    texts = lambda items: all(isinstance(x, str) for x in items)  # noqa: E731
    whole = (isinstance(change.files, dict) and texts(change.files)
             and all(v is None or isinstance(v, str) for v in change.files.values())
             and isinstance(change.subject, str)
             and all(len(pair) == 2 and texts(pair) for pair in change.trailers)
             and (change.author is None or (len(change.author) == 2 and texts(change.author)))
             and isinstance(change.renames, dict) and texts(change.renames) and texts(change.renames.values())
             and isinstance(change.creates, list) and texts(change.creates))
    return change if whole else None


def _before_of(data) -> dict | None:
    """What a journal record says its change's paths held before (path -> digest or None), or
    None where it says nothing readable (`_edited_since` then goes by git's status)."""
    if isinstance(data, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str))
                                      for k, v in data.items()):
        return data
    return None


def stripspace_message(change: Change) -> str:
    """The change's commit message as `git commit` keeps it."""
    from mdboard.git.commit import stripspace

    return stripspace(change.message())


def recover(board: Board) -> bool:
    """Finish a change (or a batch of them) that a killed process left half done; True if
    there was one."""
    journal = board.state_dir / "journal.json"
    if batch_journal(board).exists():
        journal = batch_journal(board)
        changes, befores, tip = _read_batch_journal(journal)
        data = {"commit": True, "tip": tip}
        if not changes:
            journal.unlink()  # no change of it was begun
            return False
    elif not journal.exists():
        return False
    else:
        try:
            data = json.loads(journal.read_bytes())
            change = _journaled(data["change"])
        except (ValueError, KeyError, TypeError):
            change = None
        if change is None:
            journal.unlink()  # written atomically, so a broken one never started its change
            return False
        changes, befores = [change], [_before_of(data.get("before"))]
    for change in changes:
        for rel in change_paths(change):
            board.check_inside(rel)
    repo = GitRepo.of(board) if data.get("commit") and board.git_dir is not None else None
    if repo:
        trouble = repo.trouble()
        if trouble:
            raise GitError(t("git.pending", subject=changes[-1].subject, trouble=trouble))
    head = repo.run("rev-parse", "-q", "--verify", "HEAD", check=False) if repo else ""
    if repo and data.get("tip") and head == data["tip"]:
        # the batch's branch move was done: its commits hold every change; the index may lag
        repo.run("update-index", "--add", "--remove", "--", *sorted({p for c in changes for p in change_paths(c)}))
        for change in changes:
            _sweep_card_temps(board, change)
    elif repo and data.get("tip") and _is_ancestor(repo, data["tip"], head):
        for change in changes:  # recorded, and committed on by hand since: the index went with those commits
            _sweep_card_temps(board, change)
    elif repo and isinstance(data.get("head"), str) and data["head"] and head and head != data["head"] and \
            _landed(repo, data["head"], head, changes[0]):
        _sweep_card_temps(board, changes[0])  # committed before the kill, committed on (or reverted) by hand since
    else:
        edited = _edited_since(board, repo, changes, befores) if repo else set()
        for change in changes:  # in order: a later change of the same card ends up on top
            if edited.intersection(change_paths(change)):
                continue  # edited by hand since the kill: the change stays undone, the edit stays
            _apply_files(board, change)
            _sweep_card_temps(board, change)
            if repo and repo.run("status", "--porcelain", "--", *change_paths(change)):
                repo.commit(change)
    journal.unlink()
    board.invalidate()
    return True


def _landed(repo: GitRepo, base: str, head: str, change: Change) -> bool:
    """Whether a single change's own commit was made on `base` (HEAD when its journal was
    written) before the process was killed: the first commit after `base` on the way to
    `head` has `base` for parent and the change's message. Replaying it again would undo
    what was done by hand since (a `git revert` of it)."""
    from mdboard.git.runner import run_git

    listed = run_git(repo.root, "rev-list", "--reverse", "--ancestry-path", f"{base}..{head}")
    first = listed.stdout.decode("ascii", "replace").split("\n", 1)[0].strip() if listed.returncode == 0 else ""
    if not first:
        return False
    shown = run_git(repo.root, "show", "-s", "--format=%P%n%B", first)
    if shown.returncode != 0:
        return False
    parents, _, message = shown.stdout.decode("utf-8", "replace").partition("\n")
    return parents.strip() == base and message.strip() == stripspace_message(change).strip()


def _is_ancestor(repo: GitRepo, commit: str, head: str) -> bool:
    """Whether `commit` is in `head`'s history (a batch recorded, then committed on by hand)."""
    from mdboard.git.runner import run_git

    return bool(head) and run_git(repo.root, "merge-base", "--is-ancestor", commit, head).returncode == 0


def _edited_since(board: Board, repo: GitRepo, changes: list[Change], befores: list[dict | None]) -> set[str]:
    """The paths of the journal's changes edited by hand after the process was killed: they
    hold bytes that neither a change writes nor any path of a change held before it - an
    edit, committed with plain git or not (a journal that does not say what the paths held
    before: bytes no change writes that differ from HEAD). Writing the journal's text over
    them, and committing it, would throw that edit away unseen."""
    written: dict[str, set] = {}
    known: dict[str, set] = {}  # what each path may hold without a hand edit: before, between, after
    told = set()  # the paths whose every change said what they held before
    for change, before in zip(changes, befores):
        for rel, text in change.files.items():
            digest = None if text is None else _digest(text)
            written.setdefault(rel, set()).add(digest)
            known.setdefault(rel, set()).add(digest)
        if isinstance(before, dict):
            for rel, digest in before.items():
                known.setdefault(rel, set()).add(digest)
            for new, old in change.renames.items():  # killed after the rename: the old bytes at the new path
                known.setdefault(new, set()).add(before.get(old))
    for rel in {p for c in changes for p in change_paths(c)}:
        if all(isinstance(b, dict) for c, b in zip(changes, befores) if rel in change_paths(c)):
            told.add(rel)
    edited = set()
    for rel in sorted({p for c in changes for p in change_paths(c)}):
        now = _digest_file(board.root / rel)
        if rel in told:
            if now not in known.get(rel, ()):
                edited.add(rel)
        elif now is not None and now not in written.get(rel, ()) and repo.run(
                "--no-optional-locks", "--literal-pathspecs", "status", "--porcelain", "--untracked-files=all",
                "--", rel):
            edited.add(rel)
    return edited


def _sweep_card_temps(board: Board, change: Change) -> None:
    """Remove the temporary files a killed atomic write of this change left beside its cards."""
    for rel in change_paths(change):
        path = board.root / rel
        for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _sweep_state_temps(state_dir: Path) -> None:
    """Remove temporary files in mdboard's private folder that no running command still writes.

    Journal temps are only written under the lock we hold, so any is stale; cache
    temps (written without the lock) only once they are old.
    """
    now = time.time()
    for tmp in state_dir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.name.startswith(".journal.json.") or now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                tmp.unlink()
