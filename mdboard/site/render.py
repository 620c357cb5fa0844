"""The pieces every site page is made of: templates, safe Markdown, dates and card views.

One jinja Environment (autoescape on) serves the whole build; templates are compiled
once. Card bodies go through markdown-it-py in CommonMark mode with raw HTML off and a
strict link check, and that output is the only user content ever marked safe.
`CardView` gathers what the pages show of a card (due countdown, people by name,
platform labels, links both ways) so each card is worked out once per build.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable

import mdboard
from markupsafe import Markup, escape

from mdboard.core import dates
from mdboard.core.config import BoardConfig, CardType
from mdboard.core.i18n import t_in
from mdboard.core.store import Card
from mdboard.domain.views import Due, card_due, countdown, due_group, people_of, platforms_of

SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_TASK_PREFIX = re.compile(r"^\[([ xX])\][ \t]+")
BABEL_LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}
MAX_REMEMBERED_BODIES = 4096  # distinct card bodies whose HTML a build keeps for reuse


def template_dir() -> Path:
    """The templates folder, `mdboard/site/templates/` (inside the package, installed or not)."""
    from mdboard.core.fsutil import package_folder

    return package_folder("mdboard.site", "templates")


def digest(*parts) -> str:
    """A short stable hash of the given parts (what a page or tile was made from): each
    part as UTF-8 (bytes as they are), each followed by a NUL byte."""
    h = hashlib.blake2b(digest_size=12)
    if not any(issubclass(kind, bytes) for kind in set(map(type, parts))):  # a few kinds, not every part
        # one buffer for thousands of parts (a board's key hashes one line per card)
        h.update("\x00".join([*map(str, parts), ""]).encode("utf-8", "surrogatepass"))
        return h.hexdigest()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


# --- Markdown ---------------------------------------------------------------------------

def safe_link(url: str) -> bool:
    """True for relative links and http/https/mailto; everything else (javascript:, data:…) is refused."""
    cleaned = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    m = _SCHEME.match(cleaned)
    return m is None or m.group(1).lower() in SAFE_SCHEMES


def _is_local(url: str) -> bool:
    """A relative address (loads nothing from the network)."""
    cleaned = "".join(ch for ch in url if ch > " ")
    return _SCHEME.match(cleaned) is None and not cleaned.startswith(("//", "\\\\", "/\\", "\\/"))


def make_markdown():
    """CommonMark with raw HTML escaped, safe links only, remote images shown as links,
    and task list items (`- [x] 主图`) shown with a box."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = safe_link
    md.core.ruler.push("mdboard_tasks", _task_boxes)
    default_image = md.renderer.rules["image"]

    def image(self, tokens, idx, options, env):
        token = tokens[idx]
        src = token.attrGet("src") or ""
        if _is_local(src):
            return default_image(tokens, idx, options, env)
        from markdown_it.common.utils import escapeHtml

        alt = escapeHtml(token.content or src)
        return f'<a href="{escapeHtml(src)}" rel="noopener noreferrer">{alt}</a>'

    md.add_render_rule("image", image)
    md.add_render_rule("link_open", _link_open)
    return md


def _link_open(self, tokens, idx, options, env):
    """Links from cards open without passing the referrer on."""
    token = tokens[idx]
    href = token.attrGet("href") or ""
    if _SCHEME.match(href):
        token.attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


def _task_boxes(state) -> None:
    """Turn a list item's leading `[ ]` / `[x]` into ☐ / ☑ (plain text, no HTML)."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "inline" or i < 2 or tokens[i - 2].type != "list_item_open":
            continue
        if token.children and token.children[0].type == "text":
            first = token.children[0]
            m = _TASK_PREFIX.match(first.content)
            if m:
                first.content = ("☐ " if m.group(1) == " " else "☑ ") + first.content[m.end():]


def body_of(text: str) -> str:
    """The Markdown body of a card's text (everything after the front matter)."""
    from mdboard.core.cardfile import layout

    lay = layout(text)
    return "".join(lay.lines[lay.fm_end + 1:])


# --- dates ------------------------------------------------------------------------------

