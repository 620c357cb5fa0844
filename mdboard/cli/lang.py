"""The CLI speaks the board's language, click's own words included.

* click marks its words for gettext (`_("Usage:")`, `ngettext(...)`); `install` gives
  click's modules a gettext that reads mdboard's catalogue for click in the current
  language (`mdboard/locale/zh-CN/LC_MESSAGES/click.po`, compiled to `click.mo` with
  Babel: `make catalogues`). English needs no catalogue: click's words are English.
* `interface_language` decides the language before anything is parsed: MDBOARD_LANG,
  else the language of the board the command will open (`--board`, MDBOARD_BOARD or the
  folders above the current one), else zh-CN. It reads one line of mdboard.yaml, no YAML.
* `localize` makes a command read well in the current language: argument and option
  placeholders from the `metavars` catalogue (`卡片编号`, `CARD_ID`; never `TYPE_`), and
  help text made before the language was known (a command imported by an earlier run in
  the same process) said again in the current language.
"""

from __future__ import annotations

import gettext
import os
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

import click

from mdboard.core.i18n import catalogue, get_language, key_of, normalise, t
from mdboard.core.text import lazy_regex

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
CLICK_DOMAIN = "click"
_CLICK_MODULES = ("click.core", "click.exceptions", "click.formatting", "click.decorators", "click.types",
                  "click.parser", "click.termui", "click.utils")
_LANGUAGE_LINE = re.compile(r"""^language:[ \t]*["']?([A-Za-z_-]+)["']?[ \t]*(?:#.*)?$""", re.M)
_WORD = re.compile(r"[A-Z][A-Z0-9_]*")
# A Chinese character, a run of other characters, or spaces: what `wrap` breaks between
# (compiled when help is laid out: its Unicode ranges cost ~2 ms to compile).
_TOKEN = lazy_regex(r"[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]+|\s+")
_NO_LINE_START = set("。，、：；！？）」』】》”’")  # Chinese punctuation never begins a line: it stays on the line before
_TYPE_WORDS = {"text": "TEXT", "integer": "INTEGER", "integer range": "INTEGER", "float": "NUMBER",
               "float range": "NUMBER", "boolean": "BOOLEAN"}


# --- click's own words -----------------------------------------------------------------------

@lru_cache(maxsize=None)
def click_translation(lang: str) -> gettext.NullTranslations:
    """click's words in `lang` (English: as click writes them)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{CLICK_DOMAIN}.mo"
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        return gettext.GNUTranslations(fh)


def _gettext(message: str) -> str:
    return click_translation(get_language()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return click_translation(get_language()).ngettext(singular, plural, n)


def install() -> None:
    """Give click's modules mdboard's gettext (they call the `_` and `ngettext` they imported)."""
    for name in _CLICK_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = _gettext
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext


@lru_cache(maxsize=None)
def _click_msgids() -> dict[str, str]:
    """click's words in every language we translate them to -> click's English."""
    out = {}
    for lang in os.listdir(LOCALE_DIR):
        translation = click_translation(lang)
        for msgid, msgstr in getattr(translation, "_catalog", {}).items():
            if isinstance(msgid, str) and msgid and isinstance(msgstr, str):
                out[msgstr] = msgid
            elif isinstance(msgid, tuple) and isinstance(msgstr, str):
                out[msgstr] = msgid[0]
    return out


# --- which language ----------------------------------------------------------------------------

def interface_language(args: list[str]) -> str:
    """MDBOARD_LANG, else the language of the board this command will open, else zh-CN."""
    if os.environ.get("MDBOARD_LANG"):
        return normalise(os.environ["MDBOARD_LANG"])
    text = _config_text(_board_option(args) or os.environ.get("MDBOARD_BOARD"))
    m = _LANGUAGE_LINE.search(text) if text else None
    return normalise(m.group(1) if m else None)


def _board_option(args: list[str]) -> str | None:
    """The value of `--board PATH` / `--board=PATH` among the group's own options."""
    for i, arg in enumerate(args):
        if arg == "--board" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--board="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            return None  # the command's name: what follows is the command's own
    return None


def _config_text(start: str | None) -> str:
    """The text of the mdboard.yaml in `start` or the first folder above it that has one."""
    try:
        folder = Path(start or os.getcwd()).resolve()
        for candidate in (folder, *folder.parents):
            config = candidate / "mdboard.yaml"
            if config.is_file():
                return config.read_text("utf-8", "replace")
    except OSError:
        pass
    return ""


