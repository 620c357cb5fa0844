"""The team board in a real browser (Debian's chromium via Playwright): two people signed in
in two browser contexts, on a desktop and on a phone (390 px, taps only).

Every test checks what git recorded — author, subject, trailers — and that `git status`
stays clean; a refused action must leave HEAD where it was.
"""

from __future__ import annotations

import contextlib
import re
import time

import pytest

from conftest import git
from test_serve_team import PASSWORDS, TeamServer, head, last_commit, new_sku

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


# what the page heard and did, on its console with the page's clock: a failure's notes show it
EVENTS_JS = """(() => {
    const say = (...parts) => console.debug(performance.now().toFixed(1), ...parts);
    const tile = e => { const t = e.target && e.target.closest && e.target.closest('[data-card]');
                        return t ? t.dataset.id + '/' + t.className + (t.isConnected ? '' : '/gone') : ''; };
    ["mdboard:card", "mdboard:hold", "mdboard:updated", "mdboard:refresh"].forEach(name =>
        document.addEventListener(name, e => say(name, JSON.stringify(e.detail))));
    ["pointerup", "dragstart", "dragend", "drop", "choose", "unchoose", "start", "end", "filter"].forEach(name =>
        document.addEventListener(name, e => say(name, tile(e)), true));
    document.addEventListener("pointerdown", e => {  // no layout read here: it changes the timing
        const t = e.target.closest && e.target.closest('[data-card]');
        say("pointerdown", tile(e), e.target.tagName + "." + e.target.className, e.clientX, e.clientY,
            t ? "sortable=" + !!t.parentNode.mdbSortable + " animated=" + t.animated : "");
    }, true);
})();"""


class Person:
    """One person's browser context, signed in, with console and page errors recorded."""

    def __init__(self, browser, url: str, person: str, phone: bool = False):
        options = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True} if phone \
            else {"viewport": {"width": 1400, "height": 900}}
        self.context = browser.new_context(**options)
        self.context.add_init_script(EVENTS_JS)
        self.page = self.context.new_page()
        self.url = url
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.phone = phone
        page = self.page
        page.goto(url + "__mdboard/signin")
        page.fill("#name", {"wangli": "王丽", "zhaomin": "赵敏"}[person])
        page.fill("#password", PASSWORDS[person])
        self.press(page.get_by_role("button", name="登录"))
        page.wait_for_url(url)

    def _console(self, msg) -> None:
        """Script errors count; Chrome's note about a refused action's answer (409/422) does not."""
        self.console.append(f"{time.monotonic():.3f} {msg.type}: {msg.text}")
        if msg.type == "error" and not re.search(r"status of (409|422)\b", msg.text):
            self.errors.append(msg.text)

    def press(self, locator) -> None:
        """A tap on a phone, a click elsewhere."""
        if self.phone:
            locator.tap()
        else:
            locator.click()

    def open(self, path: str):
        self.page.goto(self.url + path)
        return self.page

    def toast(self, text: str) -> str:
        """The in-place message once it says `text` (earlier messages may still show)."""
        toast = self.page.locator(".mdb-toast", has_text=text)
        toast.wait_for(state="visible", timeout=WAIT_MS)
        return toast.inner_text()

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def team(board, cli):
    from mdboard.serve.accounts import Accounts

    accounts = Accounts(board)
    for person, password in PASSWORDS.items():
        accounts.add(person)
        accounts.set_password(person, password)
    new_sku(cli)
    running = TeamServer(board)
    yield running
    running.stop()


@pytest.fixture
def wangli(browser, team):
    person = Person(browser, team.url, "wangli")
    yield person
    person.close()


@pytest.fixture
def zhaomin(browser, team):
    person = Person(browser, team.url, "zhaomin")
    yield person
    person.close()


def column_ids(page, state: str) -> list[str]:
    return page.eval_on_selector_all(f'[data-column="{state}"] .tiles > [data-card]',
                                     "tiles => tiles.map(t => t.dataset.id)")


def wait_commits(board, before: str, count: int) -> None:
    end = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < end:
        if int(git(board, "rev-list", "--count", f"{before}..HEAD")) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"expected {count} commit(s) after {before}")


