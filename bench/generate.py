"""Generate a large, realistic, reproducible mdboard board with a long git history.

    .venv/bin/python bench/generate.py --cards 10000 --commits 20000 [--seed 7] [--archive-days 30] OUT

The board uses the default card types of `mdboard/domain/skeleton/zh-CN.yaml` (sku,
campaign, issue, asset) with a 12-person team in the six roles of a shop. Cards
have Chinese titles and bodies, checklists (some ticked), links (campaigns ->
SKUs, assets -> campaign and SKUs, after-sales cases -> SKU), owners, dates around
"today", platforms and tags. Their states follow their age: old cards are mostly
finished, recent ones spread over the open states (within the WIP limits).

The history is written with one `git fast-import` process: an init commit, a few
bulk "import from the old spreadsheet" hand commits for the oldest cards, then one
commit per event: creations, moves, field edits, checklist ticks and hand edits,
by several authors, most with the trailers mdboard's own commits carry
(`Card:`, `Action:`, `From:`, `To:`, `Set:`). Author and committer dates are
fixed, so the same seed gives the same bytes and the same commit ids.

As a shop using `mdboard archive` would, finished cards are archived: on the first of
every month an archive commit moves the cards finished more than `--archive-days` days
earlier into `<type>/<done state>/<year>/` (in batches of `archive.BATCH` cards, as the
command does), and the old cards imported from the spreadsheet that were long finished
are imported straight into their year's folder. So most of a big board is archived, and
the folders the everyday commits change stay small (git writes a changed folder's whole
tree: a folder of 40,000 cards rewritten by every commit is what made the generator slow).
`--archive-days -1` keeps every card in its state's folder (no archive, as before).
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mdboard.core.cardfile import load_yaml, render_value  # noqa: E402
from mdboard.core.config import parse_config  # noqa: E402
from mdboard.domain.archive import BATCH as ARCHIVE_BATCH  # noqa: E402

ARCHIVE_DAYS = 30  # as `mdboard archive` by default

GENERATOR_VERSION = 2  # 2: finished cards archived into year folders
TODAY = "2026-11-25T09:00:00+08:00"  # the tests' MDBOARD_NOW; the benchmark uses the same
TZ = timezone(timedelta(hours=8))
DAY = 86400
IMPORT_BATCH = 250  # cards per bulk import commit
EXTRA_SHARE = 0.3  # at least this share of the commits are moves/edits beyond the minimum

# --- the shop -------------------------------------------------------------------------

ROSTER = [
    ("wangli", "王丽", "运营"), ("lihua", "李华", "运营"),
    ("zhaomin", "赵敏", "美工"), ("huangtao", "黄涛", "美工"),
    ("chenjing", "陈静", "文案"), ("xuqian", "徐倩", "文案"),
    ("liuyang", "刘洋", "投手"), ("heming", "何明", "投手"),
    ("sunli", "孙丽", "客服"), ("maxiaoyu", "马晓雨", "客服"),
    ("zhougang", "周刚", "仓库"), ("wuqiang", "吴强", "仓库"),
]
EMAIL_DOMAIN = "shop.example"
OUTSIDER = ("外包摄影 小林", "xiaolin@studio.example")  # commits by hand, not in the roster
BENCH_USER = ROSTER[0]  # the git identity of the generated repository

PRODUCTS = [("蓝牙耳机", "耳机"), ("降噪耳机", "耳机"), ("运动耳机", "耳机"), ("充电宝", "充电"),
            ("氮化镓充电器", "充电"), ("快充数据线", "充电"), ("无线充电板", "充电"), ("智能手表", "穿戴"),
            ("运动手环", "穿戴"), ("机械键盘", "外设"), ("无线鼠标", "外设"), ("平板支架", "配件"),
            ("手机壳", "配件"), ("钢化膜", "配件"), ("蓝牙音箱", "音箱"), ("移动硬盘", "存储"),
            ("高速U盘", "存储"), ("车载充电器", "车品"), ("自拍杆", "配件"), ("智能台灯", "家居"),
            ("桌面风扇", "家居"), ("游戏手柄", "外设"), ("读卡器", "存储"), ("扩展坞", "外设")]
MODELS = ["Pro", "Max", "Lite", "青春版", "标准版", "旗舰版", "二代", "三代", "mini", "Plus"]
COLORS = ["曜石黑", "云雾白", "远峰蓝", "樱花粉", "松林绿", "星空灰", "薄荷绿", "落日橙"]
TAGS = {
    "sku": ["新品", "爆款", "清仓", "直播专供", "高毛利", "引流款", "礼盒", "季节款"],
    "campaign": ["S级", "A级", "平台大促", "店铺自播", "达人合作"],
    "issue": ["加急", "差评风险", "重复投诉", "大客户"],
    "asset": ["首发", "AB测试", "复用", "外包"],
}
EVENTS = {
    "douyin": ["抖音双12好物节", "抖音年货节", "抖音818新潮好物节", "抖音宠粉日"],
    "tmall": ["天猫双11", "天猫618", "聚划算百亿补贴", "天猫年货节"],
    "pdd": ["拼多多百亿补贴", "拼多多限时秒杀", "拼多多年货节"],
    "jd": ["京东618", "京东双11", "京东PLUS会员日"],
}
THEMES = ["耳机专场", "充电品类日", "新品首发", "清仓返场", "会场报名", "直播间专享", "店铺周年庆"]
PROBLEMS = {
    "退换货": ["客户申请七天无理由退货", "尺寸不合适要求换货", "颜色不喜欢申请换货"],
    "物流": ["快递三天未更新", "包裹显示签收但客户未收到", "偏远地区运费争议"],
    "质量": ["右耳无声音", "无法充电", "外壳有划痕", "按键失灵"],
    "少件错发": ["少发数据线", "赠品未发", "型号发错"],
    "价格": ["下单后降价要求补差价", "优惠券未生效"],
    "其他": ["发票开具问题", "咨询保修政策"],
}
RESOLUTIONS = ["已补发配件", "已退款", "已换新", "已补偿优惠券 20 元", "已联系快递加急", "客户撤销申请"]
ASSET_VARIANTS = ["v1", "v2", "A版", "B版", "竖版", "横版"]
ASSET_ROLES = {"主图": "美工", "详情页": "美工", "海报": "美工", "短视频": "投手", "直播切片": "投手", "文案": "文案"}
PROSE = {
    "sku": ["主打长续航和轻量化,详情页重点突出续航对比图。", "供应商承诺首批 500 件,月底前到仓。",
            "竞品同价位卖 199 元,我们走性价比路线,首发价待老板确认。", "拍摄需要白底图和场景图各一组,场景图约在周三。",
            "卖点:低延迟、双设备连接、IPX5 防水。", "注意包装盒上的型号要和详情页一致。"],
    "campaign": ["活动要求店铺评分 4.8 以上,近 30 天无严重违规。", "报名商品需要提供近 30 天最低价证明。",
                 "会场坑位有限,优先报爆款和新品。", "素材尺寸:主图 800x800,会场图 1200x600。",
                 "活动期间客服需要加班到 24 点。"],
    "issue": ["客户情绪比较激动,先安抚再处理。", "已让客户提供开箱视频。", "仓库核对出库记录中。",
              "和快递站点电话确认过,包裹在中转站。", "客户要求今天内给答复。"],
    "asset": ["参考上一期爆款主图的构图,换成新配色。", "视频控制在 15 秒以内,前 3 秒出卖点。",
              "文案语气活泼一点,面向年轻用户。", "需要出 3 个版本做 AB 测试。"],
}
NOTES = ["已和供应商确认", "老板说先按这个方案做", "客户已回复,等仓库处理", "素材返工一次", "价格改了,见群消息",
         "周会上过了一遍", "补充了细节图", "和平台小二沟通过"]
REVIEW = ["GMV 达成 112%,主推款转化率 6.3%。", "流量不及预期,会场坑位靠后。", "素材点击率高于店铺均值。"]
EXTRA_CHECKLISTS = {
    "issue": "## 处理记录\n\n- [ ] 联系客户\n- [ ] 确认方案\n- [ ] 执行处理\n- [ ] 回访\n",
    "asset": "## 制作清单\n\n- [ ] 初稿\n- [ ] 修改\n- [ ] 定稿\n",
}
# keys an edit may change, and whether their first edit may add the key (it was absent at creation)
SETTABLE = {
    "sku": ["owner", "due", "price", "price_approved", "platforms", "tags", "category"],
    "campaign": ["owner", "skus", "tags"],
    "issue": ["owner", "due", "helpers", "resolution", "sku", "tags"],
    "asset": ["owner", "due", "skus", "campaign", "platforms", "tags"],
}
SET_ONCE = {"price_approved", "category", "resolution", "sku", "campaign"}  # absent, then their value
ABSENT = object()  # a key not present yet


def email_of(key: str) -> str:
    return f"{key}@{EMAIL_DOMAIN}"


def board_config() -> str:
    """The default zh-CN config with the shop's team in place of the placeholder person."""
    text = (REPO / "mdboard" / "domain" / "skeleton" / "zh-CN.yaml").read_text("utf-8")
    head, _, rest = text.partition("\npeople:\n")
    _, _, tail = rest.partition("\ntypes:\n")
    people = "".join(f"  {k}: {{name: {n}, email: [{email_of(k)}], roles: [{r}]}}\n" for k, n, r in ROSTER)
    head = head.replace("title: 我的店铺 运营看板", "title: 声迈数码旗舰店 运营看板(基准测试)")
    return head + "\npeople:\n" + people + "\ntypes:\n" + tail


