"""`mdboard serve --team`: the shared board where every action is a validated card change,
committed as the person who made it.

Every action calls the same `domain/ops` function as the CLI command that does the
same thing (`move_card`, `new_card`, `set_fields`, `assign`, `tick`, `add_note`), so the
rules, the messages and the commit (subject, trailers) are the CLI's; the author is the
signed-in person (on 127.0.0.1 with no accounts: the local git user, as the CLI). The
web never offers `--as`. All reads and writes of cards run on one writer thread that
owns its own Board; the event loop only parses requests and renders answers.

Pages stay the built site: the server adds a bar (who is signed in, new card, sign
out) and, on a card's page, the card's action panel — plain HTML forms that work
without JavaScript; `team.js` turns them (and drag and drop on the kanban) into
in-place actions. Forms carry the card's version and the values they were made from,
so a write against a card that changed meanwhile is refused (or merged, when the two
changes touch different fields) by the same ops call.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from mdboard.core.errors import CardNotFound, MdboardError, Problem, ValidationFailed, os_error_message, parenthesized
from mdboard.core.fsutil import settled
from mdboard.core.i18n import t

from mdboard.serve import forms
from mdboard.serve.accounts import Accounts, remember_url, secret_key
from mdboard.serve.guard import Sessions, Throttle, csrf_ok, same_origin, session_of
from mdboard.serve.hosts import is_loopback
from mdboard.serve.pages import LIVE_PREFIX, STATIC_PREFIX, Extras, error_page
from mdboard.serve.writer import Writer, WriterStopped

TEMPLATES = Path(__file__).with_name("templates")
MAX_BODY = 256 * 1024  # a form post is a few KB; anything larger is refused (413)
BUILT_WAIT = 15.0  # seconds a form post waits for its change to reach the pages
READ_TRIES = 3  # reads of a page's card data before a card moving meanwhile counts as gone
_UNSETTLED = object()  # the stamp of a file read in its own tick: equal to none, so read again
CARD_PAGE = re.compile(r"^cards/([A-Z][A-Z0-9]*-\d+)\.html$")
ID_PATH = r"{card_id:str}"
PUBLIC_PREFIXES = ("/static/",)  # the site's stylesheet and script: no card data, needed by the sign-in page


@dataclass
class Outcome:
    """What an action did, for a page (flash + redirect) or for team.js (JSON)."""

    ok: bool
    message: str
    problems: list = field(default_factory=list)  # [{"field", "message", "hint"}]
    status: int = 200
    card: str = ""
    state: str = ""
    forcible: bool = False
    url: str = ""
    paths: list = field(default_factory=list)  # board-relative files the action wrote
    commit: str | None = None

    def to_json(self) -> dict:
        return {"ok": self.ok, "message": self.message, "problems": self.problems, "card": self.card,
                "state": self.state, "forcible": self.forcible, "url": self.url, "commit": self.commit}


@dataclass
class Visitor:
    """Who is asking: the acting person (None: must sign in first)."""

    actor: object | None
    person: object | None = None
    local: bool = False


class TeamBoard:
    """The team mode's routes, gate, page additions and session middleware."""

    def __init__(self, root: Path, site, bound: str, log, accounts: Accounts | None = None):
        from mdboard.core.store import Board

        self.root = Path(root)
        self.site = site
        self.log = log
        self.accounts = accounts or Accounts(self.root)
        self.local_allowed = is_loopback(bound)
        self.writer = Writer(lambda: self.board, self._lost)  # actions waiting together share one batch
        # pages (a card's panel, the forms) are read on a thread of their own, so a page never
        # waits in the queue of writes; each thread has its own Board (never shared)
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mdboard-reader")
        self.board = Board.open(str(self.root))  # used on the writer thread only
        self.stamp = None  # mdboard.yaml's stamp when self.board last read it
        self._reading = threading.local()  # the reader thread's Board and its stamp
        self._config = None
        self._config_stamp = None
        self._local_actor = self._git_user() if self.local_allowed else None
        self.by_name = Throttle(10, 15 * 60)
        self.by_address = Throttle(30, 15 * 60)
        self.env = self._environment()
        self.key = secret_key(self.accounts.folder)
        self.hub = None  # the server's event hub (set by make_server): where `card` events go

    # --- set-up ------------------------------------------------------------------------

    def check_can_start(self) -> None:
        """A server others can reach needs accounts: refuse to start without any."""
        if not self.local_allowed and not self.accounts.any():
            raise MdboardError(t("web.needs_accounts"))

    def _git_user(self):
        """The local git user, as the CLI acts (read once, before any thread uses the board)."""
        from mdboard.domain.ops import resolve_actor

        return resolve_actor(self.board)

    def visitor_name(self) -> str:
        actor = self._local_actor
        return (actor.name or actor.email) if actor else ""

    def announced(self, url: str) -> None:
        remember_url(self.accounts.folder, url)

    def _environment(self):
        import jinja2

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                 trim_blocks=True, lstrip_blocks=True)
        env.globals["_"] = lambda key, **values: t("web." + key, **values)
        env.globals["static"] = STATIC_PREFIX
        env.globals["live"] = LIVE_PREFIX
        env.filters["q"] = lambda value: quote(str(value), safe="")
        return env

    def middleware(self) -> list:
        from starlette.middleware import Middleware
        from starlette.middleware.body_limit import RequestBodyLimitMiddleware

        return [Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY), Middleware(Sessions, key=self.key)]

    def routes(self) -> list:
        from starlette.routing import Route

        p = LIVE_PREFIX
        return [
            Route(p + "signin", self.signin_page, methods=["GET"]),
            Route(p + "signin", self.signin, methods=["POST"]),
            Route(p + "signin/{token:str}", self.link_page, methods=["GET"]),
            Route(p + "signin/{token:str}", self.link_signin, methods=["POST"]),
            Route(p + "signout", self.signout, methods=["POST"]),
            Route(p + "password", self.password_page, methods=["GET"]),
            Route(p + "password", self.password, methods=["POST"]),
            Route(p + "new", self.new_chooser, methods=["GET"]),
            Route(p + "new/{type_key:str}", self.new_page, methods=["GET"]),
            Route(p + "new/{type_key:str}", self.new, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/edit", self.edit_page, methods=["GET"]),
            Route(p + f"cards/{ID_PATH}/edit", self.edit, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/move", self.move, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/assign", self.assign, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/tick", self.tick, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/note", self.note, methods=["POST"]),
            Route(p + f"cards/{ID_PATH}/panel", self.panel, methods=["GET"]),
            Route(p + "find", self.find, methods=["GET"]),
        ]

    # --- who is asking -------------------------------------------------------------------

    def config(self):
        """The board's config as mdboard.yaml says now (read again when it changed; a file
        read in the tick it was written in is read again next time, `fsutil.settled`)."""
        from mdboard.core.config import CONFIG_NAME, load_config

        read_ns = time.time_ns()
        try:
            st = (self.root / CONFIG_NAME).stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if self._config is None or stamp != self._config_stamp:
            try:
                self._config = load_config(self.root, self.board.state_dir)
                self._config_stamp = stamp if stamp is None or settled(stamp[0], read_ns) else _UNSETTLED
            except MdboardError:
                if self._config is None:
                    raise
        return self._config

    def visitor(self, request) -> Visitor:
        """The signed-in person (accounts) or the local git user (127.0.0.1, no accounts)."""
        from mdboard.domain.ops import Actor

        cfg = self.config()
        if self.accounts.any():
            session = session_of(request)
            key = session.get("person")
            account = self.accounts.get(key) if key else None
            person = cfg.people.get(key) if key else None
            if account is None or person is None or session.get("gen") != account.generation:
                return Visitor(None)
            email = person.emails[0] if person.emails else f"{person.key}@mdboard.invalid"
            return Visitor(Actor(person.key, person.name, email), person)
        if self._local_actor is None:
            return Visitor(None)
        actor = self._local_actor
        return Visitor(actor, cfg.people.get(actor.person) if actor.person else None, local=True)

    def gate(self, request):
        """Pages and the event stream need a signed-in person once accounts exist."""
        if request.url.path.startswith(PUBLIC_PREFIXES) or self.visitor(request).actor is not None:
            return None
        from starlette.responses import RedirectResponse, Response

        if request.url.path == LIVE_PREFIX + "events":
            return Response(status_code=403)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{LIVE_PREFIX}signin?next={quote(target, safe='')}", status_code=303)

    def _fresh(self):
        """The calling thread's Board (the writer's, or the reader's) with what changed on disk
        forgotten, mdboard.yaml included: a rule, a person or a WIP limit changed while the
        server runs applies to the very next action and page."""
        from mdboard.core.store import Board

        if threading.current_thread().name.startswith("mdboard-reader"):
            own = self._reading
            if getattr(own, "board", None) is None:
                own.board, own.stamp = Board.open(str(self.root)), None
        else:
            own = self
        board = own.board
        read_ns = time.time_ns()
        try:
            stamp = board.config_stamp()
        except OSError:
            stamp = None
        if stamp != own.stamp:
            board.reload_config()
            own.stamp = stamp if stamp is None or settled(stamp[1], read_ns) else _UNSETTLED
        else:
            board.invalidate()
        return board

    async def _read(self, fn, *args):
        """`fn(*args)` on the reader thread (pages: a card's panel, the forms). Once the reader
        is shut (the server stopping), WriterStopped: answered 503 with what to do
        (`exception_handlers`), not as a server error."""
        try:
            future = asyncio.get_running_loop().run_in_executor(self.reader, fn, *args)
        except RuntimeError as exc:  # "cannot schedule new futures after shutdown"
            raise WriterStopped(t("serve.stopping_page")) from exc
        return await future

    def exception_handlers(self) -> dict:
        """What the application answers for the team board's own exceptions."""
        return {WriterStopped: self._stopping}

    async def _stopping(self, request, exc: WriterStopped):
        """A page asked for while the server stops: 503 and what to do (JSON for team.js)."""
        from starlette.responses import HTMLResponse, JSONResponse

        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(Outcome(False, exc.message, status=503).to_json(), status_code=503)
        return HTMLResponse(error_page(503, exc.message), status_code=503, headers={"Cache-Control": "no-store"})

    @staticmethod
    def _settled(fn, *args):
        """`fn(*args)`, read again if a card moved between listing its folder and opening its
        file (the writer commits while the reader reads; the second read sees it moved)."""
        for attempt in range(READ_TRIES):
            try:
                return fn(*args)
            except (OSError, CardNotFound):
                if attempt == READ_TRIES - 1:
                    raise

    # --- what pages get ---------------------------------------------------------------------

    async def page_hook(self, request, rel: str) -> Extras:
        """The bar on every page; on a card's page, the card's panel after its title."""
        visitor = self.visitor(request)
        session = session_of(request)
        flash = session.pop("flash", None)
        if flash is not None:
            session.changed = True
        head = f'<link rel="stylesheet" href="{STATIC_PREFIX}team.css">' + self._bar(visitor, session, flash)
        tail = f'<script src="{STATIC_PREFIX}vendor/Sortable.min.js"></script><script src="{STATIC_PREFIX}team.js"></script>'
        after_title = ""
        m = CARD_PAGE.match(rel)
        if m and visitor.actor is not None:
            after_title = await self._read(self._panel_now, m.group(1), visitor, session.csrf)
        return Extras(head, tail, after_title)

    def _bar(self, visitor, session, flash) -> str:
        cfg = self.config()
        types = {tk: {"label": ct.label, "states": [[s.key, s.label] for s in ct.states],
                      "transitions": ct.transitions} for tk, ct in cfg.types.items()}
        return self.env.get_template("bar.html").render(
            visitor=visitor, csrf=session.csrf, types=cfg.types, flash=flash,
            types_json=json.dumps(types, ensure_ascii=False), accounts=self.accounts.any())

    def _panel_now(self, card_id: str, visitor, csrf: str) -> str:
        """The card's panel, or nothing when the card is gone (reader thread)."""
        try:
            return self._settled(self._panel_html, card_id, visitor, csrf)
        except CardNotFound:
            return ""

    def _panel_html(self, card_id: str, visitor, csrf: str) -> str:
        """The action panel of one card, from the card as it is on disk now (writer thread)."""
        from mdboard.domain.ops import version_of

        board = self._fresh()
        try:
            card = board.find(card_id)
        except CardNotFound:
            raise  # moved meanwhile (read again), or gone: no panel
        except MdboardError:
            return ""
        ctype = board.config.types.get(card.type)
        if ctype is None or card.error:
            return ""
        targets = [(s.key, s.label) for s in ctype.states if s.key in ctype.allowed_targets(card.state)]
        state = ctype.state(card.state)
        items, seen = [], {}
        for done, text in card.checklist:
            seen[text] = seen.get(text, 0) + 1
            items.append({"done": done, "text": text, "n": seen[text]})
        return self.env.get_template("panel.html").render(
            card=card, ctype=ctype, state_label=state.label if state else card.state, targets=targets,
            items=items, csrf=csrf, version=version_of(board, card), people=board.config.people,
            owner=card.meta.get("owner") or "")

    async def panel(self, request):
        """The panel alone (team.js fetches it again after an action on the card page)."""
        from starlette.responses import HTMLResponse

        visitor = self.visitor(request)
        if visitor.actor is None:
            return HTMLResponse("", status_code=403)
        body = await self._read(self._panel_now, request.path_params["card_id"], visitor, session_of(request).csrf)
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    # --- actions --------------------------------------------------------------------------

    async def _run(self, fn, *args):
        return await asyncio.wrap_future(self.writer.submit(fn, *args))

    def _lost(self, outcome: "Outcome", error) -> "Outcome":
        """The answer to an action whose commit its batch could not record: its files put back
        (git's words, as a single change gets them, or `git.not_saved`), or, where they could
        not be, written and left for the next action to record (`git.saved_not_recorded`)."""
        return self._refusal(error, 400)

    async def _checked(self, request):
        """(form, wants JSON, visitor, refusal) of a write: refused before anything runs when it
        comes from another origin, lacks the session's CSRF token, or nobody is signed in."""
        form = await request.form(max_files=0, max_fields=400)
        wants_json = "application/json" in request.headers.get("accept", "")
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        if not same_origin(request) or not csrf_ok(request, token):
            return form, wants_json, None, self._refused(request, 403, t("web.csrf_refused"), wants_json)
        visitor = self.visitor(request)
        if visitor.actor is None:
            return form, wants_json, None, self._refused(request, 401, t("web.sign_in_first"), wants_json)
        return form, wants_json, visitor, None

    async def _act(self, do, visitor, form, wants_json: bool) -> Outcome:
        """`do(visitor, form)` on the writer thread; a plain form waits until the pages show it.
        A server that is stopping refuses it (503), never leaves it waiting."""
        try:
            outcome = await self._run(self._guarded, do, visitor, form)
        except WriterStopped as exc:
            return Outcome(False, exc.message, status=503)
        if outcome.ok:
            self._tell_pages(outcome)
            self.log(t("web.logged", who=visitor.actor.name, what=outcome.message))
            await self._shown(outcome.paths, wait=not wants_json)
        return outcome

    def _tell_pages(self, outcome: Outcome) -> None:
        """Every open page hears of a committed move at once (a `card` event: the kanban moves
        the tile there and then), instead of after the site's rebuild, which may take seconds
        on a big board; the rebuilt pages follow with the rest (counts, ages, other pages)."""
        if self.hub is not None and outcome.commit and outcome.state and outcome.card:
            self.hub.card_changed({"id": outcome.card, "state": outcome.state, "commit": outcome.commit})

    async def _action(self, request, do, back: str):
        """A write answered with JSON for team.js (`Accept: application/json`), else with a
        redirect to `back` where the message shows."""
        form, wants_json, visitor, refusal = await self._checked(request)
        if refusal is not None:
            return refusal
        outcome = await self._act(do, visitor, form, wants_json)
        return self._answer(request, outcome, wants_json, outcome.url or back)

    def _guarded(self, do, visitor, form) -> Outcome:
        """`do` with the library's refusals turned into an Outcome (writer thread)."""
        from mdboard.core.errors import CardChanged, LockBusy, UnsavedEdits

        try:
            self._fresh()
            return do(visitor, form)
        except CardChanged as exc:
            return self._refusal(exc, 409, state=exc.state)
        except UnsavedEdits as exc:
            return self._refusal(exc, 409)
        except ValidationFailed as exc:
            return self._refusal(exc, 422)
        except CardNotFound as exc:
            return self._refusal(exc, 404)
        except LockBusy as exc:
            return self._refusal(exc, 503)
        except MdboardError as exc:
            return self._refusal(exc, 400)
        except OSError as exc:
            return Outcome(False, os_error_message(exc), status=500)

    def _refusal(self, exc, status: int, state: str = "") -> Outcome:
        problems = [{"field": p.field, "message": p.message, "hint": web_hint(p)} for p in exc.problems]
        return Outcome(False, exc.message, problems, status, state=state)

    def _refused(self, request, status: int, message: str, wants_json: bool):
        from starlette.responses import HTMLResponse, JSONResponse

        if wants_json:
            return JSONResponse(Outcome(False, message, status=status).to_json(), status_code=status)
        return HTMLResponse(error_page(status, message), status_code=status)

    def _answer(self, request, outcome: Outcome, wants_json: bool, back: str):
        from starlette.responses import JSONResponse, RedirectResponse

        if wants_json:
            return JSONResponse(outcome.to_json(), status_code=outcome.status,
                                headers={"Cache-Control": "no-store"})
        session_of(request).update_with(flash={"ok": outcome.ok, "message": outcome.message,
                                               "problems": outcome.problems[:8]})
        return RedirectResponse(back, status_code=303)

    async def _shown(self, paths: list[str], wait: bool) -> None:
        """Tell the live site what was just written (no need to wait for the file watcher), and
        with `wait` wait (a while at most) until the pages show it: the page a form goes back
        to, or a new card's own page, then shows the change."""
        if not paths:
            return
        ticket = self.site.notice([str(self.root / p) for p in paths])
        if wait:
            await asyncio.get_running_loop().run_in_executor(None, self.site.wait_built, ticket, BUILT_WAIT)

    # move ---------------------------------------------------------------------------------

    async def move(self, request):
        card_id = request.path_params["card_id"]
        return await self._action(request, lambda v, f: self._move(v, f, card_id), card_page(card_id))

    def _move(self, visitor, form, card_id: str) -> Outcome:
        from mdboard.domain.ops import Expect, move_card

        target = str(form.get("to", ""))
        reason = " ".join(str(form.get("reason", "")).split())
        expect = Expect(version=form.get("version") or None, state=form.get("from") or None)
        board = self._fresh()
        old_path = board.find(card_id).path
        force = bool(reason) and self._forcible(card_id, target, visitor)
        try:
            result = move_card(board, card_id, target, visitor.actor, force=force, reason=reason if force else "",
                               expect=expect)
        except ValidationFailed as exc:
            outcome = self._refusal(exc, 422)
            outcome.problems = [self._allowed_by_label(p, card_id) for p in outcome.problems]
            outcome.message = t("ops.not_moved", id=card_id)
            outcome.forcible = self._forcible(card_id, target, visitor)
            return outcome
        ctype = board.config.types[result.card.type]
        label = ctype.state(result.card.state).label
        return Outcome(True, t("web.moved", id=result.card.id, state=label), card=result.card.id,
                       state=result.card.state, commit=result.commit,
                       paths=sorted({result.card.path, old_path}))

    def _allowed_by_label(self, problem: dict, card_id: str) -> dict:
        """"May go to: following, resolved" names the states by their labels on the web (the
        CLI's hint gives the keys its commands take)."""
        card = self.board.find(card_id)
        ctype = self.board.config.types[card.type]
        allowed = ctype.allowed_targets(card.state)
        if problem["hint"] != t("move.hint_allowed", states=", ".join(allowed) or "-"):
            return problem
        labels = t("web.sep").join(t("web.quoted", text=ctype.state_label(key)) for key in allowed) or "-"
        return {**problem, "hint": t("move.hint_allowed", states=labels)}

    def _forcible(self, card_id: str, target: str, visitor) -> bool:
        """A refused move may be forced (with a reason) unless a role rule refused it:
        the web never lets someone past a role, and a move to the same or an unknown state
        is never forced."""
        try:
            card = self.board.find(card_id)
        except MdboardError:
            return False
        ctype = self.board.config.types.get(card.type)
        state = ctype.state(ctype.find_state(target)) if ctype else None
        if state is None or state.key == card.state:
            return False
        person = visitor.person
        return not state.roles or bool(person and set(person.roles) & set(state.roles))

    # tick / note / assign -------------------------------------------------------------------

    async def tick(self, request):
        card_id = request.path_params["card_id"]
        return await self._action(request, lambda v, f: self._tick(v, f, card_id), card_page(card_id))

    def _tick(self, visitor, form, card_id: str) -> Outcome:
        from mdboard.domain.ops import Expect, tick

        item = str(form.get("item", ""))
        done = form.get("done", "1") == "1"
        occurrence = _int(form.get("n"), 1)
        expect = Expect(version=form.get("version") or None)
        result = tick(self.board, card_id, item, done, visitor.actor, expect=expect, occurrence=occurrence)
        if result.commit is None and result.note:
            return Outcome(True, result.note, card=card_id)
        key = "web.ticked" if done else "web.unticked"
        return Outcome(True, t(key, id=card_id, item=result.item), card=card_id, commit=result.commit,
                       paths=[result.card.path])

    async def note(self, request):
        card_id = request.path_params["card_id"]
        return await self._action(request, lambda v, f: self._note(v, f, card_id), card_page(card_id))

    def _note(self, visitor, form, card_id: str) -> Outcome:
        from mdboard.domain.ops import add_note

        result = add_note(self.board, card_id, str(form.get("text", "")), visitor.actor)
        return Outcome(True, t("web.noted", id=card_id), card=card_id, commit=result.commit,
                       paths=[result.card.path])

    async def assign(self, request):
        card_id = request.path_params["card_id"]
        return await self._action(request, lambda v, f: self._assign(v, f, card_id), card_page(card_id))

    def _assign(self, visitor, form, card_id: str) -> Outcome:
        from mdboard.domain.ops import Expect, assign

        was = forms.read_was(str(form.get("was", "")))
        expect = Expect(version=form.get("version") or None, fields={"owner": was.get("owner")})
        result = assign(self.board, card_id, str(form.get("owner", "")), visitor.actor, expect=expect)
        if result.commit is None and result.note:
            return Outcome(True, result.note, card=card_id)
        name = self.board.config.person_name(result.card.meta.get("owner") or "")
        return Outcome(True, t("web.assigned", id=card_id, name=name), card=card_id, commit=result.commit,
                       paths=[result.card.path])

    # new -----------------------------------------------------------------------------------

    async def new_chooser(self, request):
        if (answer := self.gate(request)) is not None:
            return answer
        return self._page(request, "new.html", ctype=None, types=self.config().types)

    async def new_page(self, request):
        if (answer := self.gate(request)) is not None:
            return answer
        ctype = self.config().types.get(request.path_params["type_key"])
        if ctype is None:
            return self._not_found()
        visitor = self.visitor(request)
        start = {"owner": visitor.actor.person} if "owner" in ctype.fields and visitor.actor.person else {}
        data = await self._read(self._form_data, ctype, start, {})
        return self._page(request, "new.html", ctype=ctype, **data)

    def _form_data(self, ctype, values: dict, problems: dict, board=None) -> dict:
        """The form's widgets (writer or reader thread). Link fields list no cards: their pick
        asks `find` for the cards matching what is typed."""
        board = board or self._fresh()
        return {"widgets": forms.widgets(board.config, ctype, values, problems)}

    async def find(self, request):
        """`?type=sku&q=耳机`: the cards of a type matching the text, newest first, as JSON
        (what a link field's pick shows while the person types)."""
        from starlette.responses import JSONResponse

        if self.visitor(request).actor is None:
            return JSONResponse([], status_code=403)
        target = request.query_params.get("type", "")
        if target not in self.config().types:
            return JSONResponse([], status_code=404)
        text = request.query_params.get("q", "")[:200]
        found = await self._read(self._find, target, text)
        return JSONResponse(found, headers={"Cache-Control": "no-store"})

    def _find(self, target: str, text: str) -> list[dict]:
        return self._settled(lambda: forms.find_cards(self._fresh(), target, text))

    async def new(self, request):
        ctype = self.config().types.get(request.path_params["type_key"])
        if ctype is None:
            return self._not_found()
        form, wants_json, visitor, refusal = await self._checked(request)
        if refusal is not None:
            return refusal
        outcome = await self._act(lambda v, f: self._new(v, f, ctype), visitor, form, wants_json)
        if outcome.ok or wants_json:
            return self._answer(request, outcome, wants_json, outcome.url)
        sent = forms.submitted(form, ctype)
        try:
            data = await self._run(self._form_data, ctype, sent, _by_field(outcome.problems))
        except WriterStopped as exc:
            return self._refused(request, 503, exc.message, wants_json)
        return self._page(request, "new.html", status=outcome.status, ctype=ctype, outcome=outcome,
                          title=str(form.get("title", "")), **data)

    def _new(self, visitor, form, ctype) -> Outcome:
        from mdboard.domain.ops import new_card

        sent = forms.submitted(form, ctype)
        sets = [f"{key}={text}" for key, text in sent.items() if text]
        title = " ".join(str(form.get("title", "")).split())
        result = new_card(self.board, ctype.key, title, sets=tuple(sets), actor=visitor.actor)
        card = result.card
        return Outcome(True, t("web.created", id=card.id, title=card.title), card=card.id, state=card.state,
                       url=card_page(card.id), commit=result.commit, paths=[card.path])

    # edit ----------------------------------------------------------------------------------

    async def edit_page(self, request):
        if (answer := self.gate(request)) is not None:
            return answer
        card_id = request.path_params["card_id"]
        data = await self._read(self._edit_data, card_id, None, {})
        if data is None:
            return self._not_found()
        return self._page(request, "edit.html", **data)

    def _edit_data(self, card_id: str, typed: dict | None, problems: dict, base: dict | None = None) -> dict | None:
        """What the edit form shows: the card now, or what the person typed over it (writer thread)."""
        from mdboard.domain.ops import version_of

        board = self._fresh()
        try:
            card = board.find(card_id)
        except MdboardError:
            return None
        ctype = board.config.types.get(card.type)
        if ctype is None or card.error:
            return None
        stored = {key: forms.form_text(fd, card.meta.get(key)) for key, fd in ctype.fields.items()}
        data = self._form_data(ctype, {**stored, **(typed or {})}, problems, board)
        keys = [k for k in ctype.fields]
        data.update(card=card, ctype=ctype, version=version_of(board, card) if base is None else base["version"],
                    was=forms.was_json(card.meta, keys) if base is None else base["was"],
                    title=(typed or {}).get("title", card.title), now=stored)
        return data

    async def edit(self, request):
        card_id = request.path_params["card_id"]
        form, wants_json, visitor, refusal = await self._checked(request)
        if refusal is not None:
            return refusal
        outcome = await self._act(lambda v, f: self._edit(v, f, card_id), visitor, form, wants_json)
        if outcome.ok or wants_json:
            return self._answer(request, outcome, wants_json, card_page(card_id))
        typed = {"title": str(form.get("title", ""))}
        try:
            data = await self._run(self._edit_typed, card_id, form, typed, outcome)
        except WriterStopped as exc:
            return self._refused(request, 503, exc.message, wants_json)
        if data is None:
            return self._not_found()
        return self._page(request, "edit.html", status=outcome.status, outcome=outcome, **data)

    def _edit_typed(self, card_id, form, typed, outcome):
        """The edit form again, holding what the person typed; after a clash, made from the
        card as it is now (a new version), so sending it again applies their values."""
        card = self.board.find(card_id)
        ctype = self.board.config.types[card.type]
        typed.update(forms.submitted(form, ctype))
        base = None if outcome.status == 409 else {"version": form.get("version", ""), "was": form.get("was", "")}
        return self._edit_data(card_id, typed, _by_field(outcome.problems), base)

    def _edit(self, visitor, form, card_id: str) -> Outcome:
        from mdboard.domain.ops import Expect, set_fields

        board = self._fresh()
        card = board.find(card_id)
        ctype = board.config.types[card.type]
        was = forms.read_was(str(form.get("was", "")))
        sent = forms.submitted(form, ctype)
        sent["title"] = " ".join(str(form.get("title", "")).split())
        pairs = forms.changed_pairs(ctype, sent, was)
        if not pairs:
            return Outcome(True, t("ops.unchanged"), card=card_id)
        keys = [p.split("=", 1)[0] for p in pairs]
        expect = Expect(version=form.get("version") or None, fields={k: was.get(k) for k in keys})
        result = set_fields(board, card_id, pairs, visitor.actor, expect=expect)
        if result.commit is None and result.note:
            return Outcome(True, result.note, card=card_id)
        labels = t("web.sep").join(ctype.fields[k].label for k in keys)
        return Outcome(True, t("web.updated", id=card_id, fields=labels), card=card_id, commit=result.commit,
                       paths=[result.card.path])

    # --- signing in and out -------------------------------------------------------------------

    async def signin_page(self, request):
        if not self.accounts.any():
            from starlette.responses import RedirectResponse

            return RedirectResponse("/", status_code=303)
        return self._page(request, "signin.html", next=safe_next(request.query_params.get("next")), name="")

    async def signin(self, request):
        from starlette.responses import RedirectResponse

        form = await request.form(max_files=0, max_fields=20)
        nxt = safe_next(form.get("next"))
        if not same_origin(request) or not csrf_ok(request, form.get("csrf")):
            return self._page(request, "signin.html", status=403, next=nxt, name="", error=t("web.csrf_refused"))
        name = " ".join(str(form.get("name", "")).split())
        address = request.client.host if request.client else "?"
        wait = max(self.by_name.wait(name.lower()), self.by_address.wait(address))
        if wait > 0:
            minutes = max(1, round(wait / 60))
            return self._page(request, "signin.html", status=429, next=nxt, name=name,
                              error=t("web.too_many", minutes=minutes))
        person = self.config().find_person(name) if name else None
        password = str(form.get("password", ""))
        ok = await asyncio.get_running_loop().run_in_executor(
            None, self.accounts.check, person.key if person else "\x00", password)
        if not ok or person is None:
            self.by_name.fail(name.lower())
            self.by_address.fail(address)
            return self._page(request, "signin.html", status=401, next=nxt, name=name, error=t("web.wrong_password"))
        self.by_name.reset(name.lower())
        self._sign_in(request, person.key)
        return RedirectResponse(nxt, status_code=303)

    def _sign_in(self, request, person: str) -> None:
        account = self.accounts.get(person)
        session_of(request).reset(person=person, gen=account.generation if account else 0)

    async def link_page(self, request):
        person = self.accounts.link_person(request.path_params["token"])
        name = self.config().person_name(person) if person else ""
        status = 200 if person else 410
        return self._page(request, "link.html", status=status, person=person, name=name)

    async def link_signin(self, request):
        from starlette.responses import RedirectResponse

        form = await request.form(max_files=0, max_fields=20)
        if not same_origin(request) or not csrf_ok(request, form.get("csrf")):
            return self._page(request, "link.html", status=403, person=None, name="", error=t("web.csrf_refused"))
        address = request.client.host if request.client else "?"
        if self.by_address.wait(address) > 0:
            return self._page(request, "link.html", status=429, person=None, name="",
                              error=t("web.too_many", minutes=15))
        person = self.accounts.use_link(request.path_params["token"])
        if person is None or person not in self.config().people:
            self.by_address.fail(address)
            return self._page(request, "link.html", status=410, person=None, name="")
        self._sign_in(request, person)
        session_of(request).update_with(flash={"ok": True, "message": t("web.signed_in_link"), "problems": []})
        return RedirectResponse("/", status_code=303)

    async def signout(self, request):
        from starlette.responses import RedirectResponse

        form = await request.form(max_files=0, max_fields=20)
        if not same_origin(request) or not csrf_ok(request, form.get("csrf")):
            return self._refused(request, 403, t("web.csrf_refused"), False)
        session_of(request).reset()
        return RedirectResponse(LIVE_PREFIX + "signin" if self.accounts.any() else "/", status_code=303)

    async def password_page(self, request):
        if (answer := self.gate(request)) is not None:
            return answer
        if not self.accounts.any():
            return self._not_found()
        return self._page(request, "password.html")

    async def password(self, request):
        from starlette.responses import RedirectResponse

        form = await request.form(max_files=0, max_fields=20)
        if not same_origin(request) or not csrf_ok(request, form.get("csrf")):
            return self._refused(request, 403, t("web.csrf_refused"), False)
        visitor = self.visitor(request)
        if visitor.actor is None or visitor.local:
            return self._refused(request, 401, t("web.sign_in_first"), False)
        new, again = str(form.get("password", "")), str(form.get("again", ""))
        if new != again:
            return self._page(request, "password.html", status=422, error=t("web.password_mismatch"))
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.accounts.set_password, visitor.person.key, new)
        except MdboardError as exc:
            return self._page(request, "password.html", status=422, error=exc.message)
        self._sign_in(request, visitor.person.key)
        session_of(request).update_with(flash={"ok": True, "message": t("web.password_set"), "problems": []})
        return RedirectResponse("/", status_code=303)

    # --- pages of our own --------------------------------------------------------------------

    def _page(self, request, template: str, status: int = 200, **values):
        from starlette.responses import HTMLResponse

        cfg = self.config()
        session = session_of(request)
        visitor = self.visitor(request)
        body = self.env.get_template(template).render(
            cfg=cfg, csrf=session.csrf, visitor=visitor, lang=cfg.language, accounts=self.accounts.any(), **values)
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def _not_found(self):
        from starlette.responses import HTMLResponse

        return HTMLResponse(error_page(404, t("serve.not_found")), status_code=404)

    def close(self) -> None:
        self.writer.shutdown()
        self.reader.shutdown(wait=True, cancel_futures=False)


def card_page(card_id: str) -> str:
    return f"/cards/{quote(card_id)}.html"


def safe_next(value) -> str:
    """Where to go after signing in: a path on this server only (never `//other.example`)."""
    value = str(value or "/")
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    return value


def web_hint(problem: Problem) -> str:
    """A problem's hint as the web board gives it: the CLI's command hints (`mdboard set …`,
    `--as`, `--force --reason`) become what to do on the board; a hand edit on the server
    is for whoever runs the board there."""
    if problem.hint == t("move.hint_role"):
        return t("web.hint_role")
    if problem.hint == t("move.hint_wip"):
        return t("web.hint_wip")
    if problem.hint.startswith("mdboard set "):
        return t("web.hint_fill")
    if problem.message in (t("git.unsaved_edit"), t("git.unsaved_new")):
        return t("web.hint_unsaved", hint=problem.hint)
    return problem.hint


def _by_field(problems: list) -> dict:
    out = {}
    for p in problems:
        if p.get("field"):
            out.setdefault(p["field"], parenthesized(p["message"], p.get("hint", "")))
    return out


def _int(value, default: int) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return default
