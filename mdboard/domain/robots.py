"""The three group-chat robots: 钉钉 custom robot, 飞书 custom bot, 企业微信 group robot.

What each platform documents, in one place per platform: the message format mdboard
uses (钉钉 and 企业微信 markdown, 飞书 `post` rich text), how a person is @-mentioned,
the size limit a message must stay under, how a request is signed, and what the
platform's answer means (delivered, try again later, or refused and why). The
sources are listed in docs/notify.md.

A digest arrives here as `Line`s of `Span`s. Text from cards and people (titles,
names, history lines) is never markup: `plain_text` neutralises it, so a card titled
`[点我](http://…)` or `<@all>` shows those characters and links or mentions no one.
Only the links mdboard makes (to `site_url`) and the mentions it makes (roster ids
from mdboard.yaml) become markup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass, field

# 钉钉 documents no size for markdown; 4,000 bytes of text is our cautious choice.
# 飞书: the request body must stay under 20 KB. 企业微信: markdown content ≤ 4,096 bytes.
DINGTALK_TEXT_LIMIT = 4000
FEISHU_BODY_LIMIT = 18000
WECOM_CONTENT_LIMIT = 4096
PART_MARK = "（999/999）"  # the widest "（2/3）" after a split part's header, kept free while packing

# ASCII characters that start markup in robot markdown -> their full-width forms,
# which read naturally in Chinese text and mean nothing to a markdown parser.
_FULL_WIDTH = str.maketrans({"\\": "＼", "`": "｀", "*": "＊", "_": "＿", "[": "［", "]": "］", "<": "＜",
                             ">": "＞", "~": "～", "#": "＃", "|": "｜", "!": "！", "&": "＆", "@": "＠"})
_SPACES = re.compile(r"[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
_SCHEME = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*):(?=/)")


def plain_text(text, markup: bool = True) -> str:
    """Card or roster text made inert for a chat message.

    Control characters, line breaks and invisible direction marks become one space;
    `scheme:/` gets a full-width colon so no client turns it into a link; with
    `markup`, characters that start markdown, HTML or mentions become full-width.
    """
    text = _SPACES.sub(" ", str(text))
    text = _SCHEME.sub(r"\1：", text)
    return text.translate(_FULL_WIDTH) if markup else text


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, with "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Span:
    """A piece of a line: text, a link mdboard made, or a mention of a roster person."""

    text: str
    link: str = ""  # a URL built by mdboard from site_url, never from card text
    person: str = ""  # a roster key; mentioned when the person has an id for the platform
    bold: bool = False


@dataclass
class Line:
    """One line of a digest: a heading (bold spans), a list item, or plain text."""

    spans: list[Span]
    item: bool = False


@dataclass
class Rendered:
    """One line in a platform's form, and the ids it mentions."""

    value: object  # str (markdown) or list of post elements (飞书)
    mentions: set = field(default_factory=set)  # (kind, id): kind "user", or "mobile" for 钉钉 atMobiles


@dataclass(frozen=True)
class Outcome:
    """What a platform's answer means: delivered, retry later, or refused (and why)."""

    status: str  # "ok" | "retry" | "refused"
    reason: str = ""  # for "refused": sign | keyword | ip | address | too_long | other
    detail: str = ""  # the platform's own code and message, for the person fixing it


OK = Outcome("ok")


def _http_outcome(status: int) -> Outcome | None:
    """The HTTP status alone: 429 and 5xx are worth retrying; other 4xx mean a wrong address."""
    if status == 429 or status >= 500:
        return Outcome("retry", detail=f"HTTP {status}")
    if status >= 400:
        return Outcome("refused", "address", f"HTTP {status}")
    return None


def _quote_url(url: str) -> str:
    """A URL safe inside markdown `(…)`: spaces, parentheses and quotes percent-encoded."""
    return urllib.parse.quote(url, safe=":/?#=&%~.-_+,;@!$'*")