@lru_cache(maxsize=None, typed=True)
def _rendered(value) -> str:
    return render_value(list(value) if isinstance(value, tuple) else value)


def rendered(value) -> str:
    """A value as mdboard writes it (cardfile.render_value), cached: titles repeat, lists too."""
    return _rendered(tuple(value) if isinstance(value, list) else value)


# --- cards ----------------------------------------------------------------------------

@dataclass
class Plan:
    """One card: its final content and the events that lead there."""

    id: str
    type: str
    index: int  # position in creation order
    created: int  # epoch seconds
    end: int  # when its last event happens
    path: list  # states visited, the first is where it was created, the last is where it is
    final: dict  # final front matter, in creation key order
    prose: list
    review: str = ""
    ticked: int = 0  # checklist items ticked at the end
    imported: bool = False
    sets: list = field(default_factory=list)  # keys, one per set event
    ticks: int = 0  # tick events
    notes: int = 0  # hand-edit events (a line under 备注)
    year: str = ""  # imported straight into this year's archive folder


class Generator:
    """Plans the cards and their history, then streams it into git fast-import."""

    def __init__(self, cards: int, commits: int, seed: int, today: str = TODAY, archive_days: int = ARCHIVE_DAYS):
        self.n, self.m, self.rng = cards, commits, random.Random(seed)
        self.archive_days = archive_days  # < 0: no archiving
        self.cfg = parse_config(load_yaml(board_config()))
        self.today = int(datetime.fromisoformat(today).timestamp())
        self.span = int(max(60, min(1000, cards / 12)) * DAY)
        self.people_by_role: dict[str, list[str]] = {}
        for key, _, role in ROSTER:
            self.people_by_role.setdefault(role, []).append(key)
        self.plans: list[Plan] = []
        self.by_type: dict[str, list[Plan]] = {k: [] for k in self.cfg.types}
        self.wip_used: dict[tuple[str, str], int] = {}

    # --- planning ---------------------------------------------------------------------

    def person(self, role: str) -> str:
        return self.rng.choice(self.people_by_role[role])

    def day(self, ts: int) -> str:
        return datetime.fromtimestamp(ts, TZ).date().isoformat()

    def plan_all(self) -> None:
        """Decide every card: type, creation time, fields, final state."""
        rng = self.rng
        start = self.today - self.span
        kinds = rng.choices(["sku", "campaign", "issue", "asset"], weights=[35, 5, 35, 25], k=self.n)
        kinds[:4] = ["sku", "campaign", "issue", "asset"][: self.n]  # every type present, even when small
        times = sorted(rng.randrange(start, self.today - 3600) for _ in range(self.n))
        counters = {k: 0 for k in self.cfg.types}
        for i, (kind, ts) in enumerate(zip(kinds, times)):
            counters[kind] += 1
            ctype = self.cfg.types[kind]
            plan = getattr(self, f"_plan_{kind}")(f"{ctype.prefix}-{counters[kind]:04d}", i, ts)
            self.plans.append(plan)
            self.by_type[kind].append(plan)

    def _plan(self, card_id: str, kind: str, index: int, ts: int, final: dict, state: str, cycle_days: float) -> Plan:
        rng = self.rng
        ctype = self.cfg.types[kind]
        end = ts + int(cycle_days * rng.uniform(0.4, 1.4) * DAY)
        plan = Plan(card_id, kind, index, ts, min(end, self.today - rng.randrange(600, 4 * 3600)),
                    [], final, rng.sample(PROSE[kind], 2))
        plan.end = max(plan.end, ts + 600)
        plan.path = self._min_path(ctype, state)
        return plan

    def _state_by_age(self, kind: str, ts: int, cycle: float) -> str:
        """The final state of a card created at `ts`: done when old, else by progress (WIP kept)."""
        ctype = self.cfg.types[kind]
        progress = (self.today - ts) / (cycle * self.rng.uniform(0.6, 1.8) * DAY)
        open_states = [s for s in ctype.states if not s.done]
        if progress >= 1 and self.rng.random() > 0.02:
            return next(s.key for s in ctype.states if s.done)
        idx = min(int(min(progress, 0.99) * len(open_states)), len(open_states) - 1)
        for j in list(range(idx, -1, -1)) + list(range(idx + 1, len(open_states))):
            state = open_states[j]
            used = self.wip_used.get((kind, state.key), 0)
            if not state.wip or used < state.wip:
                self.wip_used[(kind, state.key)] = used + 1
                return state.key
        return open_states[0].key

    def _platforms(self) -> list[str]:
        keys = list(self.cfg.platforms)
        return sorted(self.rng.sample(keys, self.rng.randint(1, 3)), key=keys.index)

    def _tags(self, kind: str) -> list[str]:
        return self.rng.sample(TAGS[kind], self.rng.randint(1, 2))

    def _earlier(self, kind: str, k: int) -> list[str]:
        """IDs of up to `k` of the 60 latest cards of `kind` (cards are planned in creation order)."""
        pool = self.by_type[kind][-60:]
        picks = sorted(self.rng.sample(range(len(pool)), min(k, len(pool))))
        return [pool[i].id for i in picks]

    def _plan_sku(self, card_id, i, ts):
        rng = self.rng
        product, category = rng.choice(PRODUCTS)
        state = self._state_by_age("sku", ts, 20)
        price = rng.choice([29, 39, 49, 59, 69, 79, 99, 129, 149, 199, 249, 299, 399, 599, 899, 1299])
        if rng.random() < 0.3:
            price = price - 0.1
        done = self.cfg.types["sku"].state(state).done
        final = {"title": f"{product} {rng.choice(MODELS)} {rng.choice(COLORS)}",
                 "owner": self.person("运营") if rng.random() < 0.75 else self.person(rng.choice(["美工", "文案"])),
                 "due": self.day(ts + rng.randint(10, 30) * DAY), "platforms": self._platforms(), "price": price,
                 "price_approved": True if done or rng.random() < 0.4 else False, "category": category,
                 "tags": self._tags("sku")}
        if not done and state in ("planning", "shooting") and rng.random() < 0.4:
            del final["price"], final["price_approved"]
        plan = self._plan(card_id, "sku", i, ts, final, state, 20)
        plan.ticked = self._ticks("sku", state, done)
        return plan

    def _plan_campaign(self, card_id, i, ts):
        rng = self.rng
        platform = rng.choice(list(self.cfg.platforms))
        marks, t = [], ts
        for lo, hi in ((1, 4), (2, 7), (1, 5), (1, 3), (1, 4), (2, 10)):
            t += rng.randint(lo, hi) * DAY
            marks.append(t)
        keys = ["signup_start", "signup_end", "materials_due", "review_date", "live_start", "live_end"]
        now = self.today
        if now > marks[5] + DAY:
            state = "finished" if rng.random() > 0.03 else "live"
        elif now >= marks[4]:
            state = "live"
        elif now >= marks[3]:
            state = "in_review"
        elif now > marks[1]:
            state = "materials"
        elif now >= marks[0] and rng.random() < 0.7:
            state = "signed_up"
        else:
            state = "planned"
        final = {"title": f"{rng.choice(EVENTS[platform])} {rng.choice(THEMES)} 第{rng.randint(1, 9)}期",
                 "owner": self.person(rng.choice(["运营", "运营", "投手"])), "platform": platform,
                 **{k: self.day(v) for k, v in zip(keys, marks)},
                 "skus": self._earlier("sku", rng.randint(2, 8)), "tags": self._tags("campaign")}
        if not final["skus"]:
            del final["skus"]
        plan = self._plan(card_id, "campaign", i, ts, final, state, (marks[5] - ts) / DAY + 2)
        done = self.cfg.types["campaign"].state(state).done
        plan.ticked = self._ticks("campaign", state, done)
        plan.review = rng.choice(REVIEW) if done else ""
        return plan

    def _plan_issue(self, card_id, i, ts):
        rng = self.rng
        problem = rng.choice(list(PROBLEMS))
        state = self._state_by_age("issue", ts, 4)
        if state == "archived" and self.today - ts < 14 * DAY and rng.random() < 0.5:
            state = "resolved"
        product = rng.choice(PRODUCTS)[0]
        due = datetime.fromtimestamp(ts + rng.randint(1, 3) * DAY, TZ).replace(hour=18, minute=0)
        final = {"title": f"{product}{rng.choice(PROBLEMS[problem])}", "owner": self.person("客服"),
                 "due": due.strftime("%Y-%m-%d %H:%M"), "platform": rng.choice(list(self.cfg.platforms)),
                 "order_no": str(rng.randrange(10**15, 10**16)), "problem": problem}
        sku = self._earlier("sku", 1)
        if sku and rng.random() < 0.8:
            final["sku"] = sku[0]
        if rng.random() < 0.4:
            final["helpers"] = [self.person("仓库")]
        if state in ("resolved", "archived"):
            final["resolution"] = rng.choice(RESOLUTIONS)
        if rng.random() < 0.3:
            final["tags"] = self._tags("issue")
        plan = self._plan(card_id, "issue", i, ts, final, state, 4)
        plan.ticked = self._ticks("issue", state, state in ("resolved", "archived"))
        return plan

    def _plan_asset(self, card_id, i, ts):
        rng = self.rng
        kind = rng.choice(list(ASSET_ROLES))
        state = self._state_by_age("asset", ts, 8)
        product = rng.choice(PRODUCTS)[0]
        final = {"title": f"{product} {kind} {rng.choice(ASSET_VARIANTS)}", "owner": self.person(ASSET_ROLES[kind]),
                 "due": self.day(ts + rng.randint(3, 14) * DAY), "kind": kind}
        campaign = self._earlier("campaign", 1)
        if campaign and rng.random() < 0.7:
            final["campaign"] = campaign[0]
        skus = self._earlier("sku", rng.randint(1, 3))
        if skus:
            final["skus"] = skus
        final["platforms"] = self._platforms()
        if rng.random() < 0.5:
            final["tags"] = self._tags("asset")
        plan = self._plan(card_id, "asset", i, ts, final, state, 8)
        plan.ticked = self._ticks("asset", state, self.cfg.types["asset"].state(state).done)
        return plan

    def _ticks(self, kind: str, state: str, done: bool) -> int:
        """How many checklist items are ticked in `state`: all when done, else by progress."""
        total = len(self.checklist_items(kind))
        if done:
            return total
        ctype = self.cfg.types[kind]
        share = ctype.state_index(state) / max(1, len(ctype.states) - 1)
        return min(total, int(share * total + self.rng.random()))

    @lru_cache(maxsize=None)
    def checklist_items(self, kind: str) -> list[str]:
        return [line[6:] for line in self.template(kind).splitlines() if line.startswith("- [ ] ")]

    @lru_cache(maxsize=None)
    def template(self, kind: str) -> str:
        return self.cfg.types[kind].template or EXTRA_CHECKLISTS.get(kind, "")

    def _min_path(self, ctype, final: str) -> list[str]:
        """The shortest run of states from the first to `final`, following the transitions."""
        first = ctype.first_state.key
        paths, seen = [[first]], {first}
        while paths:
            path = paths.pop(0)
            if path[-1] == final:
                return path
            for nxt in ctype.allowed_targets(path[-1]):
                if nxt not in seen:
                    seen.add(nxt)
                    paths.append(path + [nxt])
        return [first, final]

    # --- budget: which cards are imported in bulk, which events happen ---------------------

    def budget(self) -> int:
        """Mark the oldest cards imported and spread the extra events; returns import commits."""
        available = self.m - 1 - self.archive_reserve()  # the init commit, the archive commits
        minimum = [1 + len(p.path) - 1 for p in self.plans]
        suffix = [0] * (self.n + 1)
        for i in range(self.n - 1, -1, -1):
            suffix[i] = suffix[i + 1] + minimum[i]
        goal = available * (1 - EXTRA_SHARE)
        k = next((k for k in range(self.n + 1) if math.ceil(k / IMPORT_BATCH) + suffix[k] <= goal), self.n)
        imports = math.ceil(k / IMPORT_BATCH)
        if imports + suffix[k] > available:
            raise SystemExit(f"--commits {self.m} is too few for {self.n} cards: "
                             f"at least {1 + math.ceil(self.n / IMPORT_BATCH)} needed")
        for plan in self.plans[:k]:
            plan.imported = True
            plan.path = [plan.path[-1]]
        extras = available - imports - suffix[k]
        pool = self.plans[k:] or self.plans
        for _ in range(extras):
            self._add_extra(self.rng.choice(pool))
        return imports

    def _add_extra(self, plan: Plan) -> None:
        """One more event for a card: a detour state, a field edit, a checklist tick or a note."""
        rng = self.rng
        ctype = self.cfg.types[plan.type]
        options = ["set", "note"]
        if not plan.imported and plan.ticks < plan.ticked:
            options.append("tick")
        if not plan.imported and len(plan.path) >= 2:
            options.append("hop")
        choice = rng.choices(options, weights=[{"set": 3, "note": 2, "tick": 2, "hop": 3}[o] for o in options])[0]
        if choice == "hop" and self._insert_hop(plan, ctype):
            return
        if choice == "tick":
            plan.ticks += 1
            return
        keys = [k for k in SETTABLE[plan.type] if k in plan.final and not (k in SET_ONCE and k in plan.sets)]
        if choice == "set" and keys and not plan.imported:
            plan.sets.append(rng.choice(keys))
        else:
            plan.notes += 1

    def _insert_hop(self, plan: Plan, ctype) -> bool:
        """Put a detour state between two steps of the path (e.g. sent back for rework)."""
        i = self.rng.randrange(len(plan.path) - 1)
        a, b = plan.path[i], plan.path[i + 1]
        options = [s.key for s in ctype.states if s.key not in (a, b)
                   and s.key in ctype.allowed_targets(a) and b in ctype.allowed_targets(s.key)]
        if not options:
            return False
        plan.path.insert(i + 1, self.rng.choice(options))
        return True

    # --- events ---------------------------------------------------------------------------

    def events(self, import_commits: int) -> list[tuple]:
        """Every commit as (time, order, kind, payload), sorted by time."""
        out = []
        imported = [p for p in self.plans if p.imported]
        t0 = (max(p.created for p in imported) if imported else min(p.created for p in self.plans)) + 3600
        out.append((t0 - 3600 * (import_commits + 2), 0, "init", None))
        started: dict[str, int] = {}  # card id -> when it came onto the board
        finished: dict[str, int] = {}  # card id -> when it reached its done state (not archived yet)
        for b in range(import_commits):
            ts, batch = t0 - 3600 * (import_commits - b), imported[b * IMPORT_BATCH:(b + 1) * IMPORT_BATCH]
            out.append((ts, b + 1, "import", batch))
            for plan in batch:
                started[plan.id] = ts
                if self._is_done(plan):
                    self._archive_on_import(plan, ts, finished)
        for plan in self.plans:
            events = self._card_events(plan, t0)
            out += events
            if not plan.imported:
                started[plan.id] = plan.created
                if self._is_done(plan) and len(plan.path) > 1:
                    finished[plan.id] = events[-1][0]  # the last move comes last
        if self.archive_days >= 0:
            archives = self._archive_events(t0, finished)
            out += archives + self._filler_notes(self.archive_reserve() - len(archives), started)
        out.sort(key=lambda e: (e[0], e[1]))
        return out

    # --- archiving ----------------------------------------------------------------------------

    def archive_reserve(self) -> int:
        """Commits kept for archiving: one a month, plus one per `ARCHIVE_BATCH` cards (the
        commits left over become hand notes, so the history has exactly `--commits`)."""
        if self.archive_days < 0:
            return 0
        return math.ceil(self.span / DAY / 28) + 1 + math.ceil(self.n / ARCHIVE_BATCH)

    def _is_done(self, plan: Plan) -> bool:
        return self.cfg.types[plan.type].state(plan.path[-1]).done

    def _archive_on_import(self, plan: Plan, ts: int, finished: dict[str, int]) -> None:
        """A card finished long before the import goes straight into its year's archive folder."""
        if self.archive_days >= 0 and plan.end <= ts - self.archive_days * DAY:
            plan.year = self.year(plan.end)
        else:
            finished[plan.id] = ts

    def year(self, ts: int) -> str:
        return str(datetime.fromtimestamp(ts, TZ).year)

    def _archive_events(self, t0: int, finished: dict[str, int]) -> list[tuple]:
        """`mdboard archive` run by the shop's lead at 09:00 on the first of every month."""
        by_id = {p.id: p for p in self.plans}
        waiting = sorted(finished.items(), key=lambda kv: (kv[1], kv[0]))
        out, moment = [], datetime.fromtimestamp(t0, TZ).replace(day=1, hour=9, minute=0, second=0)
        while True:
            moment = (moment + timedelta(days=32)).replace(day=1)
            when = int(moment.timestamp())
            if when >= self.today:
                return out
            limit = when - self.archive_days * DAY
            due = [(by_id[cid], self.year(ts)) for cid, ts in waiting if ts <= limit]
            waiting = [(cid, ts) for cid, ts in waiting if ts > limit]
            batches = [due[i:i + ARCHIVE_BATCH] for i in range(0, len(due), ARCHIVE_BATCH)]
            for k, batch in enumerate(batches):
                out.append((when + k, 1, "archive", (batch, k + 1, len(batches))))

    def _filler_notes(self, count: int, started: dict[str, int]) -> list[tuple]:
        """Hand notes on random cards, some time after each came onto the board."""
        out = []
        for j in range(count):
            plan = self.rng.choice(self.plans)
            start = started[plan.id]
            ts = self.rng.randrange(start + 1, max(start + 2, self.today - 600))
            out.append((ts, plan.index * 10_000 + 9_000 + j % 1000, "note", (plan, None)))
        return out

    def _card_events(self, plan: Plan, t0: int) -> list[tuple]:
        """A card's own commits, in order, at increasing times between its creation and its end.

        The moves keep their order and the last move comes last; edits, ticks and notes fall
        in between at random.
        """
        rng = self.rng
        moves = [("move", (plan.path[j], plan.path[j + 1])) for j in range(len(plan.path) - 1)]
        others = [("set", k) for k in plan.sets] + [("tick", None)] * plan.ticks + [("note", None)] * plan.notes
        rng.shuffle(others)
        inner = moves[:-1]
        slots = set(rng.sample(range(len(inner) + len(others)), len(inner)))
        inner_it, others_it = iter(inner), iter(others)
        body = [next(inner_it) if j in slots else next(others_it) for j in range(len(inner) + len(others))]
        steps = ([] if plan.imported else [("new", None)]) + body + moves[-1:]
        if not steps:
            return []
        start = t0 + 60 if plan.imported else plan.created
        end = plan.end if not plan.imported else start + rng.randint(1, 60) * DAY
        end = max(start + 2 * len(steps), min(end, self.today - 600))
        times = sorted(rng.randrange(start + 1, end) for _ in steps)
        if not plan.imported:
            times[0] = plan.created
        for j in range(1, len(times)):
            times[j] = max(times[j], times[j - 1] + 1)
        return [(ts, plan.index * 10_000 + j + 1000, kind, (plan, payload))
                for j, (ts, (kind, payload)) in enumerate(zip(times, steps))]

    # --- writing ------------------------------------------------------------------------

    def write(self, out: Path) -> None:
        """Create the repository at `out` and stream the whole history into it."""
        out.mkdir(parents=True, exist_ok=True)
        if any(out.iterdir()):
            raise SystemExit(f"{out} is not empty")
        git = lambda *a: subprocess.run(["git", *a], cwd=out, check=True, capture_output=True)
        git("init", "-q", "-b", "main")
        for key, value in (("user.name", BENCH_USER[1]), ("user.email", email_of(BENCH_USER[0])),
                           ("commit.gpgsign", "false"), ("core.quotepath", "false")):
            git("config", key, value)
        self.plan_all()
        imports = self.budget()
        stream = Stream(self)
        proc = subprocess.Popen(["git", "fast-import", "--quiet", "--date-format=raw"], cwd=out,
                                stdin=subprocess.PIPE)
        try:
            for event in self.events(imports):
                stream.commit(event)
                if stream.size > 1 << 20:
                    proc.stdin.write(stream.take())
            proc.stdin.write(stream.take())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        if proc.wait() != 0:
            raise SystemExit("git fast-import failed")
        git("reset", "-q", "--hard")