# --- commands in the current language -----------------------------------------------------------

def localize(command) -> None:
    """Put `command` (and a group's own options) into the current language: its help and
    its options' help, its placeholders. Help is made when a command's module is imported,
    maybe by an earlier run in another language (a test, a server): each text found in a
    catalogue is said again in this run's language (a text already in it stays as it is)."""
    command.help = _again(command.help)
    command.short_help = _again(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _again(param.help)
    help_option = getattr(command, "_help_option", None)
    if help_option is not None:
        help_option.help = _again(help_option.help)
    command.context_class = Context
    command.options_metavar = "[" + placeholder("OPTIONS") + "]"
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = f"{placeholder('COMMAND')} [{placeholder('ARGS')}]..."
    for param in command.params:
        _placeholder_for(param)


def _again(text: str | None) -> str | None:
    """Help text said again in the current language (it was made in another)."""
    if not text:
        return text
    key = key_of(text)
    if key is not None:
        return t(key)
    msgid = _click_msgids().get(text, text)
    return _gettext(msgid)


def placeholder(word: str) -> str:
    """A placeholder such as CARD_ID or KEY=VALUE, its words in the current language."""
    words = catalogue("metavars")
    return _WORD.sub(lambda m: words.get(m.group(0), m.group(0)), word)


def _placeholder_for(param) -> None:
    """Set the placeholder click shows for `param` (`卡片编号`, `[成员]`, `字段=值...`)."""
    if not hasattr(param, "_mdboard_metavar"):
        param._mdboard_metavar = param.metavar  # as the command declared it (None: made from its name)
    declared = param._mdboard_metavar
    if declared is not None and key_of(declared) is not None:  # a catalogue text (列名=字段): this run's language
        declared = t(key_of(declared))
    if isinstance(param.type, click.Choice):  # click lists the choices: {github|gitlab}
        return
    if isinstance(param, click.Argument):
        if declared is not None:
            param.metavar = placeholder(declared)
            return
        word = placeholder(param.name.upper())
        word = word if param.required else f"[{word}]"
        param.metavar = word + ("..." if param.nargs != 1 else "")
        return
    if getattr(param, "is_flag", False):
        return
    if declared is not None:
        param.metavar = placeholder(declared)
        return
    named = catalogue("metavars").get("--" + param.name)
    if named is None:
        named = placeholder(_type_word(param.type))
    param.metavar = named + ("..." if param.nargs != 1 else "")


def _type_word(kind) -> str:
    """The English word for a parameter type (PATH, FILE, DIR, TEXT, INTEGER ...)."""
    if isinstance(kind, click.Path):
        return "FILE" if kind.file_okay and not kind.dir_okay else "DIR" if kind.dir_okay and not kind.file_okay \
            else "PATH"
    return _TYPE_WORDS.get(kind.name, kind.name.upper())


# --- help laid out by what a terminal shows ---------------------------------------------------

def width(text: str) -> int:
    """Columns a terminal gives `text`: two for each Chinese character or full-width sign."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """`text` in lines of at most `columns` terminal columns: broken at spaces, and between
    any two Chinese characters (Chinese has no spaces to break at), never before a closing
    punctuation mark (it may stick out by one character instead)."""
    lines, line, used = [], "", 0  # `used`: width(line), kept as the line grows
    for token in _TOKEN().findall(text):
        if token.isspace():
            if line:
                line += " "
                used += 1
            continue
        size = width(token)
        if line and used + size > columns and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line += token
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


class HelpFormatter(click.HelpFormatter):
    """click's help layout measured in terminal columns, with headings and the usage
    prefix punctuated as the language writes them (`选项：`, `用法：`)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            word = _gettext("Usage:")
            prefix = word if width(word[-1:]) == 2 else word + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        colon = "：" if heading and width(heading[-1]) == 2 else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        if not any(width(c) == 2 for c in text):
            return super().write_text(text)
        indent = " " * self.current_indent
        for paragraph in text.split("\n\n"):
            for line in wrap(" ".join(paragraph.split()), max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n")
            self.write("\n")
        self.buffer[-1] = self.buffer[-1][:-1]

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((width(first) for first, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - self.current_indent - 2, 10)) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    """A click context whose help is laid out by `HelpFormatter`."""

    formatter_class = HelpFormatter
