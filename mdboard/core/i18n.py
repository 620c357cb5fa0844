"""Interface text in zh-CN and en.

Every user-facing string lives in one catalogue per language:
`mdboard/locale/<lang>/<area>.json`. A key is `area.name`; the area file is loaded
the first time one of its keys is used, so start-up stays fast and each feature
keeps its text in its own file. The CLI and the site share the same catalogues.
"""

from __future__ import annotations

import json
import re
import os
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"  # mdboard/locale/
_catalogues: dict[tuple[str, str], dict[str, str]] = {}
_language = None


def normalise(lang: str | None) -> str:
    """Map `zh`, `zh_CN`, `en_US.UTF-8` … to a supported language."""
    if not lang:
        return DEFAULT_LANGUAGE
    low = lang.replace("_", "-").split(".")[0].lower()
    return "en" if low.startswith("en") else "zh-CN"


def set_language(lang: str | None) -> None:
    global _language
    _language = normalise(lang)


def get_language() -> str:
    if _language is None:
        return normalise(os.environ.get("MDBOARD_LANG") or DEFAULT_LANGUAGE)
    return _language


@lru_cache(maxsize=None)
def _normalised(lang: str) -> str:
    return normalise(lang)


def catalogue(area: str, lang: str | None = None) -> dict[str, str]:
    """All strings of one area in one language (English fills any gap)."""
    lang = _normalised(lang or get_language())
    key = (lang, area)
    if key not in _catalogues:
        merged = {}
        for code in ("en", lang):
            path = _LOCALE_DIR / code / f"{area}.json"
            if path.exists():
                merged.update(json.loads(path.read_text("utf-8")))
        _catalogues[key] = merged
    return _catalogues[key]


def t(key: str, /, **values) -> str:
    """Translate `area.name` into the current language, filling `{placeholders}`."""
    return t_in(get_language(), key, **values)


def t_in(lang: str, key: str, /, **values) -> str:
    """Translate `area.name` into `lang`.

    A message that depends on a count `n` may hold its plural forms, `{"one": "{n} day
    overdue", "other": "{n} days overdue"}` (CLDR's names, picked by Babel's plural rules
    for the language); Chinese needs one form and writes a plain text.
    """
    area, _, name = key.partition(".")
    text = catalogue(area, lang).get(name, key)
    if isinstance(text, dict):
        text = text.get(plural_form(_normalised(lang), values.get("n", 0))) or text["other"]
    if values and "|" in text:
        text = _PLURAL.sub(lambda m: _one_or_other(lang, values.get(m.group(1)), m.group(2), m.group(3)), text)
    return text.format(**{k: _shown(v) for k, v in values.items()}) if values else text


def _shown(value):
    """A value as the user wrote it: `wip: true` in mdboard.yaml is shown as 「true」, the
    YAML spelling, not Python's 「True」."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# `{errors|error|errors}`: the word for one and for other counts of the value `errors`, inside a
# longer message ("checked {cards} {cards|card|cards}: {errors} {errors|error|errors}").
_PLURAL = re.compile(r"\{(\w+)\|([^{}|]*)\|([^{}|]*)\}")


def _one_or_other(lang: str, count, one: str, other: str) -> str:
    """`one` when Babel's plural rules for `lang` call `count` "one", else `other`."""
    try:
        return one if plural_form(_normalised(lang), count) == "one" else other
    except (TypeError, ValueError):
        return other


@lru_cache(maxsize=4096)
def plural_form(lang: str, n) -> str:
    """CLDR's plural category of `n` in `lang` ("one", "other" ...), from Babel."""
    from babel.core import Locale

    return Locale.parse("zh_Hans_CN" if lang == "zh-CN" else lang).plural_form(n)


_reverse: dict[tuple[str, str], dict[str, str]] = {}  # (language, area) -> {text: key}


def key_of(text: str) -> str | None:
    """The catalogue key (`area.name`) whose text, in any language, is `text`; None if none.

    Help text is made when a command's module is imported; a later run in the same
    process (a test, a server) may speak another language and says it again by its key.
    A text made by `t` comes from a catalogue this process has loaded, so only those are
    searched (reading every catalogue of both languages cost ~11 ms, a tenth of a
    `--help`), the current language's first: a text already in it stays as it is.
    """
    lang = get_language()
    for code, area in sorted(_catalogues, key=lambda pair: (pair[0] != lang, pair)):
        reverse = _reverse.get((code, area))
        if reverse is None:
            reverse = _reverse[(code, area)] = {}
            for name, value in _catalogues[(code, area)].items():
                if isinstance(value, str):
                    reverse.setdefault(value, f"{area}.{name}")
        if text in reverse:
            return reverse[text]
    return None


def join_list(items) -> str:
    """Words as a list in the current language: 规划中、拍摄中 / Planning, Shooting."""
    return ("、" if get_language() == "zh-CN" else ", ").join(str(item) for item in items)
