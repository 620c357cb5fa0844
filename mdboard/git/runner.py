"""The one way mdboard runs git: every git process mdboard starts goes through here.

A board is a repository anyone with push access writes to, and a repository that
arrives as a shared folder or an unpacked archive brings its own `.git/config`,
`.git/info/attributes`, hooks and `.gitattributes` along. git runs commands named
there: hooks, a `core.fsmonitor` program, clean/smudge filters, diff and merge
drivers, a signing program, an ssh command, a credential helper... None of them may
run because somebody typed `mdboard move`. So every git run here:

- switches the repository's hooks and fsmonitor off (`core.hooksPath=/dev/null`,
  `core.fsmonitor=false`), never lets git reach a remote through `ext::` (a URL that
  is a shell command), never walks into submodules (another repository with its own
  configuration) and never prints signatures into output mdboard parses (`ISOLATED`);
- reads the configuration once per process (`git config --list --show-scope`; reading
  runs nothing) and overrides every key of the repository's own configuration
  (`.git/config`, `config.worktree` and the files they include) that names a command
  (`_RULES`): with the value the user's own configuration (~/.gitconfig, /etc/gitconfig)
  gives it, else with a harmless one. The overrides travel as `GIT_CONFIG_KEY_n`
  variables, which take any key (a driver's name may hold `=` or a newline).
  Filters, textconv and diff programs, merge drivers (mdboard's sync decides how cards
  merge), pagers and editors are switched off silently: nothing mdboard asks for changes;
- refuses, with a message naming the key and the file, where overriding would change
  what somebody asked for (`Danger`): a filter marked `required` (git-crypt, git-lfs:
  files would be stored or checked out unfiltered), a signing program while commits are
  signed, and anything that decides how git reaches or logs in to a remote (`ext::`
  addresses, upload/receive programs of a remote on this computer, and - when a remote
  of the repository would use it - a credential helper that is a command or a path, ssh
  command, askpass, proxy). `check_safe` lets a caller refuse before it writes
  anything; `run_git` refuses again before each git command;
- runs `upload-pack`/`receive-pack` of a remote that is a folder on this computer (a
  shared drive) with that repository's hooks and commands switched off in the same way.

The user's own configuration, environment and PATH stay trusted. Keys git only uses in
commands mdboard never runs (`alias.*`, `mergetool.*`, `difftool.*`, `tar.*.command`,
`submodule.*.update`, `interactive.diffFilter`, `sendemail.*`, `web.browser`,
`browser.*.cmd`, `man.*.cmd`, `guitool.*`, `imap.tunnel`) are left alone, and git itself
ignores `uploadpack.packObjectsHook`, `safe.directory` and `.gitmodules` commands from a
repository. `isolated=False` is for reading the repository's own configuration as git
would use it (`hooks install` asks where core.hooksPath points).
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

from mdboard.core.errors import GitError
from mdboard.core.fsutil import settled
from mdboard.core.i18n import t
from mdboard.core.records import Record
from mdboard.core.store import find_repo
from mdboard.core.text import printable

ISOLATED = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "protocol.ext.allow=never",
            "-c", "submodule.recurse=false", "-c", "fetch.recurseSubmodules=false",
            "-c", "push.recurseSubmodules=no", "-c", "diff.ignoreSubmodules=all",
            "-c", "status.submoduleSummary=false", "-c", "log.showSignature=false")

# Options put right after these git commands: a submodule's own `.gitmodules` or config
# entry (`ignore = none`, `fetchRecurseSubmodules = true`) outranks the -c settings above.
_SUBMODULES_OFF = {"status": ("--ignore-submodules=all",), "diff": ("--ignore-submodules=all",),
                   "fetch": ("--no-recurse-submodules",), "pull": ("--no-recurse-submodules",),
                   "push": ("--recurse-submodules=no",)}

# Which git commands make git run each kind of command a repository's config can name.
_USES = {
    # clean/smudge filters: whatever reads a work-tree file into git or writes one out
    "files": frozenset({"add", "update-index", "commit", "status", "diff", "diff-files", "diff-index",
                        "checkout", "switch", "restore", "reset", "merge", "rebase", "cherry-pick", "revert",
                        "pull", "stash", "read-tree", "checkout-index", "hash-object", "apply", "am", "rm",
                        "blame", "clean"}),
    "sign": frozenset({"commit", "merge", "rebase", "cherry-pick", "revert", "am", "pull"}),
    "push_sign": frozenset({"push"}),
    "connect": frozenset({"fetch", "push", "pull", "ls-remote", "clone", "fetch-pack", "send-pack", "submodule"}),
}
_REMOTE_CONNECTS = frozenset({"update", "prune", "show", "set-head"})  # `git remote <these>` contact the remote
_MERGE_FILE = "git merge-file --marker-size=%L %A %O %B"  # git's own line merge, as a driver command

# The records below are plain classes (`core.records`), not dataclasses: every git-using
# command imports this module, and a dataclass costs it ~0.5 ms to make at import.


class Entry(Record):
    """One configuration value as git lists it: scope (local, global, ...), file, key, value."""

    __slots__ = FIELDS = ("scope", "origin", "key", "value")

    def __init__(self, scope: str, origin: str, key: str, value: str | None):
        self.scope, self.origin, self.key, self.value = scope, origin, key, value

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.scope, self.origin, self.key, self.value) == (other.scope, other.origin, other.key, other.value)

    def __hash__(self):
        return hash((self.scope, self.origin, self.key, self.value))

    @property
    def own(self) -> bool:
        """Set by the repository itself (its config, its worktree config, or a file they include)."""
        return self.scope in ("local", "worktree")


class Danger(Record):
    """A command named by the repository's own configuration that git would run for the
    git commands of `kind` (`_USES`), and that cannot be switched off without changing
    what the repository's owner set up. `move` and `unset` are the commands that fix it;
    `fix` is set for a remote's setting: its fix (another address, or removing it), not moving it."""

    FIELDS = ("key", "value", "origin", "kind", "move", "unset", "fix")

    def __init__(self, key: str, value: str, origin: str, kind: str, move: str = "", unset: str = "", fix: str = ""):
        self.key, self.value, self.origin, self.kind = key, value, origin, kind
        self.move, self.unset, self.fix = move, unset, fix

    def but(self, **changes) -> "Danger":
        """The same refusal with some fields changed (a danger is never changed in place)."""
        return Danger(**{**{name: getattr(self, name) for name in self.FIELDS}, **changes})

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)

    def __hash__(self):
        return hash(tuple(getattr(self, name) for name in self.FIELDS))

    def applies(self, command: str, rest: list[str]) -> bool:
        """Whether running `git COMMAND REST` would make git run it."""
        if command == "remote" and self.kind == "connect":
            return bool(rest) and rest[0] in _REMOTE_CONNECTS
        if command not in _USES[self.kind]:
            return False
        if self.kind == "files" and command in ("diff", "diff-index") and {"--cached", "--staged"} & set(rest):
            return False  # the index against a commit: no work-tree file is read
        return not (self.kind == "files" and command == "hash-object" and "--no-filters" in rest)

    def error(self) -> GitError:
        """The refusal, in the board's language: the key, its file, and what to do."""
        if self.fix:
            return GitError(t("git.unsafe_remote", key=self.key, origin=self.origin, value=_shown(self.value),
                              fix=self.fix))
        return GitError(t("git.unsafe_config", key=self.key, origin=self.origin, value=_shown(self.value),
                          when=t(f"git.unsafe_when_{self.kind}"), move=self.move, unset=self.unset))


