"""The board on disk: find it, list its cards, read them through a parse cache, write safely.

A card is `<type>/<state>/<ID>.md`. Reading every front matter costs ~80 µs a card,
so parsed cards are cached by (path, size, mtime) in the git folder (never in the
tracked tree); a warm listing costs little more than scanning the folders.
Writes go through a temporary file in the same folder, fsync and rename, so a card
is always either the old text or the new one.
"""

from __future__ import annotations

import io
import marshal
import os
import re
import stat
import sys
import time
from pathlib import Path

from mdboard.core import cache
from mdboard.core.config import CONFIG_NAME, BoardConfig, CardType, load_config
from mdboard.core.errors import BoardNotFound, CardNotFound, CardSyntaxError, MdboardError, Problem, parenthesized
from mdboard.core.fsutil import settled
from mdboard.core.i18n import get_language, set_language, t
from mdboard.core.records import ValueRecord
from mdboard.core.text import ID_RE, SURROGATE_RE, next_id, printable

CACHE_VERSION = 9  # 8: Card moved to mdboard.core.store (pickles name the class by module); 9: racy entries kept unstamped
_CARD_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9]*-[0-9]+")  # what a card file's name looks like, any case
MAX_CARD_BYTES = 2 * 1024 * 1024
SAVE_AFTER_MISSES = 64  # cards in the recent parse cache before the base file is rewritten
# An archive folder: a year inside a done state's folder, `<type>/<done state>/<year>/<ID>.md`
# (see domain/archive.py). Its cards keep their state; listings skip them unless asked.
ARCHIVE_YEAR_RE = re.compile(r"[12][0-9]{3}")
OUTPUT_DIR = "_site"
SYNC_JOURNAL = "sync.json"  # in the board's state folder while a sync is under way (git/sync.py)


class Card(ValueRecord):
    """One card as read from disk. `error` is set when the file cannot be parsed; `path` is
    relative to the board root, with forward slashes; `stamp` (size, mtime_ns, link) when
    read, neither compared nor shown - None where it cannot stand for the bytes read (a file
    read in the tick it was written in, `fsutil.settled`). A plain record (`core.records`), equal and shown as
    the dataclass it was: every command makes it, and making a dataclass at import cost
    each ~0.5 ms."""

    FIELDS = ("id", "type", "state", "path", "meta", "checklist", "error")  # compared and shown: not the stamp

    def __init__(self, id: str, type: str, state: str, path: str, meta: dict | None = None,
                 checklist: list | None = None, error: str = "", stamp: tuple | None = None):
        self.id, self.type, self.state, self.path = id, type, state, path
        self.meta = {} if meta is None else meta
        self.checklist = [] if checklist is None else checklist
        self.error, self.stamp = error, stamp

    def __eq__(self, other):  # as the dataclass compared: a tuple of the fields, same class only
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.id, self.type, self.state, self.path, self.meta, self.checklist, self.error) == \
            (other.id, other.type, other.state, other.path, other.meta, other.checklist, other.error)

    @property
    def title(self) -> str:
        value = self.meta.get("title")
        if value in (None, ""):
            return self.id
        text = str(value)
        return text if text.isprintable() else printable(" ".join(text.splitlines()))

    @property
    def owner(self) -> str | None:
        value = self.meta.get("owner")
        return value if isinstance(value, str) else None

    @property
    def due(self):
        return self.meta.get("due")

    @property
    def checklist_done(self) -> int:
        return sum(1 for done, _ in self.checklist if done)

    def to_dict(self) -> dict:
        data = {"id": self.id, "type": self.type, "state": self.state, "path": self.path,
                **{k: v for k, v in self.meta.items() if k not in ("id", "type", "state", "path")}}
        data["checklist"] = [{"done": d, "text": x} for d, x in self.checklist]
        if self.error:
            data["error"] = self.error
        return data


def find_root(start: str | os.PathLike | None = None, explicit: str | None = None) -> Path:
    """The board folder: `explicit` / MDBOARD_BOARD, else walk up to an mdboard.yaml."""
    explicit = explicit or os.environ.get("MDBOARD_BOARD")
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if (root / CONFIG_NAME).is_file():
            return root
        raise BoardNotFound(t("board.not_a_board", path=explicit))
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise BoardNotFound(t("board.not_found", path=here))


def find_repo(start: Path) -> tuple[Path, Path] | None:
    """(top folder, git folder) of the repository holding `start`, found on disk without
    starting git: a `.git` folder, or a `.git` file naming one (worktrees, submodules).
    None outside git. The one repository discovery every part of mdboard uses."""
    start = Path(start)
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return folder, dot
        if dot.is_file():
            text = dot.read_text("utf-8", "replace").strip()
            if text.startswith("gitdir:"):
                return folder, (folder / text[7:].strip()).resolve()
    return None


def find_git_dir(root: Path) -> Path | None:
    """The `.git` folder of the repository holding `root`, without starting git."""
    found = find_repo(root)
    return found[1] if found else None


