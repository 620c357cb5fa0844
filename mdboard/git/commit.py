"""Committing a change's few paths without `git commit` walking the whole index.

`git commit --only PATHS` reads the index, refreshes every entry (an lstat of each
tracked file), writes it, builds a second index from HEAD's whole tree, writes that,
and reads it back: at 100,000 cards (a 9.6 MB index) that is most of a `move`. A
change touches one to three cards, so the commit is built from the trees that hold
them instead:

1. `git cat-file --batch`: HEAD, the trees of the folders above the paths, and the
   index entry (`:0:PATH`) of each changed file that exists - the blob the caller's
   `update-index` has just made of it, as `git add` makes it (the same filters and
   line-ending rules), so no file is read and hashed twice;
2. the new trees are computed here (git's tree format, git's entry order) and
   stored as loose objects, as git stores them (`store_loose`), or - where the
   repository asks for more (shared permissions, fsync) - written with one
   `git mktree --batch`, which must name each tree as computed;
3. the commit object, written here as a loose object where git's identity and dates
   are plain to read (else `git commit-tree`: identity, dates and encoding as `git
   commit` takes them), and `git update-ref HEAD NEW OLD` (refused if HEAD moved meanwhile; the reflog says
   `commit: <subject>`, as `git commit` writes it);
4. `git maintenance run --auto` when `git commit` would have run it (loose objects
   or packs past git's own limits).

The caller has already updated the index entries of the paths (`update-index`), so
the index and the work tree end exactly as after `git commit --only`, and a user's
other staged work stays staged and out of the commit. Where this path cannot stand
for `git commit` - no commit yet, signed commits, a configured message clean-up or
encoding, a path git would store as a link or a submodule - `build` returns None and
the caller runs `git commit` as before.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zlib
from pathlib import Path

from mdboard.core.digest import sha1, sha256
from mdboard.core.records import ValueRecord


_TREE = "40000"
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")
# Settings under which `git commit` writes a commit this path would not write the same way.
_PORCELAIN_ONLY = ("commit.cleanup", "i18n.commitencoding", "core.commentchar")


# Entry and Snapshot are plain records (`core.records`), not dataclasses: every action
# imports this module, and a dataclass costs it ~0.5 ms to make at import.


class Entry(ValueRecord):
    """One entry of a tree: mode as git writes it (`100644`, `40000` ...), object id (hex)."""

    __slots__ = FIELDS = ("mode", "oid")

    def __init__(self, mode: str, oid: str):
        self.mode, self.oid = mode, oid

    @property
    def is_tree(self) -> bool:
        return self.mode == _TREE


def stripspace(message: str) -> str:
    """The message as `git commit -F` keeps it by default (clean-up `whitespace`): no
    trailing spaces on a line, no blank lines at the start or end, runs of blank lines
    made one, and a final line break."""
    lines = [line.rstrip() for line in message.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def parse_tree(data: bytes, raw_len: int) -> dict[str, Entry]:
    """A tree object's entries: name -> Entry (`<mode> <name>\\0<raw id>` each)."""
    entries, i = {}, 0
    while i < len(data):
        space = data.index(b" ", i)
        nul = data.index(b"\0", space)
        mode = data[i:space].decode("ascii")
        name = data[space + 1:nul].decode("utf-8", "surrogateescape")
        entries[name] = Entry(mode, data[nul + 1:nul + 1 + raw_len].hex())
        i = nul + 1 + raw_len
    return entries


def tree_bytes(entries: dict[str, Entry]) -> bytes:
    """A tree object's content, entries in git's order (a folder sorts as if its name ended in `/`)."""
    def key(item):
        name, entry = item
        return name.encode("utf-8", "surrogateescape") + (b"/" if entry.is_tree else b"")

    return b"".join(f"{entry.mode} ".encode("ascii") + name.encode("utf-8", "surrogateescape") + b"\0"
                    + bytes.fromhex(entry.oid) for name, entry in sorted(entries.items(), key=key))


def object_id(kind: str, data: bytes, hex_len: int) -> str:
    """The id git gives an object of `kind` with `data` (SHA-1, or SHA-256 in such a repository)."""
    digest = sha1 if hex_len == 40 else sha256
    return digest(f"{kind} {len(data)}\0".encode("ascii") + data).hexdigest()