def _shown(value: str) -> str:
    """A value from a config file as it may be printed (one line, no terminal escapes, short)."""
    value = printable(value.replace("\n", " "))
    return value if len(value) <= 80 else value[:77] + "..."


class RepoConfig(Record):
    """The configuration git sees in one repository, and what mdboard overrides in it."""

    FIELDS = ("entries", "top", "overrides", "env", "dangers", "watched", "stamp")

    def __init__(self, entries: list[Entry], top: Path | None):
        self.entries, self.top = entries, top
        self.overrides: list[tuple[str, str]] = []
        self.env: dict[str, str] = {}
        self.dangers: list[Danger] = []
        self.watched: list[Path] = []
        self.stamp: tuple | None = ()  # None: a watched file is too new to trust its stamp

    def last(self, key: str, own: bool | None = None) -> str | None:
        """The value git uses for `key` (the last one listed); `own` limits to the repository's
        own values (True) or to everybody else's (False)."""
        for entry in reversed(self.entries):
            if entry.key == key and (own is None or entry.own == own):
                return "true" if entry.value is None else entry.value
        return None

    def identity(self) -> tuple[str, str]:
        """(user.name, user.email) as git would commit with them ("" where unset)."""
        return self.last("user.name") or "", self.last("user.email") or ""


# --- reading the configuration once --------------------------------------------------------

