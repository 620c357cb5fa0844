"""Stand-ins for the three group-chat robots, on 127.0.0.1, for the notify tests.

Each receiver checks what the real platform documents: the address's token or
key, the signature (钉钉: HmacSHA256(key=secret, msg="timestamp\\nsecret"), base64,
URL-encoded in the query, timestamp in ms; 飞书: HmacSHA256(key="timestamp\\nsecret",
msg=""), base64, in the body, timestamp in s; both within one hour), the robot's
keyword, the message's shape and size, and that every mention is well formed.
It answers like the platform (JSON with errcode/code), can be told to answer 429
or 500 first, and records every message it accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DINGTALK_TEXT_LIMIT = 4000  # undocumented by 钉钉; mdboard's own limit, checked here
FEISHU_BODY_LIMIT = 20 * 1024
WECOM_CONTENT_LIMIT = 4096


class Receiver:
    """One robot: a small HTTP server with a token, an optional secret and keyword."""

    platform = ""

    def __init__(self, token: str = "tok123", secret: str = "", keyword: str = "", fail: list[int] | None = None):
        self.token = token
        self.secret = secret
        self.keyword = keyword
        self.fail = list(fail or [])  # HTTP statuses to answer, in order, before accepting
        self.received: list[dict] = []  # accepted bodies
        self.requests = 0
        self.errors: list[str] = []  # why requests were refused
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests += 1
                    status, answer, headers = receiver.answer(self.path, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, raw: bytes) -> tuple[int, dict, dict]:
        if self.fail:
            status = self.fail.pop(0)
            return status, {"error": "busy"}, ({"Retry-After": "0"} if status == 429 else {})
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return self.refuse(400, "not JSON")
        problem = self.check(path, raw, body)
        if problem:
            self.errors.append(problem[1].get("errmsg") or problem[1].get("msg"))
            return problem[0], problem[1], {}
        self.received.append(body)
        return 200, self.ok(), {}

    def refuse(self, status: int, why: str) -> tuple[int, dict, dict]:
        self.errors.append(why)
        return status, {"error": why}, {}

    def texts(self, body: dict) -> str:
        """All visible text of a message (for keyword and content checks)."""
        raise NotImplementedError


def fresh(stamp: float, now: float) -> bool:
    return abs(now - stamp) < 3600


class DingTalkReceiver(Receiver):
    platform = "dingtalk"

    @property
    def url(self) -> str:
        return f"{self.base}/robot/send?access_token={self.token}"

    def ok(self):
        return {"errcode": 0, "errmsg": "ok"}

    def check(self, path, raw, body):
        parsed = urllib.parse.urlparse(path)
        query = urllib.parse.parse_qs(parsed.query)
        if parsed.path != "/robot/send" or query.get("access_token") != [self.token]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret:
            stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            expected = base64.b64encode(hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not stamp.isdigit() or not fresh(int(stamp) / 1000, time.time()) or sign != expected:
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com]"}
        if body.get("msgtype") != "markdown" or set(body) != {"msgtype", "markdown", "at"}:
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        md, at = body["markdown"], body["at"]
        if not (isinstance(md.get("title"), str) and isinstance(md.get("text"), str)):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        if len(md["text"].encode()) > DINGTALK_TEXT_LIMIT:
            return 200, {"errcode": 460101, "errmsg": "message too long"}
        if at.get("isAtAll") is not False or not all(f"@{m}" in md["text"] for m in at["atMobiles"] + at["atUserIds"]):
            return 200, {"errcode": 40035, "errmsg": "mention not in text"}
        if self.keyword and self.keyword not in md["title"] + md["text"]:
            return 200, {"errcode": 310000, "errmsg": "keywords not in content, more: [https://ding-doc.dingtalk.com]"}
        return None

    def texts(self, body):
        return body["markdown"]["title"] + "\n" + body["markdown"]["text"]


class FeishuReceiver(Receiver):
    platform = "feishu"

    @property
    def url(self) -> str:
        return f"{self.base}/open-apis/bot/v2/hook/{self.token}"

    def ok(self):
        return {"code": 0, "msg": "success", "data": {}}

    def check(self, path, raw, body):
        if path != f"/open-apis/bot/v2/hook/{self.token}":
            return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        if len(raw) > FEISHU_BODY_LIMIT:
            return 400, {"code": 9499, "msg": "Bad Request"}
        if self.secret:
            stamp, sign = str(body.pop("timestamp", "")), body.pop("sign", "")
            expected = base64.b64encode(hmac.new(f"{stamp}\n{self.secret}".encode(), b"", hashlib.sha256).digest()).decode()
            if not stamp.isdigit() or not fresh(int(stamp), time.time()) or sign != expected:
                return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        post = body.get("content", {}).get("post", {}).get("zh_cn") if body.get("msg_type") == "post" else None
        if not isinstance(post, dict) or not isinstance(post.get("title"), str) or not isinstance(post.get("content"), list):
            return 400, {"code": 9499, "msg": "Bad Request"}
        for paragraph in post["content"]:
            for element in paragraph:
                tag = element.get("tag")
                if tag not in ("text", "a", "at") or (tag == "at" and not element.get("user_id")) or \
                        (tag == "a" and not element.get("href")) or (tag in ("text", "a") and not element.get("text")):
                    return 400, {"code": 9499, "msg": "Bad Request"}
        if self.keyword and self.keyword not in self.texts(body):
            return 200, {"code": 19024, "msg": "Key Words Not Found"}
        return None

    def texts(self, body):
        post = body["content"]["post"]["zh_cn"]
        return post["title"] + "\n" + "\n".join("".join(e.get("text", "") for e in p) for p in post["content"])


class WeComReceiver(Receiver):
    platform = "wecom"

    @property
    def url(self) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={self.token}"

    def ok(self):
        return {"errcode": 0, "errmsg": "ok"}

    def check(self, path, raw, body):
        parsed = urllib.parse.urlparse(path)
        if parsed.path != "/cgi-bin/webhook/send" or urllib.parse.parse_qs(parsed.query).get("key") != [self.token]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc]"}
        content = body.get("markdown", {}).get("content") if body.get("msgtype") == "markdown" else None
        if not isinstance(content, str):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode()) > WECOM_CONTENT_LIMIT:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return None

    def texts(self, body):
        return body["markdown"]["content"]