def read_batch(output: bytes, names: list[str]) -> dict[str, tuple[str, str, bytes] | None]:
    """`git cat-file --batch` output for `names` -> name -> (id, type, content), None if missing."""
    out, i = {}, 0
    for name in names:
        end = output.index(b"\n", i)
        header = output[i:end].decode("utf-8", "surrogateescape")
        i = end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            out[name] = None
            continue
        oid, kind, size = header.rsplit(" ", 2)
        content = output[i:i + int(size)]
        i += int(size) + 1
        out[name] = (oid, kind, content)
    return out


class Snapshot(ValueRecord):
    """What a change is committed on top of, read before its files are written: the
    commit (`head`), the trees of the folders above its paths (folder -> entries, "" the
    root), and whether the files' blobs are their bytes (`plain`: no filters or line
    endings can apply, objects are written here)."""

    FIELDS = ("head", "hex_len", "trees", "folders", "plain")

    def __init__(self, head: str, hex_len: int, trees: dict[str, dict[str, Entry]], folders: list[str], plain: bool):
        self.head, self.hex_len, self.trees, self.folders, self.plain = head, hex_len, trees, folders, plain


class PathCommit:
    """Builds and records one commit of `paths` (repository-relative) on top of HEAD."""

    def __init__(self, repo, prefix: str):
        self.repo = repo  # a changes.GitRepo at the repository's top folder (paths are relative to it)
        self.prefix = prefix  # the board folder inside the repository ("" at its top), with a "/"
        self._config = None
        # what this object has read or made: commit id -> (its root tree's id, hex_len), tree id
        # -> entries (never changed in place: a tree's id names its content)
        self._roots: dict[str, tuple[str, int]] = {}
        self._trees: dict[str, dict[str, Entry]] = {}

    def config(self):
        """The repository's configuration, read once for this commit (or batch of commits):
        each check asks it several things, and each read looks at git's config files again."""
        if self._config is None:
            self._config = self.repo.repo_config()
        return self._config

    def read(self, board_paths: list[str], at: str = "HEAD") -> "Snapshot | None":
        """HEAD (or the commit `at`: a batch's pending tip) and the trees of the folders above
        `board_paths`, read with one `git cat-file --batch` before anything is written; None
        where this path cannot stand for `git commit` (then nothing is kept from it)."""
        if not self._plain_config() or not _utf8(self.prefix):
            return None
        paths = [self.prefix + p for p in board_paths]
        if any("\n" in p or p.startswith('"') for p in paths):
            return None  # names `cat-file --batch` would read otherwise
        folders = sorted({"/".join(p.split("/")[:depth]) for p in paths for depth in range(1, p.count("/") + 1)})
        known = self._known(at, folders)
        if known is not None:
            return known
        names = [at, f"{at}^{{tree}}"] + [f"{at}:{folder}" for folder in folders]
        found = self._cat(names)
        head, root = found[at], found[f"{at}^{{tree}}"]
        if head is None or head[1] != "commit" or root is None:
            return None  # no commit yet: `git commit` makes the first one
        hex_len = len(head[0])
        trees = {"": parse_tree(root[2], hex_len // 2)}
        for folder in folders:
            got = found[f"{at}:{folder}"]
            if got is not None and got[1] != "tree":
                return None  # a file where the change needs a folder: let git say what it thinks
            trees[folder] = parse_tree(got[2], hex_len // 2) if got else {}
            if got:
                self._trees[got[0]] = trees[folder]
        self._roots[head[0]] = (root[0], hex_len)
        self._trees[root[0]] = trees[""]
        return Snapshot(head[0], hex_len, trees, folders, self._plain_blobs(folders, trees))

    def _known(self, commit: str, folders: list[str]) -> "Snapshot | None":
        """The snapshot of `commit` from the trees this object has read or made already (a
        batch's pending tip: no `cat-file` for the second action on), or None."""
        if commit not in self._roots:
            return None
        root, hex_len = self._roots[commit]
        trees = {"": self._trees.get(root)}
        for folder in folders:  # parents first: sorted
            parent, _, name = folder.rpartition("/")
            above = trees.get(parent)
            entry = above.get(name) if above is not None else None
            if entry is None:
                trees[folder] = {} if above is not None else None
            elif not entry.is_tree:
                return None  # a file where the change needs a folder: `read` lets git say
            else:
                trees[folder] = self._trees.get(entry.oid)
        if any(entries is None for entries in trees.values()):
            return None
        return Snapshot(commit, hex_len, trees, folders, self._plain_blobs(folders, trees))

    def _cat(self, names: list[str]) -> dict:
        """`git cat-file --batch` of `names`: name -> (id, type, content), None if missing."""
        query = "".join(n + "\n" for n in names).encode("utf-8", "surrogateescape")
        return read_batch(self.repo.run_bytes("cat-file", "--batch", input=query), names)

    def clean(self, snapshot: "Snapshot", board_paths: list[str]) -> bool:
        """True when each of `board_paths` holds exactly what HEAD holds (bytes and mode), or
        is gone: `git status` would list none of them as changed (a path that is gone shows
        as deleted, which no action minds). Told from the bytes themselves where a file's
        blob is its bytes (`Snapshot.plain`); False where only git can tell (filters, line
        endings, a link, a file HEAD does not hold, a hand edit: git then says what it is)."""
        if not snapshot.plain:
            return False
        for rel in board_paths:
            path = self.prefix + rel
            folder, _, name = path.rpartition("/")
            full = self.repo.root / path
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue
            old = snapshot.trees.get(folder, {}).get(name)
            if not stat.S_ISREG(st.st_mode) or old is None or old.mode not in ("100644", "100755"):
                return False
            if old.mode != self._file_mode(st, old) or object_id("blob", full.read_bytes(),
                                                                  snapshot.hex_len) != old.oid:
                return False
        return True

    def build(self, board_paths: list[str], message: str, subject: str, env: dict,
              snapshot: "Snapshot | None" = None) -> str | None:
        """Commit the work tree's bytes of `board_paths` (absent: removed); the new commit's
        id, or None where `git commit` must do it (nothing has been recorded then).
        `snapshot` (`read`, taken before the files were written) saves reading the trees
        again; where it is `plain`, each file's blob is made from its bytes here."""
        snapshot = snapshot or self.read(board_paths)
        sha = self.make(board_paths, message, env, snapshot) if snapshot is not None else None
        if sha is None:
            return None
        self.repo.run("update-ref", "-m", "commit: " + subject, "HEAD", sha, snapshot.head)
        self.maintain()
        return sha

    def make(self, board_paths: list[str], message: str, env: dict, snapshot: "Snapshot") -> str | None:
        """Store the blobs (where `plain`), trees and commit object of `board_paths` on top
        of `snapshot.head`, and return the commit's id - without moving any branch (`build`
        moves HEAD; a batch moves it once for several commits); None where `git commit`
        must do it."""
        paths = [self.prefix + p for p in board_paths]
        trees = {folder: dict(entries) for folder, entries in snapshot.trees.items()}
        if snapshot.plain:
            placed = self._place_own_blobs(paths, trees, snapshot.hex_len)
        else:
            staged = self._cat([f":0:{p}" for p in paths])
            placed = self._place_blobs(paths, trees, {p: staged[f":0:{p}"] for p in paths})
        if not placed:
            return None
        new_trees = self._new_trees(trees, snapshot.folders, snapshot.hex_len)
        if not self._write_trees(new_trees):
            return None
        sha = self.write_commit(new_trees[-1][0], snapshot.head, message, env, snapshot.hex_len)
        self._trees.update((oid, entries) for oid, _, entries in new_trees)
        self._roots[sha] = (new_trees[-1][0], snapshot.hex_len)
        return sha

    def write_commit(self, tree: str, parent: str, message: str, env: dict, hex_len: int) -> str:
        """Store the commit object of `tree` on `parent` and return its id: written here as a
        loose object where git's identity and dates can be told without git (`_signature`;
        `git commit-tree` cost ~4 ms of CPU a team action, most of it starting git), else
        by `git commit-tree`, as `git commit` writes it."""
        import time

        folder = self._objects_folder()
        now = int(time.time())  # one moment for both, as git takes it
        author = _signature("AUTHOR", env, self.config(), now) if folder is not None else None
        committer = _signature("COMMITTER", env, self.config(), now) if author else None
        data = None
        if author is not None and committer is not None:
            try:  # a name configured in other bytes than UTF-8 is git's to write
                data = (f"tree {tree}\nparent {parent}\nauthor {author}\ncommitter {committer}\n\n{message}"
                        ).encode("utf-8")
            except UnicodeEncodeError:
                data = None
        if data is None:
            return self.repo.run("commit-tree", tree, "-p", parent, "-F", "-", env=env, input=message)
        oid = object_id("commit", data, hex_len)
        store_loose(folder, oid, "commit", data)
        return oid

    def _plain_blobs(self, folders: list[str], trees: dict) -> bool:
        """Whether `git add` stores each of these files as its bytes: no attributes anywhere
        they could come from (a `.gitattributes` above the files, in HEAD or on disk, the
        repository's info/attributes, the user's or the system's attributes file), no
        `core.autocrlf`, and objects written plainly (`_objects_folder`). Otherwise filters
        or line-ending rules may apply, and git makes the blobs."""
        config = self.config()
        if (config.last("core.autocrlf") or "false").lower() not in _FALSE or config.last("attr.tree") is not None:
            return False
        if self._objects_folder() is None:
            return False
        if any(".gitattributes" in trees.get(folder, {}) for folder in [""] + folders):
            return False
        places = [self.repo.root / folder / ".gitattributes" for folder in [""] + folders]
        places += [self.repo.common_dir() / "info" / "attributes", *_attribute_files(config)]
        return not any(os.path.lexists(place) for place in places)

    def _place_own_blobs(self, paths: list[str], trees: dict, hex_len: int) -> bool:
        """Store each file's bytes as its blob (plain repositories) and put it, or its
        absence, into the tree of its folder; False when a path is not a plain file."""
        folder_of_objects = self._objects_folder()
        for path, folder, name, full, st in self._present(paths, trees):
            old = trees[folder].get(name)
            if not stat.S_ISREG(st.st_mode) or (old is not None and old.mode not in ("100644", "100755")):
                return False
            data = full.read_bytes()
            oid = object_id("blob", data, hex_len)
            store_loose(folder_of_objects, oid, "blob", data)
            trees[folder][name] = Entry(self._file_mode(st, old), oid)
        return True

    def _present(self, paths: list[str], trees: dict):
        """(path, folder, name, full path, lstat) of each path on disk; a path that is gone
        is taken out of its folder's tree (the change deletes or moves it away)."""
        for path in paths:
            folder, _, name = path.rpartition("/")
            full = self.repo.root / path
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                trees[folder].pop(name, None)
                continue
            yield path, folder, name, full, st

    def _plain_config(self) -> bool:
        """Whether `git commit` would write the commit as this path does (no signing, no
        message clean-up or encoding of the repository's or the user's choosing)."""
        config = self.config()
        if (config.last("commit.gpgsign") or "").lower() in _TRUE:
            return False
        return all(config.last(key) is None for key in _PORCELAIN_ONLY)

    def _place_blobs(self, paths: list[str], trees: dict, staged: dict) -> bool:
        """Put each path's blob as the index holds it (`staged`: `cat-file` of `:0:PATH`),
        or its absence, into the tree of its folder; False when a path is something git
        would not store as a plain file, or the index does not hold it as one."""
        for path, folder, name, full, st in self._present(paths, trees):
            if not os.path.isfile(full) or os.path.islink(full):
                return False
            old = trees[folder].get(name)
            if old is not None and old.mode not in ("100644", "100755"):
                return False  # a link or a submodule in HEAD becoming a file: git commit's call
            entry = staged.get(path)
            if entry is None or entry[1] != "blob":
                return False  # not staged (or in conflict): git commit says what it makes of it
            trees[folder][name] = Entry(self._file_mode(st, old), entry[0])
        return True

    def _file_mode(self, st: os.stat_result, old: Entry | None) -> str:
        """The mode git records for the file: 100755 when it is executable, else 100644;
        with core.fileMode off, the mode git had for it (`old`, HEAD's entry: what
        `git commit --only` starts from), and 100644 for a file new to its folder."""
        if (self.config().last("core.filemode") or "true").lower() not in _TRUE:
            return old.mode if old is not None else "100644"
        return "100755" if st.st_mode & 0o100 else "100644"

    def _new_trees(self, trees: dict, folders: list[str], hex_len: int) -> list[tuple[str, bytes, dict]]:
        """(id, content, entries) of each changed tree, deepest first, the root last; an
        emptied folder disappears from its parent, as it would from the index."""
        out = []
        for folder in sorted(folders, key=lambda f: -f.count("/")) + [""]:
            entries = trees[folder]
            if folder:
                parent, _, name = folder.rpartition("/")
                if not entries:
                    trees[parent].pop(name, None)
                    continue
            data = tree_bytes(entries)
            oid = object_id("tree", data, hex_len)
            out.append((oid, data, entries))
            if folder:
                trees[parent][name] = Entry(_TREE, oid)
        return out

    def _write_trees(self, new_trees: list[tuple[str, bytes, dict]]) -> bool:
        """Store the new trees: as loose objects written here where the repository stores
        them plainly (`_objects_folder`; `git mktree` cost ~8 ms of CPU a team action, most
        of it starting git), else with one `git mktree --batch`; False unless git names each
        as computed."""
        if not all(_plain_name(name) for _, _, entries in new_trees for name in entries):
            return False  # names mktree would read quoted, or that are not UTF-8: git commit's call
        folder = self._objects_folder()
        if folder is not None:
            for oid, data, _ in new_trees:
                store_loose(folder, oid, "tree", data)
            return True
        return self._mktree(new_trees)

    def _objects_folder(self) -> Path | None:
        """Where loose objects go, when git would write them as `store_loose` does: no shared
        repository permissions, no fsync asked for, no second object format kept alongside."""
        config = self.config()
        if any(config.last(key) is not None for key in _OBJECT_SETTINGS):
            return None
        folder = self._objects()
        return folder if folder.is_dir() else None

    def _objects(self) -> Path:
        """The repository's object folder (a linked worktree's is the main one's)."""
        return Path(os.environ.get("GIT_OBJECT_DIRECTORY") or self.repo.common_dir() / "objects")

    def _mktree(self, new_trees: list[tuple[str, bytes, dict]]) -> bool:
        """Write the trees with one `git mktree --batch`; False unless git names each as computed."""
        batches = []
        for _, _, entries in new_trees:
            lines = []
            for name, entry in entries.items():
                kind = "tree" if entry.is_tree else "commit" if entry.mode == "160000" else "blob"
                lines.append(f"{entry.mode} {kind} {entry.oid}\t{name}")
            batches.append("\n".join(lines))
        made = self.repo.run("mktree", "--missing", "--batch", input="\n\n".join(batches) + "\n").split("\n")
        return made == [oid for oid, _, _ in new_trees]

    def maintain(self) -> None:
        """`git maintenance run --auto`, as `git commit` runs it, when git's own limits are
        passed (loose objects past gc.auto, packs past gc.autoPackLimit) or when
        maintenance is configured; otherwise it would find nothing to do."""
        config = self.config()
        if (config.last("maintenance.auto") or "true").lower() not in _TRUE:
            return
        if any(e.key.startswith("maintenance.") and e.key != "maintenance.auto" for e in config.entries) \
                or self._past_limits(config):
            self.repo.run("maintenance", "run", "--auto", "--quiet", check=False)

    def _past_limits(self, config) -> bool:
        """Whether git's `gc --auto` would find work: more loose objects than gc.auto allows
        (git's estimate: the files in objects/17 times 256) or more packs than
        gc.autoPackLimit. A limit written in a way not read here (`1k`): let git judge."""
        objects = self._objects()
        auto, limit = _int(config.last("gc.auto"), 6700), _int(config.last("gc.autopacklimit"), 50)
        if auto is None or limit is None:
            return True
        if auto <= 0:
            return False
        try:
            loose = sum(1 for name in os.listdir(objects / "17") if _LOOSE.fullmatch(name))
        except OSError:
            loose = 0
        if loose > (auto + 255) // 256:
            return True
        try:
            packs = [n for n in os.listdir(objects / "pack") if n.endswith(".pack")]
        except OSError:
            return False
        kept = sum(1 for n in packs if os.path.exists(objects / "pack" / (n[:-5] + ".keep")))
        return limit > 0 and len(packs) - kept > limit


_LOOSE = re.compile(r"[0-9a-f]{38}|[0-9a-f]{62}")
# Settings under which git writes loose objects otherwise than `store_loose` does.
_OBJECT_SETTINGS = ("core.sharedrepository", "core.fsync", "core.fsyncobjectfiles", "core.createobject",
                    "extensions.compatobjectformat")
_LOOSE_LEVEL = 1  # git's own zlib level for loose objects (core.looseCompression); the id does not depend on it


def store_loose(objects: Path, oid: str, kind: str, data: bytes) -> None:
    """Write one object as git writes a loose object: `<kind> <size>\\0<data>` deflated, in
    objects/<2 hex>/<rest>, read-only, first under a temporary name and then linked into
    place, so no reader ever sees half an object. One already there is only freshened (its
    time set to now, as git does, so that a `gc` does not prune it as old and unused)."""
    folder = objects / oid[:2]
    path = folder / oid[2:]
    if path.exists():
        with contextlib.suppress(OSError):
            os.utime(path)
        return
    folder.mkdir(exist_ok=True)
    body = zlib.compress(f"{kind} {len(data)}\0".encode("ascii") + data, _LOOSE_LEVEL)
    while True:
        tmp = folder / f"tmp_obj_{os.urandom(6).hex()}"  # as secrets.token_hex, without its imports
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # written meanwhile by someone else: the same bytes
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# Characters git strips from either end of a name or address (ident.c `crud`), and those it
# drops from inside one: a value holding any of them is left to git to write.
_CRUD = ".,:;<>\"\\'"
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
_RAW_DATE = re.compile(r"@?(\d+) ([+-]\d{4})")


def _signature(role: str, env: dict, config, now: int | None = None) -> str | None:
    """`NAME <EMAIL> SECONDS +ZZZZ` of the author or committer (`role`) as `git commit-tree`
    writes it: the name and address from the environment given, else the process's, else
    `author.*` / `committer.*`, else `user.*`; the date from GIT_<ROLE>_DATE (its ISO 8601
    or raw form) or now, in the local time zone. None where git would do more than read
    them (a value it cleans, no identity, a date in another form): then git writes it."""
    def value(key: str, setting: str) -> str | None:
        got = env.get(f"GIT_{role}_{key}", os.environ.get(f"GIT_{role}_{key}"))
        if got is None:
            got = config.last(f"{role.lower()}.{setting}") or config.last(f"user.{setting}")
        return got

    name, email = value("NAME", "name"), value("EMAIL", "email")
    if not name or not email or not all(_clean_ident(v) for v in (name, email)):
        return None
    date = _date(env.get(f"GIT_{role}_DATE", os.environ.get(f"GIT_{role}_DATE")), now)
    return f"{name} <{email}> {date}" if date else None


def _clean_ident(value: str) -> bool:
    """Whether git keeps the name or address exactly as it is (nothing to strip or drop)."""
    return (value == value.strip() and value[0] not in _CRUD and value[-1] not in _CRUD
            and not any(c in value for c in "<>\n") and all(ord(c) > 32 or c == " " for c in value))


def _date(text: str | None, now: int | None = None) -> str | None:
    """`SECONDS +ZZZZ` of a GIT_*_DATE (None: `now`, else this moment, in the local time
    zone); None for a form not read here."""
    import time

    if text is None:
        now = int(time.time()) if now is None else now
        return f"{now} {_zone(time.localtime(now).tm_gmtoff)}"
    text = text.strip()
    if _RAW_DATE.fullmatch(text):
        seconds, zone = _RAW_DATE.fullmatch(text).groups()
        # git reads a small number as another form, writes -0000 as +0000, and normalises
        # minutes past 59: those are left to it
        if int(seconds) < 100_000_000 or zone == "-0000" or int(zone[3:]) > 59:
            return None
        return f"{int(seconds)} {zone}"
    if _ISO_DATE.fullmatch(text):
        from datetime import datetime

        when = datetime.fromisoformat(text)
        return f"{int(when.timestamp())} {_zone(int(when.utcoffset().total_seconds()))}"
    return None


def _zone(offset: int) -> str:
    """`+0800` for an offset of 8 hours east of UTC."""
    sign, offset = ("-", -offset) if offset < 0 else ("+", offset)
    return f"{sign}{offset // 3600:02d}{offset // 60 % 60:02d}"


def _attribute_files(config) -> list[Path]:
    """The user's and the system's attributes files git reads (core.attributesFile, else
    the XDG one; the system's unless GIT_ATTR_NOSYSTEM)."""
    own = config.last("core.attributesfile")
    if own:
        files = [Path(os.path.expanduser(own))]
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        files = [Path(xdg) / "git" / "attributes"]
    if (os.environ.get("GIT_ATTR_NOSYSTEM") or "false").lower() in _FALSE:
        files += [Path("/etc/gitattributes"), Path("/usr/etc/gitattributes"), Path("/usr/local/etc/gitattributes")]
    return files


def _plain_name(name: str) -> bool:
    """Whether mktree reads the name as it is (not quoted) and it is UTF-8."""
    return "\n" not in name and "\t" not in name and not name.startswith('"') and _utf8(name)


def _utf8(name: str) -> bool:
    """Whether a tree entry's name is UTF-8 (a name git stored in other bytes is kept by git commit)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _int(value: str | None, default: int) -> int | None:
    """A whole-number setting (None: not a plain number)."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return None