class Platform:
    """How one kind of robot takes a message. Subclasses fill in the details."""

    key = ""
    limit = 0

    def __init__(self, people: dict, lang: str = "zh-CN"):
        self.people = people  # roster key -> Person
        self.lang = lang

    def mention_id(self, person_key: str) -> tuple[str, str] | None:
        """("user", id) for a person with an id on this platform, else None (shown by name)."""
        ident = self.chat(person_key).get(self.key, "")
        return ("user", ident) if ident else None

    def chat(self, person_key: str) -> dict:
        person = self.people.get(person_key)
        return (getattr(person, "chat", None) or {}) if person else {}

    def person_name(self, person_key: str) -> str:
        person = self.people.get(person_key)
        return person.name if person else person_key

    def render(self, line: Line) -> Rendered:
        raise NotImplementedError

    def payload(self, header: str, lines: list[Rendered]) -> dict:
        raise NotImplementedError

    def size(self, payload: dict) -> int:
        raise NotImplementedError

    def sign(self, url: str, body: dict, secret: str, now_ms: int) -> tuple[str, dict]:
        return url, body

    def outcome(self, status: int, data) -> Outcome:
        raise NotImplementedError

    def pack(self, header: str, lines: list[Line]) -> list[dict]:
        """The lines as few payloads as fit under the limit; each repeats the header with (k/n)."""
        rendered = [self.render(line) for line in lines]
        parts: list[list[Rendered]] = [[]]
        reserve = header + PART_MARK
        for item in rendered:
            if parts[-1] and self.size(self.payload(reserve, parts[-1] + [item])) > self.limit:
                parts.append([])
            parts[-1].append(item)
        if len(parts) == 1:
            return [self.payload(header, parts[0])]
        return [self.payload(f"{header}（{i}/{len(parts)}）", part) for i, part in enumerate(parts, 1)]


class _Markdown(Platform):
    """钉钉 and 企业微信: one markdown string; they differ in mentions and line breaks."""

    separator = "\n"

    def mention(self, ident: str) -> str:
        raise NotImplementedError

    def render(self, line: Line) -> Rendered:
        out, mentions = [], set()
        for span in line.spans:
            text = plain_text(span.text)
            ident = self.mention_id(span.person) if span.person else ""
            if ident:
                out.append(f"{text} {self.mention(ident[1])}" if text else self.mention(ident[1]))
                mentions.add(ident)
            elif span.link and text:
                out.append(f"[{text}]({_quote_url(span.link)})")
            elif span.bold and text:
                out.append(f"**{text}**")
            else:
                out.append(text)
        return Rendered(("- " if line.item else "") + "".join(out), mentions)

    def text(self, header: str, lines: list[Rendered]) -> str:
        head = f"**{plain_text(header)}**"
        return self.separator.join([head] + [str(r.value) for r in lines])