TILES_JS = """() => Array.from(document.querySelectorAll('[data-column]')).map(col =>
    col.getAttribute('data-column') + ': ' + Array.from(col.querySelectorAll('.tiles > *')).map(t =>
        (t.getAttribute('data-id') || t.tagName) + '[' + ['data-state', 'class', 'draggable', 'aria-busy']
            .map(a => a + '=' + t.getAttribute(a)).join(' ') + ']').join(', ')).join('\\n')"""


@contextlib.contextmanager
def evidence(person: Person, server, tmp_path):
    """On a failure: a Playwright trace in tmp_path, and the exception's notes carry the board's
    tiles as the page holds them, the page's console and the server's lines (a flaky failure
    must say what happened the one time it happens)."""
    person.context.tracing.start(snapshots=True)
    try:
        yield
    except BaseException as exc:
        trace = tmp_path / "trace.zip"
        with contextlib.suppress(Exception):
            person.context.tracing.stop(path=str(trace))
            exc.add_note(f"playwright trace: {trace}")
        with contextlib.suppress(Exception):
            exc.add_note("tiles on the page:\n" + person.page.evaluate(TILES_JS))
        exc.add_note("console:\n" + "\n".join(person.console[-60:]))
        exc.add_note("server:\n" + "\n".join(server.lines[-40:]))
        raise
    person.context.tracing.stop()


def shown(page, card_id: str, state: str) -> None:
    """Wait until the page shows the card in `state`. A page opened right after CLI commands may
    come from a site not yet rebuilt for them: a live update then moves the tile, and a drag
    aimed at the old place, or sent with the old state, is not the move the test means."""
    page.locator(f'[data-column="{state}"] .tiles > [data-id="{card_id}"]').wait_for(timeout=WAIT_MS)


def drag(page, card_id: str, state: str) -> None:
    page.locator(f'[data-id="{card_id}"]').drag_to(page.locator(f'[data-column="{state}"] .tiles'))


# --- desktop ------------------------------------------------------------------------------------


def test_drag_a_sku_through_its_states(team, board, cli, wangli, tmp_path):
    card = new_sku(cli, "全套资料的耳机", "price=199", "price_approved=true", "platforms=抖音")
    for n in range(5):
        assert cli("tick", card, str(n + 1)).exit_code == 0
    page = wangli.open("types/sku.html")
    states = ["planning", "shooting", "content", "review", "listed"]
    shown(page, card, "planning")
    with evidence(wangli, team, tmp_path):
        for src, dst in zip(states, states[1:]):
            before = head(board)
            drag(page, card, dst)
            wait_commits(board, before, 1)
            page.locator(f'[data-column="{dst}"] [data-id="{card}"]:not(.mdb-pending)').wait_for(timeout=WAIT_MS)
            author, subject, body = last_commit(board)
            assert author == "王丽 <wangli@example.com>"
            assert subject.startswith(f"move {card}: ") and body.endswith(f"From: {src}\nTo: {dst}")
    assert (board / f"sku/listed/{card}.md").exists()
    assert git(board, "status", "--porcelain") == ""


def test_a_press_beside_the_move_button_starts_a_drag(team, board, wangli):
    """The move button's row spans the tile: only the button (and its menu) is kept from
    dragging, so a press on the rest of the row, as anywhere else on the tile, drags it."""
    page = wangli.open("types/sku.html")
    shown(page, "SKU-0001", "planning")
    tile = page.locator('[data-id="SKU-0001"]')
    box = tile.bounding_box()
    row = tile.locator(".mdb-tile-actions").bounding_box()
    button = tile.locator(".mdb-move-button").bounding_box()
    assert button["x"] + button["width"] < row["x"] + row["width"] - 10  # room beside the button
    before = head(board)
    tile.drag_to(page.locator('[data-column="shooting"] .tiles'),
                 source_position={"x": row["x"] + row["width"] - 5 - box["x"], "y": row["y"] + row["height"] / 2 - box["y"]})
    wait_commits(board, before, 1)
    assert last_commit(board)[1] == "move SKU-0001: 规划中 → 拍摄中"
    page.locator('[data-column="shooting"] [data-id="SKU-0001"]:not(.mdb-pending)').wait_for(timeout=WAIT_MS)
    assert git(board, "status", "--porcelain") == ""