class Board:
    """A board folder: its config and cards."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._config: BoardConfig | None = None
        self._cards: list[Card] | None = None
        self._names: list[tuple[str, str, str]] | None = None
        self._archived: list[Card] | None = None
        self._archived_names: list[tuple[str, str, str, str]] | None = None
        self._archive_folders: dict[str, tuple[int, list[str]]] | None = None
        self._archive_problems: list[Problem] = []
        self._folder_problems: list[Problem] | None = None  # from the last scan (None: none yet)
        # done state folder -> its archive folders, as the last listing of the type folders met them
        self._years_seen: dict[str, list[os.DirEntry]] | None = None
        self.git_dir = find_git_dir(self.root)

    @classmethod
    def open(cls, path: str | None = None, start: str | None = None) -> "Board":
        board = cls(find_root(start, path))
        set_language(board.config.language)
        return board

    def config_stamp(self) -> tuple:
        """(size, mtime_ns) of mdboard.yaml: what caches derived from the config are keyed by."""
        st = (self.root / CONFIG_NAME).stat()
        return st.st_size, st.st_mtime_ns

    @property
    def config(self) -> BoardConfig:
        if self._config is None:
            self._config = load_config(self.root, self.state_dir)
        return self._config

    @property
    def state_dir(self) -> Path:
        """Where mdboard keeps its private files (caches, lock, journal).

        Never in the board folder. In a repository they live in `.git/mdboard` (no
        clone or pull brings that in); a board outside any repository keeps them in
        the user's cache folder, since its folder may be shared or unpacked. Either
        way a cache is only trusted with this user's key (see `cache`).
        """
        if self.git_dir is None:
            import hashlib

            digest = hashlib.sha256(str(self.root.resolve()).encode("utf-8")).hexdigest()[:16]
            return cache.user_cache_folder() / digest
        base = self.git_dir / "mdboard"
        if self.git_dir and self.root != self.git_dir.parent:
            rel = os.path.relpath(self.root, self.git_dir.parent).replace(os.sep, "_")
            base = base / rel
        return base

    # --- reading ------------------------------------------------------------------

    def cards(self, lazy: bool = False, archived: bool = False) -> list[Card]:
        """Every card file under the type folders, parsed (through the cache).

        `lazy`: cards from the cache unpack their front matter and checklist only when
        read, for callers that read a few cards' fields (a site rebuild after one edit);
        reading every card that way costs ~10 ms more at 10,000 cards.
        `archived`: with the cards in archive folders too (after the others). Without it
        the archive folders are not even listed, so a board's finished years cost a
        warm `ls` or `check` nothing.
        """
        if self._cards is None:
            self._cards = self._scan(lazy)
        if not archived:
            return self._cards
        return self._cards + self.archived_cards(lazy)

    def archived_cards(self, lazy: bool = False) -> list[Card]:
        """The cards in archive folders (`<type>/<done state>/<year>/`), parsed through a
        parse cache of their own, so that reading them never slows the everyday scan."""
        if self._archived is None:
            cache = _ParseCache(self.state_dir / "parse-archive.cache", lazy)
            problems: list[Problem] = []
            self._archived = [cache.card(entry, rel, type_key, state)
                              for type_key, state, entry, rel in self._archive_entries(problems)]
            cache.save()
            self._archive_problems = sorted(problems, key=lambda p: p.path)
        return self._archived

    def _archive_entries(self, problems: list[Problem]):
        """(type, state, DirEntry, relative path) of each card file in an archive folder."""
        for ctype in self.config.types.values():
            for state in sorted(ctype.done_states()):
                for entry, rel in _archived_files(self.root, f"{ctype.key}/{state}", problems):
                    yield ctype.key, state, entry, rel

    def archived_names(self) -> list[tuple[str, str, str, str]]:
        """(type, state, card ID, relative path) of every archived card, from folder
        listings alone: the IDs in use (a new card never takes an archived card's ID)
        and the links that lead into the archive."""
        if self._archived_names is None:
            if self._archived is not None:
                self._archived_names = [(c.type, c.state, c.id, c.path) for c in self._archived]
            else:
                out: list[tuple[str, str, str, str]] = []
                for folder, (_, card_ids) in self.archive_folders().items():
                    type_key, state, _ = folder.split("/")
                    out += [(type_key, state, card_id, f"{folder}/{card_id}.md") for card_id in card_ids]
                self._archived_names = out
        return self._archived_names

    def archive_folders(self) -> dict[str, tuple[int, list[str]]]:
        """Each archive folder (`<type>/<state>/<year>`, board order, oldest year first) ->
        (its mtime_ns, the IDs of the card files in it, sorted by file name). A folder is
        listed again only when its mtime changed (adding or removing a file changes it): a
        year of 30,000 cards costs a `stat` instead of a listing. The cache keeps a folder's
        IDs as one text (loading 90,000 strings one by one cost 4 times as much). A listing
        made in the tick its folder last changed in is kept without its mtime (`settled`):
        a file added in that same tick would not change it, and `next_id` must see it."""
        if self._archive_folders is None:
            read_ns = time.time_ns()
            path = self.state_dir / "archive-names.cache"
            known = cache.load(path, "archive-names", 2)
            known = known if isinstance(known, dict) else {}
            listed, texts = {}, {}
            for ctype in self.config.types.values():
                for state in sorted(ctype.done_states()):
                    for year, mtime in self._archive_years(f"{ctype.key}/{state}"):
                        hit = known.get(year)
                        text = hit[1] if hit is not None and hit[0] == mtime else "\n".join(
                            name[:-3] for name in _archived_card_names(self.root / year))
                        texts[year] = (mtime if settled(mtime, read_ns) else None, text)
                        listed[year] = (mtime, text.split("\n") if text else [])
            if texts != known:
                cache.save(path, "archive-names", 2, texts)
            self._archive_folders = listed
        return self._archive_folders

    def _archive_years(self, state_rel: str) -> list[tuple[str, int]]:
        """(relative path, mtime_ns) of each archive folder of one done state folder, oldest
        first: from the entries the last scan met there (listing a state folder of thousands
        of cards again cost ~15 ms at 10,000 cards), else from a listing of its own."""
        seen = self._years_seen.get(state_rel) if self._years_seen is not None else None
        if seen is None:
            return _archive_years(self.root, state_rel)
        return sorted((f"{state_rel}/{e.name}", e.stat(follow_symlinks=False).st_mtime_ns) for e in seen)

    def invalidate(self) -> None:
        """Forget the cards read so far (they changed on disk)."""
        self._cards = None
        self._names = None
        self._archived = None
        self._archived_names = None
        self._archive_folders = None
        self._years_seen = None

    def reload_config(self) -> None:
        """Read mdboard.yaml again on next use (it changed on disk), and the cards with it."""
        self._config = None
        self.invalidate()

    def names(self) -> list[tuple[str, str, str]]:
        """(type, state folder, card ID) of every card file, from folder listings alone.

        No stat and no parsing: a change to one card needs the IDs in use (links,
        next free ID, WIP counts), not the other cards' contents.
        """
        if self._names is None:
            if self._cards is not None:
                self._names = [(c.type, c.state, c.id) for c in self._cards]
            else:
                problems: list[Problem] = []
                years: dict[str, list[os.DirEntry]] = {}
                self._names = [(type_key, state, entry.name[:-3]) for type_key, ctype in self.config.types.items()
                               for entry, state in _card_files(self.root, type_key, problems, ctype.done_states(),
                                                               years)]
                self._years_seen = years
        return self._names

    def id_types(self) -> dict[str, str]:
        """card ID -> type key, for judging links (archived cards included: a link to a
        finished card stays good after it is archived)."""
        if self._cards is not None:  # the scanned cards, without making their names first
            ids = {card.id: card.type for card in self._cards}
        else:
            ids = {card_id: type_key for type_key, _, card_id in self.names()}
        folders = self.archive_folders()
        if not folders:
            return ids
        archived: dict[str, str] = {}
        for folder, (_, card_ids) in folders.items():
            archived.update(dict.fromkeys(card_ids, folder.split("/", 1)[0]))
        archived.update(ids)  # a card outside the archive wins over an archived one of the same ID
        return archived

    def count_in(self, type_key: str, state: str) -> int:
        """How many cards sit in one state folder (for WIP limits): from `names()` when the
        board was listed, else from a listing of that folder alone."""
        if self._names is not None or not state:
            return sum(1 for key, st, _ in self.names() if key == type_key and st == state)
        folder = self.root / type_key / state
        if (self.root / type_key).is_symlink() or folder.is_symlink():
            return 0  # the scan does not enter it either
        try:
            return sum(1 for entry in os.scandir(folder) if _is_card_file(entry, "", []))
        except (FileNotFoundError, NotADirectoryError):
            return 0

    def find(self, card_id: str) -> Card:
        """One card by ID, parsed from its own file only (CardNotFound as `get`); an
        archived card is found too. Looked for by name in each folder (`paths_of`: a few
        `stat`s), not by listing the board, which a change forgets (10,000 cards: ~10 ms of
        each page read and each move on the team board)."""
        card_id = check_id(card_id)
        found = self.paths_of(card_id)
        if found:
            return self._read(card_id, *found[0])
        for type_key, state, found, rel in self.archived_names():
            if found == card_id:
                return self._read(card_id, type_key, state, rel)
        return self.get(card_id)

    def paths_of(self, card_id: str) -> list[tuple[str, str, str]]:
        """(type, state folder, relative path) of each card file named `card_id` outside the
        archive folders, in `names()` order, found by looking for the name in each folder
        `names()` would list (a few `stat`s, not a listing of every folder)."""
        if self._names is not None:
            return [(tk, st, f"{tk}/{st}/{cid}.md" if st else f"{tk}/{cid}.md")
                    for tk, st, cid in self._names if cid == card_id]
        file_name = card_id + ".md"
        out = []
        for type_key in self.config.types:
            type_dir = self.root / type_key
            if type_dir.is_symlink():
                continue
            try:
                entries = list(os.scandir(type_dir))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if _utf8_name(name) and name.isprintable() and os.path.lexists(os.path.join(entry.path, file_name)):
                        out.append((type_key, name, f"{type_key}/{name}/{file_name}"))
                elif name == file_name and not (entry.is_symlink() and entry.is_dir()):
                    out.append((type_key, "", f"{type_key}/{file_name}"))
        return out

    def read_card(self, type_key: str, state: str, rel: str, cached: bool = False) -> Card:
        """The card file at `rel` (a path from `paths_of`), parsed from its own file only.

        `cached`: from the parse cache when it holds the file as it is now (same size, mtime
        and kind, the test a listing trusts; or, for a card the cache keeps unstamped or
        that changed since, the same front matter text), else parsed. For a move, which
        reads only the card's front matter: the YAML parser costs a command ~25 ms to
        import, the cache's packed part ~1 ms to load (~17 ms at 100,000 cards). A card
        whose front matter is plain lines is read from its file first, without either."""
        card_id = rel.rsplit("/", 1)[-1][:-3]
        if cached:
            card = self._read_plain(card_id, type_key, state, rel)
            if card is not None:
                return card
            try:
                st = os.lstat(self.root / rel)
            except OSError:
                st = None
            if st is not None:
                stamp = (st.st_size, st.st_mtime_ns, stat.S_ISLNK(st.st_mode))
                card = _ParseCache(self.state_dir / "parse.cache", lazy=True).current(
                    self.root / rel, rel, card_id, type_key, state, stamp)
                if card is not None:
                    return card
        return self._read(card_id, type_key, state, rel)

    def _read_plain(self, card_id: str, type_key: str, state: str, rel: str) -> Card | None:
        """The card at `rel` read from its file without PyYAML, when its front matter is plain
        lines (`cardfile.quick_mapping`: the mapping PyYAML would read); else None."""
        from mdboard.core.cardfile import checklist, quick_mapping, split

        try:
            front, _, body = split(decode_card(read_card_bytes(self.root / rel)))
        except (CardSyntaxError, OSError):
            return None  # `_read` reports it
        meta = quick_mapping(front)
        return None if meta is None else Card(card_id, type_key, state, rel, meta, checklist(body))

    def _read(self, card_id: str, type_key: str, state: str, rel: str) -> Card:
        meta, checklist, error = parse_file(self.root / rel)
        return Card(card_id, type_key, state, rel, meta, checklist, error)

    def scan_problems(self) -> list[Problem]:
        """What is on disk but cannot be read as a card, as problems for `check` and the site:
        folders the scan refused to enter (symbolic links), files that look like cards but
        are not named like one, and folders of cards that no type claims.

        The folders' problems are those of the last scan (a board whose cards were only
        forgotten since, by `invalidate`, is not scanned again for them).
        """
        if self._folder_problems is None:
            self.cards()
        return (list(self._folder_problems or ()) + list(self._archive_problems)
                + stray_problems(self.root, self.config))

    def check_inside(self, rel: str) -> Path:
        """The path of board-relative `rel`; MdboardError if writing there would leave the board.

        Card paths are built from checked names, but a type or state folder (or
        the card itself) can be a symbolic link to somewhere else.
        """
        path = self.root / rel
        root = self.root.resolve()
        folder = path.parent.resolve()
        if (folder != root and root not in folder.parents) or path.is_symlink():
            raise MdboardError(t("board.outside", path=rel))
        return path

    def _scan(self, lazy: bool = False) -> list[Card]:
        """Every card file of the board, through the parse cache. (How the process collects
        garbage meanwhile is decided by the program, `mdboard.cli.main.run`, not here.)"""
        cache = _ParseCache(self.state_dir / "parse.cache", lazy)
        cards = []
        problems: list[Problem] = []
        years: dict[str, list[os.DirEntry]] = {}
        for ctype in self.config.types.values():
            for entry, state in _card_files(self.root, ctype.key, problems, ctype.done_states(), years):
                rel = f"{ctype.key}/{state}/{entry.name}" if state else f"{ctype.key}/{entry.name}"
                cards.append(cache.card(entry, rel, ctype.key, state))
        cache.save()
        self._folder_problems = sorted(problems, key=lambda p: p.path)
        self._years_seen = years
        return cards

    def by_id(self) -> dict[str, Card]:
        index: dict[str, Card] = {}
        for card in self.cards():
            index.setdefault(card.id, card)
        return index

    def get(self, card_id: str) -> Card:
        """The card with this ID (archived or not), or CardNotFound with a suggestion."""
        card_id = check_id(card_id)
        card = self.by_id().get(card_id)
        if card is None:
            card = next((self._read(found, type_key, state, rel)
                         for type_key, state, found, rel in self.archived_names() if found == card_id), None)
        if card is None:
            from mdboard.core.text import suggest

            raise CardNotFound(parenthesized(t("board.no_card", id=card_id), suggest(card_id, self.by_id())))
        return card

    def read_text(self, card: Card) -> str:
        """A card's text; CardSyntaxError (not UnicodeDecodeError) when it is not UTF-8."""
        return decode_card(read_card_bytes(self.root / card.path))

    def path_of(self, card: Card) -> Path:
        return self.root / card.path

    def type_of(self, card: Card) -> CardType:
        return self.config.types[card.type]

    def next_id(self, ctype: CardType) -> str:
        """The next free ID of a type: one more than the highest in use, archived or not."""
        archived = [card_id for folder, (_, card_ids) in self.archive_folders().items()
                    if folder.split("/", 1)[0] == ctype.key for card_id in card_ids]
        return next_id(ctype.prefix, [card_id for _, _, card_id in self.names()] + archived)