class DateFormat:
    """Dates and times as people of the board's language read them (Babel), cached.

    `remembered` holds texts made before (by an earlier build): a rebuild that shows only
    dates it has shown before does not import Babel (~20 ms)."""

    MAX_REMEMBERED = 20000

    def __init__(self, lang: str, tz: str, remembered: dict | None = None):
        self.locale = BABEL_LOCALES.get(lang, "en")
        self.tz = tz
        self.remembered = remembered if remembered is not None else {}
        self.learned = False  # whether texts were added to `remembered`
        self.new: dict = {}  # the texts added (a forked helper hands them back)

    def long(self, value) -> str:
        """`2026年12月1日` / `Dec 1, 2026`; datetimes with their time; anything else as text."""
        return self._recall("long", _hashable(value), self._long)

    def short(self, value) -> str:
        """`12月1日` / `Dec 1` (with the time for datetimes); anything else as text."""
        return self._recall("short", _hashable(value), self._short)

    def _recall(self, kind: str, value, make) -> str:
        slot = (kind, type(value).__name__, value)
        text = self.remembered.get(slot)
        if text is None:
            text = make(value)
            if len(self.remembered) < self.MAX_REMEMBERED:
                self.remembered[slot] = self.new[slot] = text
                self.learned = True
        return text

    def saved(self) -> None:
        """The texts learned are on disk now."""
        self.learned = False

    def take_new(self) -> dict:
        """The texts made since last asked (what a forked helper hands back)."""
        new, self.new = self.new, {}
        return new

    def learn(self, texts: dict) -> None:
        """Add texts made elsewhere (by a forked helper)."""
        for slot, text in texts.items():
            if slot not in self.remembered and len(self.remembered) < self.MAX_REMEMBERED:
                self.remembered[slot] = text
                self.learned = True

    @lru_cache(maxsize=4096)
    def _long(self, value) -> str:
        from babel.dates import format_date, format_datetime

        if value in (None, ""):
            return ""
        day = dates.parse_date(value)
        if day is not None:
            return format_date(day, "medium", locale=self.locale)
        moment = dates.parse_datetime(value, self.tz)
        if moment is None:
            return str(value)
        return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=self.locale)

    @lru_cache(maxsize=4096)
    def _short(self, value) -> str:
        from babel.dates import format_skeleton

        day = value if isinstance(value, date) else dates.parse_date(value)
        if day is not None:
            return format_skeleton("MMMd", day, locale=self.locale)
        moment = dates.parse_datetime(value, self.tz) if value else None
        if moment is None:
            return str(value or "")
        return f"{format_skeleton('MMMd', moment, locale=self.locale)} {moment:%H:%M}"

    def weekday(self, day: date) -> str:
        """`11月25日周三` / `Wed, Nov 25`."""
        return self._recall("weekday", day, self._weekday)

    def _weekday(self, day: date) -> str:
        from babel.dates import format_skeleton

        return format_skeleton("MMMEd", day, locale=self.locale)

    def moment(self, value: datetime) -> str:
        """A commit time in the board's timezone: `11月25日 09:30` / `Nov 25 09:30`."""
        from zoneinfo import ZoneInfo

        local = value.astimezone(ZoneInfo(self.tz)) if value.tzinfo else value
        return f"{self.short(local.date())} {local:%H:%M}"

    def __hash__(self):
        return hash((self.locale, self.tz))

    def __eq__(self, other):
        return isinstance(other, DateFormat) and (self.locale, self.tz) == (other.locale, other.tz)


def _hashable(value):
    """Dates and strings as they are; a list or mapping typed where a date belongs, as text."""
    return value if isinstance(value, (str, date, int, float, type(None))) else str(value)


# --- card views -------------------------------------------------------------------------

@dataclass
class CardView:
    """A card as the pages show it, worked out once per build."""

    card: Card
    type_label: str
    state_label: str
    state_known: bool
    due: Due | None
    countdown: str
    group: str
    owner_name: str
    people: list[str]
    platforms: list[tuple[str, str]]
    tags: list[str]
    links: list[str] = field(default_factory=list)  # IDs this card links to (who links here: `SiteData.backlinks`)
    fp: str = ""  # hash of the card file's bytes and path (what its own page shows)
    meta_fp: str = ""  # hash of its front matter and checklist (what tiles and lists show)
    order: tuple = ()  # its place in a column: overdue and soonest due first, undated last, then by ID
    _report_key: str | None = None

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def title(self) -> str:
        return self.card.title

    @property
    def progress(self) -> str:
        return f"{self.card.checklist_done}/{len(self.card.checklist)}" if self.card.checklist else ""

    @property
    def overdue(self) -> bool:
        return bool(self.due and self.due.overdue)

    def report_key(self, cfg: BoardConfig) -> str:
        """What the report reads of the card besides its title: type, state, people, dates, due."""
        if self._report_key is None:
            ctype = cfg.types.get(self.card.type)
            dated = [f"{k}={self.card.meta.get(k)}" for k, fd in ctype.fields.items()
                     if fd.type in ("date", "datetime")] if ctype else []
            self._report_key = digest(self.card.id, self.card.type, self.card.state, self.people, dated,
                                      self.due_key(), self.card.error)
        return self._report_key

    def due_key(self) -> str:
        """What of the due status a page shows (changes as days pass)."""
        return f"{self.countdown}|{self.group}"

    def search_text(self, cfg: BoardConfig) -> str:
        """What the free-text filter looks in: ID, title, people, tags (lower case)."""
        names = " ".join(cfg.person_name(p) for p in self.people)
        return " ".join([self.card.id, self.card.title, names, " ".join(self.tags)]).lower()