def test_a_refused_move_snaps_back_and_names_the_rule(team, board, wangli):
    page = wangli.open("types/sku.html")
    shown(page, "SKU-0001", "planning")
    before = head(board)
    drag(page, "SKU-0001", "review")
    message = wangli.toast("SKU-0001 没有移动")
    assert "进入「待审核」前必须填写「价格」" in message and "进入「待审核」前必须填写「平台」" in message
    page.wait_for_function("() => !document.querySelector('.mdb-pending')", timeout=WAIT_MS)
    assert column_ids(page, "planning") == ["SKU-0001"] and column_ids(page, "review") == []
    assert page.locator('[data-column="planning"] .col-count').inner_text() == "1"
    assert head(board) == before and git(board, "status", "--porcelain") == ""


def test_a_role_refusal_cannot_be_forced(team, board, cli, zhaomin):
    card = new_sku(cli, "待上架", "price=199", "price_approved=true", "platforms=抖音")
    for state in ("shooting", "content", "review"):
        assert cli("move", card, state).exit_code == 0
    for n in range(5):
        assert cli("tick", card, str(n + 1)).exit_code == 0
    page = zhaomin.open("types/sku.html")
    shown(page, card, "review")
    before = head(board)
    drag(page, card, "listed")
    zhaomin.toast("赵敏 不能把卡片移入「已上架」（需要角色：运营）")
    assert page.locator(".mdb-force-form").count() == 0  # no "move anyway" past a role
    page.wait_for_function("() => !document.querySelector('.mdb-pending')", timeout=WAIT_MS)
    assert card in column_ids(page, "review")
    assert head(board) == before