def check_id(card_id: str) -> str:
    """Normalise and check a card ID; refuse anything that is not `PREFIX-123`."""
    text = str(card_id).strip().upper()
    if not ID_RE.match(text):
        raise CardNotFound(t("board.bad_id", id=card_id))
    return text


def _card_files(root: Path, type_key: str, problems: list[Problem], done: frozenset = frozenset(),
                years: dict[str, list[os.DirEntry]] | None = None):
    """(DirEntry, state folder) for each `.md` in a type folder (state "" = loose file).

    The archive folders (a year inside one of the `done` states' folders) are passed
    over: `_archived_files` lists them when asked. Given `years`, each done state folder
    listed here gets its archive folders' entries there (`type/state` -> entries, maybe
    none), so that finding them needs no second listing of the folder.

    What cannot be a card is never passed over in silence: it becomes a problem for
    `check` and the site. Symbolically linked type or state folders are not entered
    (they may lead out of the board); names that are not UTF-8, `.MD` files and names
    with spaces or a line break after `.md` are not read as cards; a folder inside a
    state folder is not read either (cards sit directly in their state's folder).
    """
    type_dir = root / type_key
    if type_dir.is_symlink():
        problems.append(_symlink_folder(type_key))
        return
    try:
        entries = list(os.scandir(type_dir))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            rel = f"{type_key}/{name}"
            if not _utf8_name(name) or not name.isprintable():
                problems.append(Problem(shown_path(rel), "", t("board.folder_name_unreadable"),
                                        t("board.hint_rename_folder")))
                continue
            archive = name in done
            if archive and years is not None:
                found = years[rel] = []
            for sub in os.scandir(entry.path):
                sub_name = sub.name
                if sub_name.endswith(".md") and sub_name.isprintable() and not sub_name.startswith("."):
                    yield sub, name  # the common case, decided as `_is_card_file` decides it
                    continue
                if archive and _is_archive_folder(sub):
                    if years is not None:
                        found.append(sub)
                    continue
                if _is_card_file(sub, f"{rel}/{sub_name}", problems):
                    yield sub, name
        elif entry.is_symlink() and entry.is_dir():
            problems.append(_symlink_folder(f"{type_key}/{name}"))
        elif _is_card_file(entry, f"{type_key}/{name}", problems):
            yield entry, ""