_CACHE: dict[tuple, RepoConfig] = {}
_BY_FOLDER: dict[str, tuple] = {}  # folder asked about -> (environment key, its `.git`, its config)
_ENV_KEYS = ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
             "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE",
             "GIT_SSH", "SSH_ASKPASS", "GIT_PROXY_COMMAND")


def repo_config(cwd: Path | str) -> RepoConfig:
    """The configuration of the repository holding `cwd`: read with one `git config` per
    process and kept while none of the files it came from (or could come from) changes,
    so a long-running `serve` sees a key added to .git/config.

    A folder asked about before is not looked for again (a team action asks ~12 times,
    and finding the repository took ~0.3 ms each), unless a `.git` appears in it or goes."""
    folder, env = os.path.abspath(cwd), _env_key()
    known = _BY_FOLDER.get(folder)
    if known is not None and known[0] == env and known[1] == _dot_git(folder) \
            and known[2].stamp == _stamp(known[2].watched):
        return known[2]
    own = _dot_git(folder)
    found = _find_git_dir(Path(cwd))
    key = (str(found[1]) if found else str(Path(cwd).resolve()), env)
    config = _CACHE.get(key)
    if config is None or config.stamp != _stamp(config.watched):
        read_ns = time.time_ns()
        config = RepoConfig(_list(cwd), found[0] if found else None)
        config.overrides, config.env, config.dangers = _neutralise(config)
        config.watched = _watched(config, found)  # which files can change it follows from what it holds
        config.stamp = _stamp(config.watched)
        if not all(settled(entry[2], read_ns) for entry in config.stamp if entry[1] is not None):
            config.stamp = None  # a file changed in the tick it was read in (or since): read again next time
        _CACHE[key] = config
    _BY_FOLDER[folder] = (env, own, config)
    return config


def _dot_git(folder: str) -> int | None:
    """Which `.git` the folder holds (its inode; None: none): its times change with every commit."""
    try:
        return os.stat(os.path.join(folder, ".git")).st_ino
    except OSError:
        return None


def _env_key() -> tuple:
    count = os.environ.get("GIT_CONFIG_COUNT", "")
    extra = tuple(os.environ.get(f"GIT_CONFIG_{kind}_{i}") for i in range(int(count) if count.isdigit() else 0)
                  for kind in ("KEY", "VALUE"))
    return tuple(os.environ.get(k) for k in _ENV_KEYS) + extra


def _list(cwd: Path | str) -> list[Entry]:
    """Every configuration value git sees in `cwd`, with its scope and file (includes followed)."""
    env = {k: v for k, v in os.environ.items() if k != "GIT_CONFIG"}  # GIT_CONFIG would narrow the listing
    args = ("config", "--list", "--null", "--show-scope", "--show-origin", "--includes")
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env)
    if proc.returncode != 0:
        raise failure(args, proc)
    parts = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    entries = []
    for i in range(0, len(parts) - 2, 3):
        scope, origin, item = parts[i:i + 3]
        key, sep, value = item.partition("\n")
        entries.append(Entry(scope, origin.removeprefix("file:"), key, value if sep else None))
    return entries


def _find_git_dir(start: Path) -> tuple[Path, Path] | None:
    """(top, git folder) as git finds them from `start`: the repository `find_repo` finds,
    or the folder itself when it is a bare repository (a remote on a shared drive)."""
    start = start.resolve()
    found = find_repo(start)
    for folder in (start, *start.parents):
        if found and folder == found[0]:
            return found
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir():
            return folder, folder
    return found