class Stream:
    """Turns events into fast-import commands, keeping each card's current content."""

    def __init__(self, gen: Generator):
        self.gen = gen
        self.parts: list[bytes] = []
        self.size = 0
        self.live: dict[str, dict] = {}  # card id -> {"state", "meta", "ticks", "notes"}
        self.state_labels = {(ck, s.key): s.label for ck, ct in gen.cfg.types.items() for s in ct.states}
        self.n = 0

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data

    def _emit(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        self.parts.append(data)
        self.size += len(data)

    def _data(self, text: str) -> None:
        data = text.encode("utf-8")
        self._emit(b"data %d\n" % len(data))
        self._emit(data + b"\n")

    def _header(self, ts: int, who: tuple[str, str], message: str) -> None:
        ident = f"{who[0]} <{who[1]}> {ts} +0800\n"
        self._emit("commit refs/heads/main\nauthor " + ident + "committer " + ident)
        self._data(message)

    def commit(self, event: tuple) -> None:
        ts, _, kind, payload = event
        self.n += 1
        getattr(self, f"_{kind}")(ts, payload)

    # --- each kind of commit ------------------------------------------------------------

    def _init(self, ts, _):
        self._header(ts, (ROSTER[0][1], email_of(ROSTER[0][0])), message("init: mdboard board", [("Action", "init")]))
        self._file("mdboard.yaml", board_config())
        self._file(".gitignore", "# mdboard: the built site and private caches are not part of the board\n"
                                 "/_site/\n/.mdboard/\n")
        for ck, ct in self.gen.cfg.types.items():
            for s in ct.states:
                self._file(f"{ck}/{s.key}/.gitkeep", "")

    def _import(self, ts, plans):
        first, last = plans[0].id, plans[-1].id
        self._header(ts, (ROSTER[1][1], email_of(ROSTER[1][0])),
                     f"导入旧表格中的卡片({len(plans)} 张,{first} 等)\n\n从共享表格批量迁移,状态按表格里的进度放。\n"
                     if first != last else f"导入 {first}\n")
        for plan in plans:
            card = self._start(plan, complete=True)
            card["year"] = plan.year
            self._file(self._path(plan, card), self.text(plan, card))

    def _archive(self, ts, payload):
        batch, number, total = payload
        subject = f"归档 {len(batch)} 张完成超过 {self.gen.archive_days} 天的卡片"
        if total > 1:
            subject += f"（第 {number}/{total} 批）"
        self._header(ts, (ROSTER[0][1], email_of(ROSTER[0][0])),
                     message(subject, [("Action", "archive"), ("Days", str(self.gen.archive_days))]))
        for plan, year in batch:
            card = self.live[plan.id]
            old = self._path(plan, card)
            card["year"] = year
            self._emit(f"R {old} {self._path(plan, card)}\n")

    def _new(self, ts, payload):
        plan, _ = payload
        card = self._start(plan, complete=False)
        actor = card["meta"]["owner"] if self.gen.rng.random() < 0.8 else self._lead()
        self._header(ts, self._who(actor), message(f"new {plan.id}: {card['meta']['title']}", [
            ("Card", plan.id), ("Action", "new"), ("Type", plan.type), ("To", card["state"])]))
        self._file(self._path(plan, card), self.text(plan, card))

    def _move(self, ts, payload):
        plan, (src, dst) = payload
        card = self.live[plan.id]
        old = self._path(plan, card)
        card["state"] = dst
        roles = self.gen.cfg.types[plan.type].state(dst).roles
        actor = self.gen.person(roles[0]) if roles else card["meta"]["owner"]
        if self.gen.rng.random() < 0.1:  # moved by hand with git mv
            msg = f"{plan.id} 挪到{self.state_labels[(plan.type, dst)]}\n"
        else:
            msg = message(f"move {plan.id}: {self.state_labels[(plan.type, src)]} → {self.state_labels[(plan.type, dst)]}",
                          [("Card", plan.id), ("Action", "move"), ("From", src), ("To", dst)])
        self._header(ts, self._who(actor), msg)
        self._emit(f"R {old} {self._path(plan, card)}\n")

    def _set(self, ts, payload):
        plan, key = payload
        card = self.live[plan.id]
        value = card["pending"][key].pop(0)
        card["meta"][key] = value
        shown = f"{key}={rendered(value)}"
        action = "assign" if key == "owner" else "set"
        self._header(ts, self._who(card["meta"]["owner"] if key != "owner" else self._lead()),
                     message(f"{action} {plan.id}: {shown}", [("Card", plan.id), ("Action", action), ("Set", shown)]))
        self._file(self._path(plan, card), self.text(plan, card))

    def _tick(self, ts, payload):
        plan, _ = payload
        card = self.live[plan.id]
        item = self.gen.checklist_items(plan.type)[card["ticks"]]
        card["ticks"] += 1
        if self.gen.rng.random() < 0.5:
            msg = message(f"edit {plan.id}: {card['meta']['title']}", [("Card", plan.id), ("Action", "edit")])
        else:
            msg = f"{plan.id} 勾选:{item}\n"
        self._header(ts, self._who(card["meta"]["owner"]), msg)
        self._file(self._path(plan, card), self.text(plan, card))

    def _note(self, ts, payload):
        plan, _ = payload
        card = self.live[plan.id]
        card["notes"] += 1
        rng = self.gen.rng
        who = OUTSIDER if rng.random() < 0.05 else self._who(rng.choice(ROSTER)[0])
        self._header(ts, who, rng.choice([f"更新 {plan.id} 备注\n", "补充备注\n", f"{plan.id}: 记录进展\n"]))
        self._file(self._path(plan, card), self.text(plan, card))

    # --- card content ----------------------------------------------------------------------

    def _start(self, plan: Plan, complete: bool) -> dict:
        """A card's content at creation: the final one for imports, else with its edits undone."""
        meta, pending = {}, {}
        rng = self.gen.rng
        for key, value in plan.final.items():
            n = plan.sets.count(key) if not complete else 0
            if n == 0:
                meta[key] = value
                continue
            seq = [self._other(plan, key, value) for _ in range(n)]
            if key in SET_ONCE or (key not in ("owner", "due") and rng.random() < 0.5):
                seq[0] = ABSENT
            if seq[0] is not ABSENT:
                meta[key] = seq[0]
            pending[key] = seq[1:] + [value]  # what each set event writes, in order
        ticked = plan.ticked - (0 if complete else plan.ticks)
        card = {"state": plan.path[0], "meta": meta, "pending": pending, "ticks": ticked, "notes": 0, "year": ""}
        self.live[plan.id] = card
        return card

    def _other(self, plan: Plan, key: str, value):
        """A plausible earlier value of a field (another owner, another date, fewer links …)."""
        rng = self.gen.rng
        if key == "owner":
            role = next(r for k, _, r in ROSTER if k == value)
            others = [k for k in self.gen.people_by_role[role] if k != value] or [value]
            return rng.choice(others)
        if key == "due":
            if " " in str(value):
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M") - timedelta(days=rng.randint(1, 2))
                return moment.strftime("%Y-%m-%d %H:%M")
            return (datetime.fromisoformat(value) - timedelta(days=rng.randint(1, 7))).date().isoformat()
        if key == "price":
            return value + rng.choice([10, 20, 50])
        if key == "platforms":
            return [p for p in value[:1]] if len(value) > 1 else [k for k in self.gen.cfg.platforms if k not in value][:1]
        if key == "tags":
            return [rng.choice(TAGS[plan.type])]
        if key in ("skus", "helpers"):
            return value[:-1] if len(value) > 1 else value
        return value

    def text(self, plan: Plan, card: dict) -> str:
        """The card's file as mdboard writes it: one `key: value` line per key, then the body."""
        front = "".join(f"{k}: {rendered(v)}\n" for k, v in card["meta"].items())
        body = "\n\n".join(plan.prose) + "\n\n" + self._checklist(plan.type, card["ticks"])
        if plan.review and card["ticks"] == plan.ticked:  # written when the checklist is done
            body = body.rstrip("\n") + "\n\n" + plan.review + "\n"
        if card["notes"]:
            lines = [f"- {NOTES[(plan.index + j) % len(NOTES)]}" for j in range(card["notes"])]
            body = body.rstrip("\n") + "\n\n## 备注\n\n" + "\n".join(lines) + "\n"
        return "---\n" + front + "---\n\n" + body.strip("\n") + "\n"

    def _checklist(self, kind: str, ticks: int) -> str:
        out, seen = [], 0
        for line in self.gen.template(kind).splitlines():
            if line.startswith("- [ ] "):
                if seen < ticks:
                    line = "- [x] " + line[6:]
                seen += 1
            out.append(line)
        return "\n".join(out) + "\n"

    def _path(self, plan: Plan, card: dict) -> str:
        if card["year"]:
            return f"{plan.type}/{card['state']}/{card['year']}/{plan.id}.md"
        return f"{plan.type}/{card['state']}/{plan.id}.md"

    def _file(self, path: str, text: str) -> None:
        self._emit(f"M 100644 inline {path}\n")
        self._data(text)

    def _who(self, key: str) -> tuple[str, str]:
        name = next(n for k, n, _ in ROSTER if k == key)
        return name, email_of(key)

    def _lead(self) -> str:
        return self.gen.person("运营")


def message(subject: str, trailers: list[tuple[str, str]]) -> str:
    """A commit message as mdboard's gitops.Change.message() writes it."""
    return "\n".join([subject, ""] + [f"{k}: {' '.join(str(v).split())}" for k, v in trailers]) + "\n"


def generate(out: Path, cards: int, commits: int, seed: int = 7, today: str = TODAY,
             archive_days: int = ARCHIVE_DAYS) -> dict:
    """Build the board at `out`; returns a summary (counts, head commit, seconds)."""
    started = time.perf_counter()
    gen = Generator(cards, commits, seed, today, archive_days)
    gen.write(Path(out))
    busiest = max((p for p in gen.plans if not p.imported), key=lambda p: (len(p.path) + len(p.sets) + p.ticks + p.notes,
                                                                         -p.index), default=gen.plans[0])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=out, capture_output=True, text=True, check=True).stdout.strip()
    count = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=out, capture_output=True, text=True,
                           check=True).stdout.strip()
    archived = sum(1 for _ in Path(out).glob("*/*/*/*.md"))
    return {"cards": cards, "archived": archived, "commits": int(count), "head": head, "seed": seed, "today": today,
            "archive_days": archive_days,
            "seconds": round(time.perf_counter() - started, 2), "version": GENERATOR_VERSION, "busiest": busiest.id}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", default=TODAY, help="the 'now' the board's dates are spread around")
    parser.add_argument("--archive-days", type=int, default=ARCHIVE_DAYS,
                        help="archive cards finished more than this many days before each month's start "
                             "(-1: no archive folders)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    summary = generate(args.out, args.cards, args.commits, args.seed, args.today, args.archive_days)
    print(f"{summary['cards']} cards ({summary['archived']} archived), {summary['commits']} commits in {summary['seconds']} s "
          f"-> {args.out} (HEAD {summary['head'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