def _is_archive_folder(entry: os.DirEntry) -> bool:
    """Whether a done state's entry is one of its archive folders (a year, a real folder)."""
    name = entry.name
    return len(name) == 4 and ARCHIVE_YEAR_RE.fullmatch(name) is not None and entry.is_dir(follow_symlinks=False)


def _archived_files(root: Path, state_rel: str, problems: list[Problem]):
    """(DirEntry, relative path) of each card file in the archive folders of one state
    folder, oldest year first. The same names are refused as in a state folder."""
    try:
        years = sorted((e for e in os.scandir(root / state_rel) if _is_archive_folder(e)), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for year in years:
        folder = f"{state_rel}/{year.name}"
        for entry in os.scandir(year.path):
            rel = f"{folder}/{entry.name}"
            if _is_card_file(entry, rel, problems):
                yield entry, rel


def _archive_years(root: Path, state_rel: str) -> list[tuple[str, int]]:
    """(relative path, mtime_ns) of each archive folder of one state folder, oldest first."""
    try:
        years = [e for e in os.scandir(root / state_rel) if _is_archive_folder(e)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((f"{state_rel}/{e.name}", e.stat(follow_symlinks=False).st_mtime_ns) for e in years)


def _archived_card_names(folder: Path) -> list[str]:
    """The names of the card files in one archive folder (the scan's rule, no problems)."""
    try:
        return sorted(e.name for e in os.scandir(folder) if _is_card_file(e, "", []))
    except OSError:
        return []


def card_path_parts(rel: str) -> tuple[str, str, str] | None:
    """(type folder, state folder, card ID) of a board-relative path shaped like a card
    file: `<type>/<ID>.md`, `<type>/<state>/<ID>.md` or, archived,
    `<type>/<state>/<year>/<ID>.md`; else None. Whether the folders are the board's
    types and states is for the caller to judge."""
    parts = rel.split("/")
    if not rel.endswith(".md") or not 2 <= len(parts) <= 4 or any(p.startswith(".") or not p for p in parts):
        return None
    if len(parts) == 4 and not ARCHIVE_YEAR_RE.fullmatch(parts[2]):
        return None
    return parts[0], parts[1] if len(parts) > 2 else "", parts[-1][:-3]


def is_archived_path(rel: str) -> bool:
    """Whether a board-relative card path lies in an archive folder."""
    return rel.count("/") == 3


def _is_card_file(entry: os.DirEntry, rel: str, problems: list[Problem]) -> bool:
    """Whether a state folder's entry is read as a card; a problem when it looks like one
    but cannot be (the common case, `SKU-0001.md`, costs three string tests)."""
    name = entry.name
    if name.startswith("."):
        return False
    if name.endswith(".md") and name.isprintable():
        return True
    looks_like_card = name.rstrip().lower().endswith(".md")
    if not _utf8_name(name):
        if looks_like_card or entry.is_dir(follow_symlinks=False):
            problems.append(Problem(shown_path(rel), "", t("board.name_not_utf8"),
                                    t("board.hint_rename", name=_clean_name(name))))
    elif looks_like_card and not name.isprintable():  # a line break, a control or invisible character
        problems.append(Problem(shown_path(rel), "", t("board.name_not_printable"),
                                t("board.hint_rename", name=_clean_name(name))))
    elif looks_like_card:  # SKU-0001.MD, "SKU-0001.md "
        problems.append(Problem(rel, "", t("board.bad_suffix"), t("board.hint_rename", name=_clean_name(name))))
    elif entry.is_dir(follow_symlinks=False) and _holds_markdown(entry.path):
        problems.append(Problem(rel, "", t("board.nested_folder"), t("board.hint_nested_folder")))
    return False


def _utf8_name(name: str) -> bool:
    """Whether a file name is valid UTF-8 (Python keeps other bytes as surrogates)."""
    return name.isascii() or not SURROGATE_RE().search(name)


def shown_path(rel: str) -> str:
    """A path as a message shows it: a line break as `\n`, a byte that is not UTF-8 as
    `\xff`, so the reader sees what is wrong with the name (and the terminal stays safe)."""
    if rel.isprintable():
        return rel
    out = []
    for char in rel:
        if SURROGATE_RE().match(char):
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable():
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def _clean_name(name: str) -> str:
    """What a file that looks like a card should be called: `SKU-0001.MD ` -> `SKU-0001.md`,
    without line breaks, invisible characters or bytes that are not UTF-8."""
    kept = "".join(c for c in name if c.isprintable() and not SURROGATE_RE().match(c))
    stem = kept.rstrip()
    stem = stem[:-3] if stem.lower().endswith(".md") else stem
    return stem.strip() + ".md"


def _holds_markdown(folder: str) -> bool:
    try:
        return any(e.name.lower().endswith(".md") for e in os.scandir(folder))
    except OSError:
        return False


def _symlink_folder(rel: str) -> Problem:
    return Problem(rel, "", t("board.symlink_folder"), t("board.hint_symlink_folder"))


MAX_STRAY_FOLDERS = 200  # subfolders looked into per folder no type claims: cards sit one level down


def stray_problems(root: Path, cfg: BoardConfig) -> list[Problem]:
    """Cards that no type can place: folders of card files that no type in mdboard.yaml
    claims (a type renamed or removed) and card files at the board's top level.

    Hidden folders and those starting with `_` (the site's output) are not looked into;
    only files named like a card ID count, so a `docs/` folder of notes is no problem.
    """
    out = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        name = entry.name
        if name.startswith((".", "_")) or name in cfg.types or entry.is_symlink():
            continue
        if entry.is_dir():
            prefixes = _card_prefixes(entry.path)
            if prefixes:
                out.append(Problem(printable(name), "", t("board.unclaimed_folder", count=sum(prefixes.values()),
                                                          folder=printable(name)),
                                   _unclaimed_hint(name, prefixes, cfg)))
        elif _looks_like_card(name):
            out.append(Problem(printable(name), "", t("board.card_at_top"),
                               t("board.hint_card_at_top", types=", ".join(cfg.types))))
    return out


def _looks_like_card(name: str) -> bool:
    stripped = name.rstrip()
    return stripped.lower().endswith(".md") and bool(_CARD_LIKE.fullmatch(stripped[:-3].strip()))


def _card_prefixes(folder: str) -> dict[str, int]:
    """ID prefix -> how many card files use it, in a folder and its subfolders (one level)."""
    counts: dict[str, int] = {}
    todo, looked = [folder], 0
    while todo and looked <= MAX_STRAY_FOLDERS:
        current = todo.pop()
        looked += 1
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if current == folder and entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            elif _looks_like_card(entry.name):
                prefix = entry.name.split("-", 1)[0].upper()
                counts[prefix] = counts.get(prefix, 0) + 1
    return counts


def _unclaimed_hint(folder: str, prefixes: dict[str, int], cfg: BoardConfig) -> str:
    """Rename the folder when a type uses the cards' prefix (the type was renamed), else add the type."""
    prefix = max(prefixes, key=prefixes.get)
    ctype = cfg.type_for_prefix(prefix)
    if ctype is not None:
        return t("board.hint_unclaimed_rename", folder=printable(folder), type=ctype.key, prefix=prefix)
    return t("board.hint_unclaimed_add", folder=printable(folder), types=", ".join(cfg.types))


def read_card_bytes(path: Path) -> bytes:
    """A card's bytes; refuses symlinks, files that are not regular files and files over
    MAX_CARD_BYTES."""
    with open_card(path) as fh:
        # read(n) allocates n bytes first: asking for the file's size (not the 2 MB limit)
        # makes reading 10,000 cards ~0.15 s cheaper. A file that grew meanwhile reads on.
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(size, MAX_CARD_BYTES) + 1)
        if len(data) > size:
            data += fh.read(MAX_CARD_BYTES + 1 - len(data))
    if len(data) > MAX_CARD_BYTES:
        raise CardSyntaxError(t("card.too_big", limit=MAX_CARD_BYTES // (1024 * 1024)))
    return data


def open_card(path) -> "io.BufferedReader":
    """A card file opened for reading; CardSyntaxError for a symlink or anything that is not
    a regular file.

    Opened without blocking and judged by what was opened: a named pipe (FIFO) where a
    card belongs would otherwise hang every command until something writes to it.
    """
    if os.path.islink(path):
        raise CardSyntaxError(t("card.symlink"))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CardSyntaxError(t("card.not_regular"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def decode_card(data: bytes) -> str:
    """A card's bytes as text; CardSyntaxError naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        from mdboard.core.mistakes import encoding_message

        raise CardSyntaxError(encoding_message(data, exc.start))


def parse_file(path: Path) -> tuple[dict, list, str]:
    """(meta, checklist, error) of one card file; errors become text, never exceptions."""
    return read_card(path)[0]


def read_card(path: Path, known: tuple | None = None) -> tuple[tuple[dict, list, str], bytes | None]:
    """((meta, checklist, error), front matter key) of one card file.

    The key is a hash of the front matter text (None when the file is broken). `known`
    is (key, meta) from an earlier read: when the front matter text is the same, that
    meta is used again and no YAML is read (an edit to the body, a ticked checklist item).
    """
    try:
        text = decode_card(read_card_bytes(path))
        from mdboard.core.cardfile import checklist, front_matter, split

        front, first_line, body = split(text)
        key = _front_key(front)
        if known is not None and known[0] == key:
            meta = known[1]
        else:
            meta = front_matter(front, first_line)
        return (meta, checklist(body), ""), key
    except CardSyntaxError as exc:
        return ({}, [], exc.message), None
    except OSError as exc:
        return ({}, [], t("card.unreadable", error=exc.strerror or str(exc))), None


def _front_key(front: str) -> bytes:
    import hashlib

    return hashlib.blake2b(front.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _cache_version() -> tuple[int, str]:
    """Cached errors are sentences in the board's language: a cache is only good for one."""
    return CACHE_VERSION, get_language()


class _CachedCard(Card):
    """A card from the parse cache whose front matter and checklist are unpacked when
    first read (`Board.cards(lazy=True)`).

    Unpacking 10,000 cards' front matter costs ~30 ms; most commands read it all, but
    a site rebuild after one card changed reads a handful. The unpacked values become
    ordinary attributes, so later reads cost nothing extra.
    """

    def __init__(self, id, type, state, path, packed: bytes, error: str, stamp):
        self.__dict__.update(id=id, type=type, state=state, path=path, error=error, stamp=stamp, _packed=packed)

    def __getattr__(self, name):  # only called for attributes not set yet: meta, checklist
        packed = self.__dict__.get("_packed")
        if name in ("meta", "checklist") and packed is not None:
            # set before the packed bytes go: a second reader meanwhile finds one or the other
            self.meta, self.checklist = _unpacked(packed)
            self.__dict__.pop("_packed", None)
            return self.__dict__[name]
        raise AttributeError(name)

    def __eq__(self, other):  # equal to a `Card` with the same fields, as dataclasses compare
        if not isinstance(other, Card):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _COMPARED)

    __hash__ = None


_COMPARED = Card.FIELDS  # Card's fields but the stamp


class _ParseCache:
    """Parsed cards keyed by relative path, valid while size and mtime are unchanged.

    Only a card whose mtime was safely older than its read (`fsutil.settled`) is kept with
    its stamp; one read in the tick it was written in is kept without (its front matter key
    still spares the YAML), so a same-size edit in that tick is never taken for the cached
    card - not by a listing, and not by a write that reads the card through the cache
    (`Board.read_card(cached=True)`: set, move).

    An entry is (stamp, parsed, error, front matter key), `parsed` being (meta,
    checklist), or the same packed with `marshal` (bytes) when the cache was read for
    `lazy` cards. A file whose stamp changed but whose front matter did not (the body
    was edited) keeps its meta.

    Two files: the base (every card) and a small "recent" file holding the cards
    parsed since the base was written. Rewriting the base costs ~0.1 s at 10,000
    cards, so a change to a few cards only rewrites the recent file; the base is
    rewritten once the recent one holds SAVE_AFTER_MISSES cards.

    The base holds every card twice, as the two parts of one cache file: parsed (~30 ms
    to load 10,000: what commands reading every card want), and packed one card at a
    time (~5 ms to load; a card costs ~3 µs more when read, see `_CachedCard`: what a
    site rebuild after one edit wants). A reader loads only the part it wants.
    """

    def __init__(self, path: Path, lazy: bool = False):
        self.path = path
        self.recent_path = path.with_name(path.stem + "-recent.cache")
        self.entries: dict = self._load(path, lazy)
        self.loaded = bool(self.entries)
        self.recent: dict = self._load(self.recent_path) if self.loaded else {}
        self.entries.update(self.recent)
        self.parsed: dict = {}
        self.seen: set = set()
        self.read_ns = time.time_ns()  # before any card is looked at: see `settled`

    @staticmethod
    def _load(path: Path, packed: bool = False) -> dict:
        """The entries of a cache file: parsed, or packed when asked (the base file has both)."""
        entries = cache.load(path, "parse", _cache_version(), 1 if packed else 0)
        return entries if isinstance(entries, dict) else {}

    def card(self, entry: os.DirEntry, rel: str, ctype: str, state: str) -> Card:
        self.seen.add(rel)
        card_id = entry.name[:-3]
        try:
            st = entry.stat(follow_symlinks=False)
            stamp = (st.st_size, st.st_mtime_ns, entry.is_symlink())
        except OSError:
            stamp = None
        hit = self.entries.get(rel)
        if hit is not None and stamp is not None and hit[0] == stamp:
            parsed = hit[1]
            if parsed.__class__ is bytes:
                return _CachedCard(card_id, ctype, state, rel, parsed, hit[2], stamp)
            return Card(card_id, ctype, state, rel, parsed[0], parsed[1], hit[2], stamp)
        known = (hit[3], _unpacked(hit[1])[0]) if hit is not None and hit[3] is not None else None
        (meta, checklist, error), key = read_card(Path(entry.path), known)
        meta = _interned(meta)
        # a card read in the tick it was written in is kept unstamped: read again next time -
        # and handed out unstamped, so no cache keyed by its stamp (check's memo, the site
        # builder's last build) takes a same-size edit in that tick for what was read now
        kept = stamp if stamp is not None and settled(stamp[1], self.read_ns) else None
        self.entries[rel] = self.parsed[rel] = (kept, (meta, checklist), error, key)
        return Card(card_id, ctype, state, rel, meta, checklist, error, kept)

    def current(self, path: Path, rel: str, card_id: str, ctype: str, state: str, stamp: tuple) -> Card | None:
        """The card at `rel` as the cache holds it, if that was read from a file of this stamp;
        else, when the cache knows the card's front matter, the file read again with that
        meta kept if its front matter text is the same (no YAML); else None."""
        hit = self.entries.get(rel)
        if hit is None:
            return None
        if hit[0] != stamp:
            if hit[3] is None:
                return None
            (meta, checklist, error), _ = read_card(path, (hit[3], _unpacked(hit[1])[0]))
            return Card(card_id, ctype, state, rel, meta, checklist, error,
                        stamp if settled(stamp[1], self.read_ns) else None)
        if hit[1].__class__ is bytes:
            return _CachedCard(card_id, ctype, state, rel, hit[1], hit[2], stamp)
        return Card(card_id, ctype, state, rel, hit[1][0], hit[1][1], hit[2], stamp)

    def save(self) -> None:
        """Write what changed: the small recent file, or the base when enough piled up."""
        stale = set(self.entries) - self.seen
        for rel in stale:
            del self.entries[rel]
        recent = {rel: e for rel, e in {**self.recent, **self.parsed}.items() if rel in self.seen}
        if self.loaded and len(recent) + len(stale) < max(SAVE_AFTER_MISSES, 1):
            if self.parsed or len(recent) != len(self.recent):
                self._write(self.recent_path, recent)
            return
        if self._write(self.path, self.entries, with_packed=True):
            cache.remove(self.recent_path)

    @staticmethod
    def _write(path: Path, entries: dict, with_packed: bool = False) -> bool:
        """Write a cache file (False if it could not be: that only costs speed)."""
        shared: dict = {}
        parts = [{rel: (e[0], _shared_items(_unpacked(e[1]), shared), *e[2:]) for rel, e in entries.items()}]
        if with_packed:
            parts.append({rel: (e[0], e[1] if e[1].__class__ is bytes else marshal.dumps(e[1]), *e[2:])
                          for rel, e in entries.items()})
        return cache.save(path, "parse", _cache_version(), *parts)


def _unpacked(parsed) -> tuple:
    """(meta, checklist) of a cache entry's parsed part, packed or not."""
    return marshal.loads(parsed) if parsed.__class__ is bytes else parsed


def _shared_items(parsed: tuple, shared: dict) -> tuple:
    """(meta, checklist) with each checklist item that many cards have (a type's template)
    as one object, so the cache file holds it once: at 10,000 cards the parsed part is 18%
    smaller and a third cheaper to load, which more than pays for checking its MAC."""
    meta, checklist = parsed
    return meta, [shared.setdefault(item, item) for item in checklist]


def _interned(meta: dict) -> dict:
    """Keys and short values shared between cards (owners, states, tags) stored once.

    The cache file then holds each such string once, which halves its size and its
    load time.
    """
    intern = sys.intern
    out = {}
    for key, value in meta.items():
        if isinstance(value, str) and len(value) <= 40:
            value = intern(value)
        elif isinstance(value, list):
            value = [intern(v) if isinstance(v, str) and len(v) <= 40 else v for v in value]
        out[intern(key)] = value
    return out