class DingTalk(_Markdown):
    """钉钉 custom robot: markdown; @ by userId or mobile, listed in `at` and written in the text."""

    key = "dingtalk"
    limit = DINGTALK_TEXT_LIMIT
    separator = "\n\n"  # 钉钉's markdown needs a blank line to break a line

    def mention_id(self, person_key: str) -> tuple[str, str] | None:
        """The 钉钉 userId if the roster has one, else the mobile number."""
        chat = self.chat(person_key)
        if chat.get("dingtalk"):
            return ("user", chat["dingtalk"])
        return ("mobile", chat["mobile"]) if chat.get("mobile") else None

    def mention(self, ident: str) -> str:
        return f"@{ident}"

    def payload(self, header: str, lines: list[Rendered]) -> dict:
        mentions = sorted(set().union(*(r.mentions for r in lines))) if lines else []
        mobiles = [ident for kind, ident in mentions if kind == "mobile"]
        users = [ident for kind, ident in mentions if kind == "user"]
        return {"msgtype": "markdown",
                "markdown": {"title": plain_text(header, markup=False), "text": self.text(header, lines)},
                "at": {"atMobiles": mobiles, "atUserIds": users, "isAtAll": False}}

    def size(self, payload: dict) -> int:
        return len(payload["markdown"]["text"].encode("utf-8"))

    def sign(self, url: str, body: dict, secret: str, now_ms: int) -> tuple[str, dict]:
        """加签: HmacSHA256(key=secret, msg="timestamp\\nsecret"), base64, URL-encoded, as query parameters."""
        digest = hmac.new(secret.encode("utf-8"), f"{now_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{url}{'&' if '?' in url else '?'}timestamp={now_ms}&sign={sign}", body

    def outcome(self, status: int, data) -> Outcome:
        settled, code, detail = _errcode_answer(status, data)
        if settled:
            return settled
        low = detail.lower()
        if code in (130101, 90030, -1):
            return Outcome("retry", detail=detail)
        if "keyword" in low:
            return Outcome("refused", "keyword", detail)
        if "sign" in low or "timestamp" in low:
            return Outcome("refused", "sign", detail)
        if "ip" in low.split() or "whitelist" in low:
            return Outcome("refused", "ip", detail)
        if code in (300001, 300005, 400101, 400102) or "token" in low:
            return Outcome("refused", "address", detail)
        return Outcome("refused", "other", detail)


class WeCom(_Markdown):
    """企业微信 group robot: markdown; @ only as `<@userid>` in the content; the key is in the address."""

    key = "wecom"
    limit = WECOM_CONTENT_LIMIT

    def mention(self, ident: str) -> str:
        return f"<@{ident}>"

    def payload(self, header: str, lines: list[Rendered]) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": self.text(header, lines)}}

    def size(self, payload: dict) -> int:
        return len(payload["markdown"]["content"].encode("utf-8"))

    def outcome(self, status: int, data) -> Outcome:
        settled, code, detail = _errcode_answer(status, data)
        if settled:
            return settled
        if code in (45009, -1):
            return Outcome("retry", detail=detail)
        if code in (93000, 40001, 40014):
            return Outcome("refused", "address", detail)
        if code == 40058:
            return Outcome("refused", "too_long", detail)
        return Outcome("refused", "other", detail)


class Feishu(Platform):
    """飞书 custom bot: `post` rich text; text elements are shown as typed, links and @ are their own elements."""

    key = "feishu"
    limit = FEISHU_BODY_LIMIT

    def render(self, line: Line) -> Rendered:
        elements, mentions = [], set()
        if line.item:
            _add_text(elements, "• ")
        for span in line.spans:
            text = plain_text(span.text, markup=False)
            ident = self.mention_id(span.person) if span.person else None
            if ident:
                _add_text(elements, text + " " if text else "")
                elements.append({"tag": "at", "user_id": ident[1],
                                 "user_name": plain_text(self.person_name(span.person), markup=False)})
                mentions.add(ident)
            elif span.link and text:
                elements.append({"tag": "a", "text": text, "href": span.link})
            else:
                _add_text(elements, text, span.bold)
        return Rendered(elements, mentions)

    def payload(self, header: str, lines: list[Rendered]) -> dict:
        lang = "en_us" if self.lang == "en" else "zh_cn"
        return {"msg_type": "post",
                "content": {"post": {lang: {"title": plain_text(header, markup=False),
                                            "content": [r.value for r in lines]}}}}

    def size(self, payload: dict) -> int:
        return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def sign(self, url: str, body: dict, secret: str, now_ms: int) -> tuple[str, dict]:
        """签名校验: HmacSHA256(key="timestamp\\nsecret", msg=""), base64, in the body; timestamp in seconds."""
        stamp = str(now_ms // 1000)
        digest = hmac.new(f"{stamp}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
        return url, {"timestamp": stamp, "sign": base64.b64encode(digest).decode("ascii"), **body}

    def outcome(self, status: int, data) -> Outcome:
        code = _code(data, "code")
        if code is None:
            code = _code(data, "StatusCode")
        msg = str((data or {}).get("msg") or (data or {}).get("StatusMessage") or "")
        if code == 0 and status < 400:
            return OK
        http = _http_outcome(status)
        if http and code in (None, 0):
            return http
        detail = f"{code} {msg}".strip()
        if code == 11232:
            return Outcome("retry", detail=detail)
        reason = {19021: "sign", 19022: "ip", 19024: "keyword", 19001: "address"}.get(code, "other")
        return Outcome("refused", reason, detail)


PLATFORMS = {cls.key: cls for cls in (DingTalk, Feishu, WeCom)}


def _add_text(elements: list[dict], text: str, bold: bool = False) -> None:
    """A 飞书 text element, joined to the previous one when both are plain (smaller messages)."""
    if not text:
        return
    last = elements[-1] if elements else None
    if not bold and last is not None and last["tag"] == "text" and "style" not in last:
        last["text"] += text
    else:
        elements.append({"tag": "text", "text": text, **({"style": ["bold"]} if bold else {})})


def _errcode_answer(status: int, data) -> tuple[Outcome | None, int | None, str]:
    """钉钉 and 企业微信 answer `{errcode, errmsg}`: delivered, an HTTP-level outcome, or (code, detail) to judge."""
    code, msg = _code(data, "errcode"), str((data or {}).get("errmsg", ""))
    if code == 0 and status < 400:
        return OK, code, ""
    return _http_outcome(status), code, f"{code} {msg}".strip()


def _code(data, key: str):
    if not isinstance(data, dict) or key not in data:
        return None
    try:
        return int(data[key])
    except (TypeError, ValueError):
        return None
