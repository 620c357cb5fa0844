"""Interface text in zh-CN and en.

Every user-facing string lives in one catalogue per language:
`mdboard/locale/<lang>/<area>.json`. A key is `area.name`; the area file is loaded
the first time one of its keys is used, so start-up stays fast and each feature
keeps its text in its own file. The CLI and the site share the same catalogues.
"""

from __future__ import annotations

import json
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
    """Translate `area.name` into `lang`."""
    area, _, name = key.partition(".")
    text = catalogue(area, lang).get(name, key)
    return text.format(**values) if values else text