def card_view(cfg: BoardConfig, card: Card, fps: tuple[str, str] = ("", ""), links: list[str] | None = None) -> CardView:
    """Work out a card's view: labels, due countdown, people, platforms, tags, links
    (`links`: its outgoing links when already known)."""
    ctype = cfg.types.get(card.type)
    state = ctype.state(card.state) if ctype else None
    due = card_due(cfg, card) if ctype and not card.error else None
    people = [p for p in people_of(card) if isinstance(p, str)]
    platforms = [(p, cfg.platforms.get(p, str(p))) for p in platforms_of(card) if isinstance(p, str)]
    tags = [str(x) for x in card.meta.get("tags") or [] if isinstance(x, (str, int, float))] \
        if isinstance(card.meta.get("tags"), list) else []
    return CardView(card, ctype.label if ctype else card.type, state.label if state else card.state,
                    state is not None, due, countdown(due), due_group(due),
                    cfg.person_name(card.owner) if card.owner else "", people, platforms, tags,
                    outgoing_links(cfg, card) if links is None else links, fps[0], fps[1], column_order(card.id, due))


def column_order(card_id: str, due: Due | None) -> tuple:
    """A card's place in a column: overdue and soonest due first, undated last, then by ID
    (the number of an ID as a number, so SKU-9 comes before SKU-10)."""
    prefix, _, num = card_id.rpartition("-")
    return (due.days if due else 10 ** 6, prefix, int(num) if num.isdigit() else 0, card_id)


def outgoing_links(cfg: BoardConfig, card: Card) -> list[str]:
    """Card IDs named in the card's link fields, in field order, without repeats."""
    ctype = cfg.types.get(card.type)
    out: list[str] = []
    if ctype is None:
        return out
    for fd in ctype.fields.values():
        if fd.type not in ("link", "links"):
            continue
        value = card.meta.get(fd.key)
        for target in value if isinstance(value, list) else [value] if value else []:
            if isinstance(target, str) and target not in out:
                out.append(target)
    return out


# --- the template environment -----------------------------------------------------------

# Templates compiled in this process, for every Renderer after the first: {jinja's key for
# the template (its name and file): (checksum of the source it was compiled from, code)}.
# Every Renderer makes its Environment with the same settings, so the code of one serves all;
# a changed template has another checksum and is compiled again (one entry per template file).
_COMPILED: dict[str, tuple[str, object]] = {}


def _compiled_templates(folder: Path | None):
    """jinja's bytecode cache: templates this process compiled already, then the files in
    `folder` (when given), through mdboard's one cache helper.

    Compiled templates are code that runs: jinja's own file cache would run whatever
    a shared or unpacked `.git/mdboard/` holds. Through `cache` only what this user
    compiled on this computer is loaded; a failed write (disk full) costs only speed.
    A board folder new to this process (a test's, a second board's build) finds the code
    in memory instead of compiling every template again (~0.3 s), and its folder gets the
    same files a compile would have written.
    """
    from jinja2 import BytecodeCache

    from mdboard.core import cache

    class CompiledTemplates(BytecodeCache):
        VERSION = 1

        def load_bytecode(self, bucket) -> None:
            if folder is not None:
                code = cache.load(folder / f"{bucket.key}.cache", "template", self.VERSION)
                if isinstance(code, bytes):
                    bucket.bytecode_from_string(code)  # jinja checks its own and Python's version, and the source
            known = _COMPILED.get(bucket.key)
            if bucket.code is not None:
                _COMPILED[bucket.key] = (bucket.checksum, bucket.code)
            elif known is not None and known[0] == bucket.checksum:
                bucket.code = known[1]
                self.dump_bytecode(bucket)  # jinja saves only what it compiled itself

        def dump_bytecode(self, bucket) -> None:
            _COMPILED[bucket.key] = (bucket.checksum, bucket.code)
            if folder is not None:
                cache.save(folder / f"{bucket.key}.cache", "template", self.VERSION, bucket.bytecode_to_string())

    return CompiledTemplates()