def _watched(config: RepoConfig, found: tuple[Path, Path] | None) -> list[Path]:
    """Every file whose change could change what git lists: the ones it came from, the
    repository's config files, included files (even missing ones), HEAD for `onbranch:`
    includes, and the user's and system's config files."""
    base = config.top or Path.cwd()
    paths = {(base / e.origin) for e in config.entries if e.origin and not e.origin.startswith(("command", "blob:"))}
    if found:
        git_dir = found[1]
        common = git_dir
        if (git_dir / "commondir").is_file():
            common = (git_dir / (git_dir / "commondir").read_text("utf-8", "replace").strip()).resolve()
        paths |= {common / "config", git_dir / "config.worktree", git_dir / "HEAD"}
    for e in config.entries:
        if e.value and (e.key == "include.path" or _named(e.key, "includeif.", "path") is not None):
            target = Path(os.path.expanduser(e.value))
            paths.add(target if target.is_absolute() else (base / e.origin).parent / target)
    home = Path(os.path.expanduser("~"))
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    paths |= {Path(os.environ.get("GIT_CONFIG_GLOBAL") or home / ".gitconfig"), xdg / "git" / "config",
              Path(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")}
    return sorted(paths)


def _stamp(paths: list[Path]) -> tuple:
    """What the files look like now (size, time, inode; None when missing)."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((str(path), st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            out.append((str(path), None))
    return tuple(out)


# --- what to override, and what to refuse ---------------------------------------------------

# key pattern -> (kind of Danger or None when overriding changes nothing mdboard relies on,
#                 harmless value when the user's own configuration gives none)
_RULES: tuple[tuple[str, str | None, str], ...] = (
    (r"filter\..+\.(clean|smudge|process)", "files", ""),      # "" = no filter (git's own rule)
    (r"merge\..+\.driver", None, _MERGE_FILE),
    (r"diff\..+\.textconv", None, "cat"),                       # patches only; mdboard never asks for one
    (r"diff\..+\.command|diff\.external", None, "true"),
    (r"core\.alternaterefscommand", None, "true"),              # fewer "have"s in a fetch, nothing more
    (r"core\.editor|sequence\.editor", None, ":"),              # ":" = no editor (git's own rule)
    (r"core\.pager|pager\..+", None, "cat"),
    (r"trailer\..+\.(command|cmd)", None, "true"),
    (r"gpg\.(openpgp\.)?program", "sign", "gpg"),
    (r"gpg\.x509\.program", "sign", "gpgsm"),
    (r"gpg\.ssh\.program", "sign", "ssh-keygen"),
    (r"gpg\.ssh\.defaultkeycommand", "sign", "true"),
    (r"core\.askpass", "connect", ""),
    (r"core\.sshcommand", "connect", "ssh"),
)
# What a key must start with to match one of _RULES: most repositories' own keys (core.bare,
# remote.origin.url, branch.main.merge ...) are passed over without compiling the patterns.
_RULED_SECTIONS = frozenset({"filter", "merge", "diff", "sequence", "pager", "trailer", "gpg"})
_RULED_CORE = frozenset({"core.alternaterefscommand", "core.editor", "core.pager", "core.askpass", "core.sshcommand"})
_TRUE = ("true", "yes", "on", "1")


@functools.cache
def _rules() -> list[tuple[re.Pattern, str | None, str]]:
    return [(re.compile(p), kind, value) for p, kind, value in _RULES]


def _rule(key: str) -> tuple[str | None, str] | None:
    """(kind, harmless value) of the rule of _RULES `key` falls under, else None."""
    section = key.partition(".")[0]
    if not (key in _RULED_CORE if section == "core" else section in _RULED_SECTIONS):
        return None
    return next(((kind, harmless) for pattern, kind, harmless in _rules() if pattern.fullmatch(key)), None)


def _named(key: str, prefix: str, *lasts: str) -> str | None:
    """NAME when `key` is PREFIX + NAME + "." + one of `lasts` (NAME not empty, dots allowed:
    `remote.a.b.url`), else None; what the pattern `prefix[.](.+)[.](last|...)` matches, without compiling it."""
    if not key.startswith(prefix):
        return None
    name, _, last = key[len(prefix):].rpartition(".")
    return name if name and last in lasts else None


def _is_helper(key: str) -> bool:
    """`credential.helper` or `credential.<url>.helper`."""
    return key == "credential.helper" or _named(key, "credential.", "helper") is not None


def _neutralise(config: RepoConfig) -> tuple[list[tuple[str, str]], dict[str, str], list[Danger]]:
    """The overrides (key, value), environment and refusals for the repository's own keys."""
    overrides: dict[str, str] = {}
    env: dict[str, str] = {}
    dangers: list[Danger] = []
    own = [e for e in config.entries if e.own]
    for entry in own:
        rule = _rule(entry.key)
        if rule is not None:
            kind, harmless = rule
            overrides[entry.key] = _trusted(config, entry.key, harmless)
            if entry.key.startswith("filter."):
                required = entry.key.rsplit(".", 1)[0] + ".required"
                overrides[required] = config.last(required, own=False) or "false"
            if kind and entry.value:
                dangers += _dangers(config, _danger(config, entry, kind))
    helpers = [e for e in own if _is_helper(e.key) and _runs_command(e.value)]
    extra: list[tuple[str, str]] = []
    if helpers:  # "" empties git's list of helpers; then every other one comes back in order
        extra = [("credential.helper", "")] + [(e.key, e.value or "") for e in config.entries
                                                if _is_helper(e.key) and e not in helpers]
        dangers += [_danger(config, e, "connect") for e in helpers]
    proxy = [e for e in own if e.key == "core.gitproxy" and e.value]
    if proxy:
        env["GIT_PROXY_COMMAND"] = os.environ.get("GIT_PROXY_COMMAND", "")  # the variable outranks every entry
        dangers.append(_danger(config, proxy[0], "connect"))
    transports = _transports(config)
    dangers = [d for d in dangers if _needed(d, transports)] + _remote_dangers(config)
    return list(overrides.items()) + extra, env, dangers


def _runs_command(helper: str | None) -> bool:
    """Whether a credential helper names its own command (`!...`) or a program by its path;
    a bare name (`store`, `manager`) runs git's installed `git-credential-<name>`."""
    program = (helper or "").strip().split(" ", 1)[0]
    return program.startswith("!") or "/" in program or "\\" in program


def _trusted(config: RepoConfig, key: str, harmless: str) -> str:
    """The value the user's own configuration (or environment) gives `key`, else `harmless`."""
    value = config.last(key, own=False)
    if value is not None:
        return value
    if key == "core.askpass":
        return os.environ.get("SSH_ASKPASS", "")  # what git would use without core.askPass
    if key == "core.sshcommand" and os.environ.get("GIT_SSH"):
        return shlex.quote(os.environ["GIT_SSH"])
    return harmless


def _danger(config: RepoConfig, entry: Entry, kind: str) -> Danger:
    """A refusal for `entry`, with the commands that move it to the user's own config or
    remove it: a filter or merge driver as a whole section, any other key alone."""
    driver = re.fullmatch(r"(filter|merge)\.(.+)\.[a-z]+", entry.key)
    section = f"{driver.group(1)}.{driver.group(2)}" if driver else None
    keys = [e for e in config.entries if e.own and e.origin == entry.origin and e.value is not None
            and (e.key.startswith(section + ".") if section else e.key == entry.key)]
    add = "--add " if _is_helper(entry.key) else ""
    move = " && ".join(f"git config --global {add}{shlex.quote(e.key)} {shlex.quote(_shown(e.value))}" for e in keys)
    where = shlex.quote(entry.origin)
    unset = f"git config --file {where} --remove-section {shlex.quote(section)}" if section else \
        f"git config --file {where} --unset-all {shlex.quote(entry.key)}"
    return Danger(entry.key, entry.value or "", entry.origin, kind, move, unset)


def _dangers(config: RepoConfig, danger: Danger) -> list[Danger]:
    """A danger as refused: a signing program only where git signs (commits, pushes), a
    filter only when it is marked required (else it is switched off silently)."""
    if danger.kind == "files":
        required = danger.key.rsplit(".", 1)[0] + ".required"
        return [danger] if (config.last(required) or "").lower() in _TRUE else []
    if danger.kind != "sign":
        return [danger]
    out = []
    if (config.last("commit.gpgsign") or "").lower() in _TRUE:
        out.append(danger)
    if (config.last("push.gpgsign") or "").lower() in _TRUE + ("if-asked",):
        out.append(danger.but(kind="push_sign"))
    return out


# --- remotes --------------------------------------------------------------------------------

def _remote_dangers(config: RepoConfig) -> list[Danger]:
    """Remote settings of the repository's own config that run a command on this computer:
    an `ext::` address (a shell command), and the upload/receive program of a remote that
    is a folder here (for a remote on a server, that program runs on the server)."""
    dangers = []
    for e in (e for e in config.entries if e.own and e.value):
        ext = (_named(e.key, "remote.", "url", "pushurl") and e.value.lower().startswith("ext::")) or \
            (_named(e.key, "url.", "insteadof", "pushinsteadof") and e.key[4:].lower().startswith("ext::")) or \
            (_named(e.key, "remote.", "vcs") and e.value.lower() == "ext")
        pack = _named(e.key, "remote.", "uploadpack", "receivepack")
        if ext or (pack and _local_remote(config, pack)):
            danger = _danger(config, e, "connect")
            url = _named(e.key, "remote.", "url")
            fix = f"git remote set-url {shlex.quote(url)} " + t("git.an_address") if url else danger.unset
            dangers.append(danger.but(fix=fix))
    return dangers


def _transports(config: RepoConfig) -> set[str]:
    """How git reaches this repository's remotes: "ssh", "http", "git", "local" or "other"."""
    names = {name for e in config.entries if (name := _named(e.key, "remote.", "url", "pushurl"))}
    return {_transport(url) for name in names for url in _urls(config, name)}


def _transport(url: str) -> str:
    lower = url.lower()
    if lower.startswith(("http://", "https://")):
        return "http"
    if lower.startswith(("ssh://", "git+ssh://", "ssh+git://")):
        return "ssh"
    if lower.startswith("git://"):
        return "git"
    if _local_path(url, None) is not None:
        return "local"
    return "other" if "://" in url or "::" in url else "ssh"  # host:path is ssh


def _needed(danger: Danger, transports: set[str]) -> bool:
    """Whether a way of reaching remotes is refused: only when a remote of this repository
    would use it (an ssh command with an ssh remote...); else overriding it changes nothing."""
    if danger.kind != "connect":
        return True
    wanted = {"core.sshcommand": {"ssh"}, "core.gitproxy": {"git"}, "core.askpass": {"ssh", "http"}}.get(
        danger.key, {"http"} if _is_helper(danger.key) else None)
    return wanted is None or bool(transports & (wanted | {"other"}))


def _urls(config: RepoConfig, remote: str) -> list[str]:
    """The addresses git may use for `remote`, after `url.<base>.insteadOf` rewriting."""
    rules = [(e.value, e.key[4:].rsplit(".", 1)[0]) for e in config.entries
             if e.value and _named(e.key, "url.", "insteadof", "pushinsteadof")]
    out = []
    for e in config.entries:
        if e.value and e.key in (f"remote.{remote}.url", f"remote.{remote}.pushurl"):
            out.append(e.value)
            matches = [(prefix, base) for prefix, base in rules if e.value.startswith(prefix)]
            if matches:
                prefix, base = max(matches, key=lambda m: len(m[0]))
                out.append(base + e.value[len(prefix):])
    return out


def _local_path(url: str, top: Path | None) -> Path | None:
    """The folder a git address names on this computer (a path or file://), else None."""
    if url.startswith("file://"):
        return Path(url[7:])
    if "://" in url or re.match(r"[A-Za-z][A-Za-z0-9+.-]*::", url):
        return None
    colon, slash = url.find(":"), url.find("/")
    if colon >= 0 and not (0 <= slash < colon):
        return None  # host:path is ssh
    path = Path(url)
    return path if path.is_absolute() or top is None else top / path


def _local_remote(config: RepoConfig, remote: str) -> Path | None:
    return next((p for p in (_local_path(u, config.top) for u in _urls(config, remote)) if p), None)


def _remote_services(config: RepoConfig, rest: list[str]) -> list[tuple[str, str]]:
    """upload-pack and receive-pack of every remote that is a folder on this computer (and
    of a folder named on the command line), run with that repository's hooks and commands off."""
    names = {name for e in config.entries if (name := _named(e.key, "remote.", "url", "pushurl"))}
    folders = {name: _local_remote(config, name) for name in names}
    target = next((a for a in rest if not a.startswith("-")), None)
    if target and target not in names:
        folders[target] = _local_path(target, config.top)
    out = []
    for name, folder in folders.items():
        if folder is not None:
            out += [(f"remote.{name}.uploadpack", _service(folder, "upload-pack")),
                    (f"remote.{name}.receivepack", _service(folder, "receive-pack"))]
    return out


def _service(folder: Path, service: str) -> str:
    """The shell command git runs (with the folder appended) to serve a fetch or push from a
    repository on this computer: that repository's hooks off, its own commands overridden."""
    pairs = [tuple(setting.split("=", 1)) for setting in ISOLATED[1::2]]
    try:
        pairs += repo_config(folder).overrides if folder.is_dir() else []
    except GitError:
        pass  # git cannot read that repository's config either; the fetch or push will say why
    assigns = [f"GIT_CONFIG_COUNT={len(pairs)}"]
    for i, (key, value) in enumerate(pairs):
        assigns.append(f"GIT_CONFIG_KEY_{i}={shlex.quote(key)} GIT_CONFIG_VALUE_{i}={shlex.quote(value)}")
    return " ".join(assigns) + f" git {service}"


# --- running git ------------------------------------------------------------------------------

def check_safe(cwd: Path | str, *commands: str) -> None:
    """Refuse (GitError) when the repository's own configuration would have git run a
    command of its own for one of these git commands; called before anything is written."""
    config = repo_config(cwd)
    for danger in config.dangers:
        if any(danger.applies(command, []) for command in commands):
            raise danger.error()


def identity(cwd: Path | str) -> tuple[str, str]:
    """(user.name, user.email) from git config, from the one configuration read."""
    return repo_config(cwd).identity()


def _subcommand(args: tuple) -> int:
    """Where the git command's name is in `args` (after options such as `-c key=value`)."""
    i = 0
    while i < len(args):
        if args[i] in ("-c", "-C"):
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return i
    return len(args)


def prepare(cwd: Path | str, args: tuple, env: dict | None = None, isolated: bool = True) -> tuple[list[str], dict | None]:
    """The argv and environment of `git ARGS` in `cwd`, isolated as the module says;
    GitError when the repository's own configuration would make it run a command."""
    if not isolated:
        return ["git", *args], env
    config = repo_config(cwd)
    at = _subcommand(args)
    command, rest = (args[at], list(args[at + 1:])) if at < len(args) else ("", [])
    for danger in config.dangers:
        if danger.applies(command, rest):
            raise danger.error()
    overrides = list(config.overrides)
    if command in _USES["connect"] or (command == "remote" and rest[:1] and rest[0] in _REMOTE_CONNECTS):
        overrides += _remote_services(config, rest)
    argv = ["git", *ISOLATED, *args[:at + 1], *_SUBMODULES_OFF.get(command, ()), *args[at + 1:]]
    if overrides or config.env:
        env = {**(env or {}), **config.env, **_config_env(overrides)}
    return argv, env


def _config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Settings as GIT_CONFIG_KEY_n/VALUE_n, after any the user's environment already holds."""
    count = os.environ.get("GIT_CONFIG_COUNT", "")
    first = int(count) if count.isdigit() else 0
    env = {"GIT_CONFIG_COUNT": str(first + len(pairs))}
    for i, (key, value) in enumerate(pairs, first):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def run_git(cwd: Path | str, *args: str, input: str | bytes | None = None, env: dict | None = None,
            isolated: bool = True) -> subprocess.CompletedProcess:
    """Run git in `cwd` and return the finished process (bytes out; check returncode yourself)."""
    argv, env = prepare(cwd, args, env, isolated)
    return subprocess.run(argv, cwd=cwd, capture_output=True,
                          input=input.encode("utf-8") if isinstance(input, str) else input,
                          env={**os.environ, **env} if env else None)


def stream_git(cwd: Path | str, *args: str, stderr, stdout=subprocess.PIPE) -> subprocess.Popen:
    """Start git in `cwd` with its stdout as a pipe to read while it runs (a long `git log`),
    or into `stdout` (a file) when given."""
    argv, env = prepare(cwd, args)
    return subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=stderr,
                            env={**os.environ, **env} if env else None)


def failure(args: tuple | list, proc: subprocess.CompletedProcess) -> GitError:
    """A GitError in git's own words (the last 500 characters of what it said)."""
    detail = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()
    return GitError(t("git.failed", command="git " + " ".join(args[:2]), detail=detail[-500:]))


def git_out(cwd: Path | str, *args: str, **kw) -> str:
    """Run git and return its stdout as text; a failure raises GitError with git's words."""
    proc = run_git(cwd, *args, **kw)
    if proc.returncode != 0:
        raise failure(args, proc)
    return proc.stdout.decode("utf-8", "replace").rstrip("\n")