@pytest.mark.parametrize("type_key, label, fill, card_id", [
    ("sku", "上新", {"f-owner": "zhaomin", "f-price": "129"}, "SKU-0002"),
    ("campaign", "活动提报", {"f-owner": "zhaomin", "f-platform": "tmall", "f-signup_end": "2026-12-05"}, "CMP-0001"),
    ("issue", "售后", {"f-owner": "zhaomin", "f-due": "2026-11-27T18:00", "f-platform": "pdd", "f-order_no": "PDD-9",
                     "f-problem": "物流", "f-sku": "SKU-0001"}, "AS-0001"),
    ("asset", "素材", {"f-owner": "zhaomin", "f-kind": "主图"}, "MAT-0001"),
])
def test_create_each_type_from_its_form(team, board, zhaomin, type_key, label, fill, card_id):
    page = zhaomin.open("index.html")
    zhaomin.press(page.locator(".mdb-new summary"))
    zhaomin.press(page.locator(".mdb-new").get_by_role("link", name=label, exact=True))
    page.wait_for_url(f"**/__mdboard/new/{type_key}")
    page.fill("#f-title", f"网页新建的{label}")
    for field_id, value in fill.items():
        control = page.locator(f"#{field_id}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    if type_key == "sku":
        page.get_by_label("抖音").check()
    zhaomin.press(page.get_by_role("button", name="新建", exact=True))
    page.wait_for_url(f"**/cards/{card_id}.html")
    assert f"网页新建的{label}" in page.locator("h1").inner_text()
    author, subject, body = last_commit(board)
    assert author == "赵敏 <zhaomin@example.com>" and subject == f"new {card_id}: 网页新建的{label}"
    assert body.startswith(f"Card: {card_id}\nAction: new\nType: {type_key}\n")
    assert git(board, "status", "--porcelain") == ""


def test_a_note_being_written_survives_the_panel_reloaded_by_a_tick(team, board, zhaomin):
    """Typing a note, then ticking an item: the panel reloaded after the tick keeps the note
    form as it was (the words typed stay), and the note is then added. Before, the reload put
    in an empty form and the words were gone."""
    page = zhaomin.open("cards/SKU-0001.html")
    page.fill("#mdb-note", "详情页的尺寸表还要核对")
    zhaomin.press(page.locator(".mdb-tick", has_text="详情页"))
    assert "已勾选「详情页」" in zhaomin.toast("已勾选「详情页」")
    page.locator('.mdb-tick[aria-checked="true"]', has_text="详情页").wait_for(timeout=WAIT_MS)
    page.wait_for_load_state("networkidle")
    assert page.locator("#mdb-note").input_value() == "详情页的尺寸表还要核对"
    zhaomin.press(page.get_by_role("button", name="添加备注"))
    assert "已给 SKU-0001 添加备注" in zhaomin.toast("已给 SKU-0001 添加备注")
    assert last_commit(board)[1] == "note SKU-0001: 详情页的尺寸表还要核对"
    assert "详情页的尺寸表还要核对" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")


def test_tick_and_note_on_the_card_page(team, board, zhaomin):
    page = zhaomin.open("cards/SKU-0001.html")
    zhaomin.press(page.locator(".mdb-tick", has_text="主图"))
    assert "已勾选「主图」" in zhaomin.toast("已勾选「主图」")
    page.locator('.mdb-tick[aria-checked="true"]', has_text="主图").wait_for(timeout=WAIT_MS)
    assert last_commit(board) == ("赵敏 <zhaomin@example.com>", "tick SKU-0001: 主图",
                                  "Card: SKU-0001\nAction: tick\nItem: 主图")
    page.fill("#mdb-note", "主图已经发给运营确认")
    zhaomin.press(page.get_by_role("button", name="添加备注"))
    assert "已给 SKU-0001 添加备注" in zhaomin.toast("已给 SKU-0001 添加备注")
    page.wait_for_function("() => document.querySelector('.card-body').innerText.includes('主图已经发给运营确认')",
                           timeout=WAIT_MS)
    author, subject, _ = last_commit(board)
    assert author == "赵敏 <zhaomin@example.com>" and subject == "note SKU-0001: 主图已经发给运营确认"
    assert git(board, "status", "--porcelain") == ""


def test_two_people_editing_one_card_lose_nothing(team, board, wangli, zhaomin):
    a = wangli.open("__mdboard/cards/SKU-0001/edit")
    b = zhaomin.open("__mdboard/cards/SKU-0001/edit")
    a.fill("#f-price", "199")
    b.fill("#f-category", "耳机")
    wangli.press(a.get_by_role("button", name="保存"))
    a.wait_for_url("**/cards/SKU-0001.html")
    zhaomin.press(b.get_by_role("button", name="保存"))
    b.wait_for_url("**/cards/SKU-0001.html")
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "price: 199" in text and "category: 耳机" in text  # different fields: both kept
    # now both change the price
    a = wangli.open("__mdboard/cards/SKU-0001/edit")
    b = zhaomin.open("__mdboard/cards/SKU-0001/edit")
    a.fill("#f-price", "219")
    b.fill("#f-price", "249")
    wangli.press(a.get_by_role("button", name="保存"))
    a.wait_for_url("**/cards/SKU-0001.html")
    before = head(board)
    zhaomin.press(b.get_by_role("button", name="保存"))
    alert = b.locator(".mdb-message.mdb-refused")
    alert.wait_for(timeout=WAIT_MS)
    assert "王丽" in alert.inner_text() and "219" in alert.inner_text()
    assert b.locator("#f-price").input_value() == "249"  # what 赵敏 typed is kept
    assert head(board) == before
    zhaomin.press(b.get_by_role("button", name="保存"))  # sending it again, knowingly, applies it
    b.wait_for_url("**/cards/SKU-0001.html")
    assert "price: 249" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert last_commit(board)[0] == "赵敏 <zhaomin@example.com>"
    assert git(board, "status", "--porcelain") == ""


def test_a_change_in_one_context_shows_in_the_other_without_a_reload(team, board, wangli, zhaomin):
    watcher = zhaomin.open("types/sku.html")
    watcher.evaluate("window.__not_reloaded = true")
    actor = wangli.open("types/sku.html")
    wangli.press(actor.locator('[data-id="SKU-0001"] .mdb-move-button'))
    wangli.press(actor.get_by_role("menuitem", name="拍摄中"))
    assert "已把 SKU-0001 移到「拍摄中」" in wangli.toast("已把 SKU-0001 移到「拍摄中」")
    watcher.wait_for_function(
        "() => document.querySelector('[data-column=shooting] [data-id=\"SKU-0001\"]') !== null", timeout=WAIT_MS)
    assert watcher.evaluate("window.__not_reloaded === true")
    assert column_ids(watcher, "planning") == []


def test_a_move_shows_in_the_other_browser_before_the_pages_are_rebuilt(browser, board, cli):
    """The other browser learns of a move from the commit itself: its kanban moves the tile
    while the site's rebuild (seconds on a big board) has not even started."""
    from mdboard.core.store import Board
    from mdboard.serve.accounts import Accounts
    from test_serve_team import HeldBuilder

    accounts = Accounts(board)
    for person, password in PASSWORDS.items():
        accounts.add(person)
        accounts.set_password(person, password)
    new_sku(cli)
    held = HeldBuilder(Board.open(str(board)), board / "_site")
    running = TeamServer(board, builder=held)
    people = []
    try:
        people = [Person(browser, running.url, "wangli"), Person(browser, running.url, "zhaomin")]
        mover, watcher = people
        actor, seen = mover.open("types/sku.html"), watcher.open("types/sku.html")
        mover.press(actor.locator('[data-id="SKU-0001"] .mdb-move-button'))
        mover.press(actor.get_by_role("menuitem", name="拍摄中"))
        assert "已把 SKU-0001 移到「拍摄中」" in mover.toast("已把 SKU-0001 移到「拍摄中」")
        seen.wait_for_function(
            "() => document.querySelector('[data-column=shooting] [data-id=\"SKU-0001\"]') !== null", timeout=WAIT_MS)
        assert running.site.rebuilds == 0  # no page was rebuilt: the tile moved on the commit's event
        assert column_ids(seen, "planning") == []
        assert seen.locator('[data-column=shooting] .col-count').inner_text() == "1"
        seen.evaluate("window.__updated = 0; document.addEventListener('mdboard:updated', () => window.__updated++)")
        held.release.set()  # the rebuilt page, when it comes, keeps the tile where it is
        seen.wait_for_function("() => window.__updated > 0", timeout=WAIT_MS)
        assert column_ids(seen, "shooting") == ["SKU-0001"] and column_ids(seen, "planning") == []
    finally:
        held.release.set()
        for person in people:
            person.close()
        running.stop()


def test_a_moved_card_is_on_the_board_once_even_if_an_update_put_a_copy_beside_it(browser, board, cli):
    """While a tile is dragged the live update keeps it and may insert the server's tile for the
    same card next to it (seen as two SKU-0002 tiles in one column after a drag): when the move
    is answered the board shows the card once. The site's rebuild is held, so no later update
    can tidy up instead."""
    from mdboard.core.store import Board
    from mdboard.serve.accounts import Accounts
    from test_serve_team import HeldBuilder

    accounts = Accounts(board)
    accounts.add("wangli")
    accounts.set_password("wangli", PASSWORDS["wangli"])
    new_sku(cli)
    held = HeldBuilder(Board.open(str(board)), board / "_site")
    running = TeamServer(board, builder=held)
    mover = None
    try:
        mover = Person(browser, running.url, "wangli")
        page = mover.open("types/sku.html")
        page.evaluate("""() => {
            const tile = document.querySelector('[data-id="SKU-0001"]');
            const copy = tile.cloneNode(true);
            copy.setAttribute('data-state', 'shooting');
            document.querySelector('[data-column=shooting] .tiles').appendChild(copy);
        }""")
        assert column_ids(page, "shooting") == ["SKU-0001"] and column_ids(page, "planning") == ["SKU-0001"]
        mover.press(page.locator('[data-column=planning] [data-id="SKU-0001"] .mdb-move-button'))
        mover.press(page.get_by_role("menuitem", name="拍摄中"))
        assert "已把 SKU-0001 移到「拍摄中」" in mover.toast("已把 SKU-0001 移到「拍摄中」")
        assert running.site.rebuilds == 0
        assert column_ids(page, "shooting") == ["SKU-0001"] and column_ids(page, "planning") == []
        assert page.locator('[data-column=shooting] .col-count').inner_text() == "1"
        assert mover.errors == []
    finally:
        held.release.set()
        if mover is not None:
            mover.close()
        running.stop()


# --- a phone, taps only ---------------------------------------------------------------------------------


def test_on_a_phone_move_tick_and_create_work_with_taps(browser, team, board):
    phone = Person(browser, team.url, "wangli", phone=True)
    try:
        page = phone.open("types/sku.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        phone.press(page.locator('[data-id="SKU-0001"] .mdb-move-button'))
        phone.press(page.get_by_role("menuitem", name="拍摄中"))
        assert "已把 SKU-0001 移到「拍摄中」" in phone.toast("已把 SKU-0001 移到「拍摄中」")
        assert last_commit(board)[1] == "move SKU-0001: 规划中 → 拍摄中"
        page = phone.open("cards/SKU-0001.html")
        phone.press(page.locator(".mdb-tick", has_text="拍摄"))
        assert "已勾选「拍摄」" in phone.toast("已勾选「拍摄」")
        assert last_commit(board)[1] == "tick SKU-0001: 拍摄"
        page = phone.open("index.html")
        phone.press(page.locator(".mdb-new summary"))
        phone.press(page.locator(".mdb-new").get_by_role("link", name="售后", exact=True))
        page.wait_for_url("**/__mdboard/new/issue")
        page.fill("#f-title", "手机上登记的售后")
        page.select_option("#f-owner", "sunli")
        page.fill("#f-due", "2026-11-26T12:00")
        page.select_option("#f-platform", "douyin")
        page.fill("#f-order_no", "DY-1")
        page.select_option("#f-problem", "少件错发")
        phone.press(page.get_by_role("button", name="新建", exact=True))
        page.wait_for_url("**/cards/AS-0001.html")
        assert last_commit(board)[:2] == ("王丽 <wangli@example.com>", "new AS-0001: 手机上登记的售后")
        assert git(board, "status", "--porcelain") == ""
    finally:
        phone.close()


def test_on_a_phone_a_link_is_picked_by_typing_part_of_its_title_and_tapping_it(browser, team, board, cli):
    new_sku(cli, "充电宝 上新")
    phone = Person(browser, team.url, "wangli", phone=True)
    try:
        page = phone.open("__mdboard/new/issue")
        page.fill("#f-title", "耳机没声音")
        page.select_option("#f-owner", "sunli")
        page.fill("#f-due", "2026-11-26T12:00")
        page.select_option("#f-platform", "douyin")
        page.fill("#f-order_no", "DY-2")
        page.select_option("#f-problem", "少件错发")
        phone.press(page.locator("#f-sku"))
        page.locator("#f-sku").press_sequentially("耳机")
        option = page.get_by_role("listbox").get_by_role("option", name="SKU-0001 蓝牙耳机 上新")
        option.wait_for(timeout=WAIT_MS)
        page.wait_for_function("() => document.querySelectorAll('.mdb-pick [role=option]').length === 1",
                               timeout=WAIT_MS)  # 充电宝 does not match (it shows before anything is typed)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        phone.press(option)
        assert page.locator("#f-sku").input_value() == "SKU-0001"
        phone.press(page.get_by_role("button", name="新建", exact=True))
        page.wait_for_url("**/cards/AS-0001.html")
        assert "sku: SKU-0001" in next((board / "issue").glob("*/AS-0001.md")).read_text("utf-8")
        assert git(board, "status", "--porcelain") == ""
    finally:
        phone.close()


def test_a_cli_change_shows_on_an_open_card_page_and_a_half_written_note_stays(team, board, cli, wangli):
    page = wangli.open("cards/SKU-0001.html")
    page.evaluate("window.__not_reloaded = true")
    page.fill("#mdb-note", "还没发出去的备注")
    assert cli("tick", "SKU-0001", "主图").exit_code == 0  # someone on the CLI, meanwhile
    page.locator('.mdb-tick[aria-checked="true"]', has_text="主图").wait_for(timeout=WAIT_MS)
    assert page.locator("#mdb-note").input_value() == "还没发出去的备注"
    assert page.evaluate("window.__not_reloaded === true")
    wangli.press(page.get_by_role("button", name="添加备注"))
    assert "已给 SKU-0001 添加备注" in wangli.toast("已给 SKU-0001 添加备注")
    assert last_commit(board)[:2] == ("王丽 <wangli@example.com>", "note SKU-0001: 还没发出去的备注")
    assert git(board, "status", "--porcelain") == ""