class Renderer:
    """One jinja Environment and one Markdown parser for a whole build (or a serve session)."""

    def __init__(self, cfg: BoardConfig, compiled: Path | None = None, dates_known: dict | None = None):
        """`compiled`: a private folder where compiled templates are kept between processes;
        `dates_known`: date texts made by earlier builds (see DateFormat)."""
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        self.lang = cfg.language
        self.cfg = cfg
        self.dates = DateFormat(cfg.language, cfg.timezone, dates_known)
        self.folder = template_dir()
        if compiled is not None:
            try:
                compiled.mkdir(parents=True, exist_ok=True)
            except OSError:
                compiled = None  # compiling in each process only costs speed
        bytecode = _compiled_templates(compiled)
        self.env = Environment(loader=FileSystemLoader(str(self.folder)),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               auto_reload=False, cache_size=-1, bytecode_cache=bytecode)
        self.env.globals.update(_=self.text, cfg=cfg, lang=cfg.language, dates=self.dates)
        self.env.filters.update(date=self.dates.long, short=self.dates.short, person=cfg.person_name)
        self.md = None  # the Markdown parser, made when the first card body is rendered
        self._texts: dict[str, str] = {}
        self._templates: dict[str, object] = {}
        self.new_build()

    def text(self, key: str, **values) -> str:
        """Interface text of the `site` area in the board's language (texts without values
        looked up once: every page asks for the same ten)."""
        if values:
            return t_in(self.lang, "site." + key, **values)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = t_in(self.lang, "site." + key)
        return found

    def page(self, name: str, root: str, current: str, nav: list[dict], **context) -> bytes:
        """A whole page as bytes; the header is rendered once per page depth and section."""
        from markupsafe import Markup

        slot = (root, current)
        header = self._headers.get(slot)
        if header is None:
            header = self._headers[slot] = Markup(self.render("_header.html", root=root, current=current, nav=nav))
        return self.render(name, root=root, current=current, header=header, **context).encode("utf-8")

    def new_build(self) -> None:
        """Forget per-build pieces (the navigation may differ between builds)."""
        self._headers: dict[tuple[str, str], str] = {}
        self._bodies: dict[str, str] = {}  # Markdown body -> HTML

    def macro(self, name: str, macro: str):
        """A macro of a template, to call from Python (a tile is made thousands of times)."""
        found = self._templates.get((name, macro))
        if found is None:
            found = self._templates[(name, macro)] = getattr(self.env.get_template(name).module, macro)
        return found

    def render(self, name: str, **context) -> str:
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = self.env.get_template(name)
        return template.render(**context)

    def markdown(self, body: str):
        """The body as HTML (Markup): CommonMark, raw HTML escaped, safe links only.

        Bodies repeat (cards start from their type's template and many keep it), so
        each distinct body is rendered once per build."""
        from markupsafe import Markup

        html = self._bodies.get(body)
        if html is None:
            if self.md is None:
                self.md = make_markdown()
            html = Markup(self.md.render(body))
            if len(self._bodies) < MAX_REMEMBERED_BODIES:
                self._bodies[body] = html
        return html

    def fingerprint(self) -> str:
        """A hash of the templates and static files, so a changed template rebuilds its pages."""
        parts = [mdboard.__version__]
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                parts.append(f"{path.relative_to(self.folder).as_posix()}:{digest(path.read_bytes())}")
        return digest(*parts)


# --- shared by the page plan and the charts -----------------------------------------------------

def card_attrs(cfg: BoardConfig, view: CardView):
    """The data-* attributes the filter script reads, as one escaped attribute string
    (` data-card="" data-id="SKU-0001" …`, what jinja's `xmlattr` makes, without its
    per-call cost: a kanban has thousands of these)."""
    values = (("data-card", ""), ("data-id", view.id), ("data-type", view.card.type),
              ("data-state", view.card.state), ("data-owner", " ".join(view.people)),
              ("data-platforms", json.dumps([k for k, _ in view.platforms], ensure_ascii=False)),
              ("data-tags", json.dumps(view.tags, ensure_ascii=False)),
              ("data-overdue", "1" if view.overdue else "0"), ("data-text", view.search_text(cfg)))
    return Markup(" " + " ".join(f'{key}="{escape(value)}"' for key, value in values))


def timeline_types(cfg: BoardConfig) -> list[CardType]:
    """Types planned by milestones (campaigns): they go on the timeline."""
    return [ctype for ctype in cfg.types.values() if ctype.milestones]


class Page:
    """One output file: where it goes, what it is made from (its key, worked out when first
    asked for), how to make it."""

    __slots__ = ("path", "_key", "make", "keep_existing", "dirty", "early")

    def __init__(self, path: str, key: str | Callable[[], str], make: Callable[[], bytes],
                 keep_existing: bool = False, dirty: bool = True, early: bool = False):
        self.path = path
        self._key = key
        self.make = make
        self.keep_existing = keep_existing  # a broken card: keep its last good page if there is one
        self.dirty = dirty  # False: nothing it shows changed since the last build, which keeps it
        self.early = early  # made first in a rebuild: the changed card's own page and its board

    @property
    def key(self) -> str:
        if callable(self._key):
            self._key = self._key()
        return self._key


def lazy_page(r: Renderer, template: str, root: str, nav, current: str, data, context: Callable):
    """A page renderer that works out its context only when the page is really made."""
    return lambda: r.page(template, root, current, nav, today=data.today, **context())
