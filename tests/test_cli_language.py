"""Chinese everywhere, English everywhere: every command's --help and the common usage
mistakes, run as the real program on a Chinese board and on an English one, hold no word
of the other language (click's own words included); click's Chinese catalogue is compiled
from its .po file and covers every word click shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from conftest import REPO, Cli
from mdboard.cli.main import LAZY_COMMANDS, main

EXE = Path(sys.executable).with_name("mdboard")
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
ASCII_WORD = re.compile(r"(?<![\w./$=-])[A-Za-z][A-Za-z]+(?![\w-])")
# Words a Chinese help may hold: names of things (programs, formats, services) and the
# values people type as they are (language codes, CI services, English day words shown as
# what the English interface takes are not among them).
NAMES = {"mdboard", "git", "Markdown", "HTML", "CSV", "JSON", "Schema", "YAML", "iCalendar", "ICS", "WIP", "CI",
         "GitHub", "GitLab", "github", "gitlab", "UTF", "Excel", "VS", "Code", "zh", "CN", "en", "EDITOR",
         "MDBOARD_LANG", "MDBOARD_BOARD", "MDBOARD_AS", "SKU", "CMP", "AS", "MAT", "http", "https", "localhost",
         "md", "yaml", "csv", "ics", "json", "ID", "GBK", "gbk", "MCP", "AI", "stdio", "xlsx", "WPS", "E", "IP", "URL"}


def commands() -> list[list[str]]:
    """Every command's path: `ls`, `hooks install`, `import csv` ..."""
    ctx = click.Context(main)
    paths = []
    for name in sorted(LAZY_COMMANDS):
        command = main.get_command(ctx, name)
        paths.append([name])
        if isinstance(command, click.Group):
            paths += [[name, sub] for sub in sorted(command.commands)]
    return paths


def option_words() -> set[str]:
    """Every command and option name, as written on the command line."""
    ctx = click.Context(main)
    words = {opt for p in main.params for opt in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    for path in commands():
        command = main
        for part in path:
            command = command.get_command(ctx, part)
            words.add(part)
        for param in command.params:
            words |= set(getattr(param, "opts", [])) | set(getattr(param, "secondary_opts", []))
    return words | {"-h", "--help"}


def english_words(text: str) -> list[str]:
    """ASCII words in text that a Chinese reader should not have to read."""
    for word in sorted(option_words(), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", text)
    text = re.sub(r"[A-Z]+-\d+|\S+@\S+|https?://\S+|\S+\.(?:md|yaml|csv|ics|json|html)\b|\$\w+|[\w./-]*/[\w./-]+", " ",
                  text)
    return [w for w in ASCII_WORD.findall(text) if w not in NAMES]


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    base = tmp_path_factory.mktemp("lang")
    for lang in ("zh-CN", "en"):
        proc = subprocess.run([str(EXE), "init", str(base / lang), "--lang", lang], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
    return base


def run(board: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "MDBOARD_LANG"} | (env or {})
    return subprocess.run([str(EXE), *args], cwd=board, capture_output=True, text=True, env=full,
                          stdin=subprocess.DEVNULL)


MISTAKES = [["lss"], ["move"], ["move", "SKU-0001"], ["new"], ["ls", "--bogus"], ["ls", "--state"],
            ["ls", "extra"], ["init", "--lang", "fr"], ["serve", "--port", "abc"], ["hooks"], ["export"],
            ["ls", "--state", "不存在"], ["ls", "--owner", "nobody"], ["new", "nothing", "x"], ["-x"],
            ["import", "csv"], ["history"], ["person", "add"]]


def in_process(board: Path, *args: str) -> tuple[int, str]:
    """(exit code, what was printed) of one run in this process (the language is decided per
    run; the subprocess tests below show a fresh process decides it the same way)."""
    result = Cli(board)(*args)
    return result.exit_code, result.output


def test_every_help_and_usage_mistake_on_a_chinese_board_is_chinese(boards):
    found = {}
    for args in [[*path, "--help"] for path in [[]] + commands()] + MISTAKES:
        code, out = in_process(boards / "zh-CN", *args)
        assert "Traceback" not in out and code in (0, 1, 2), (args, out)
        words = [w for w in english_words(out) if w not in args]  # what the person typed is theirs
        if words:
            found[" ".join(args)] = words
    assert found == {}


def test_every_help_and_usage_mistake_on_an_english_board_is_english(boards):
    found = {}
    for args in [[*path, "--help"] for path in [[]] + commands()] + [m for m in MISTAKES if "不存在" not in m]:
        code, out = in_process(boards / "en", *args)
        assert "Traceback" not in out and code in (0, 1, 2), (args, out)
        if CJK.search(out):
            found[" ".join(args)] = CJK.findall(out)
    assert found == {}


def test_mdboard_lang_en_speaks_english_on_a_chinese_board(boards):
    out = run(boards / "zh-CN", "move", "--help", env={"MDBOARD_LANG": "en"}).stdout
    assert out.startswith("Usage: mdboard move [OPTIONS] CARD_ID STATE\n")
    assert not CJK.search(out)


CHINESE_MOVE = ("用法：mdboard move [选项] 卡片编号 状态\n"
                "运行「mdboard move --help」查看帮助。\n\n"
                "错误：缺少参数「状态」\n")


def test_usage_mistakes_read_as_chinese(boards):
    proc = run(boards / "zh-CN", "move", "SKU-0001")
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", CHINESE_MOVE)
    proc = run(boards / "zh-CN", "lss")
    assert proc.stderr.endswith("错误：没有「lss」这个命令。\n")
    assert run(boards / "zh-CN", "ls", "--limit", "3").stderr.endswith("错误：没有「--limit」这个选项。\n")
    help_text = run(boards / "zh-CN", "report", "--help").stdout
    assert "[默认：" not in help_text or "默认：" in help_text


def test_usage_mistakes_read_as_english(boards):
    proc = run(boards / "en", "move", "SKU-0001")
    assert (proc.returncode, proc.stderr) == (2, "Usage: mdboard move [OPTIONS] CARD_ID STATE\n"
                                                 "Try 'mdboard move --help' for help.\n\n"
                                                 "Error: Missing argument 'STATE'.\n")
    assert run(boards / "en", "new", "--help").stdout.startswith("Usage: mdboard new [OPTIONS] TYPE TITLE\n")


def test_in_one_process_each_run_speaks_its_boards_language(boards):
    """A test or a server runs many commands in one process: help made for one board's
    language is said again in the next board's."""
    zh, en = Cli(boards / "zh-CN"), Cli(boards / "en")
    assert zh("move", "--help").output.startswith("用法：mdboard move [选项] 卡片编号 状态\n")
    out = en("move", "--help").output
    assert out.startswith("Usage: mdboard move [OPTIONS] CARD_ID STATE\n") and not CJK.search(out), out
    assert not CJK.search(en("--help").output)
    assert "显示这份帮助" in zh("--help").output
    assert zh("move", "SKU-0001").output == CHINESE_MOVE
    # one module holds history, log, standup and report: loaded for an English run, each of
    # its commands still speaks Chinese on the Chinese board
    assert not CJK.search(en("history", "--help").output)
    for command in ("log", "report", "standup"):
        out = zh(command, "--help").output
        assert not english_words(out), (command, out)


def test_click_mo_is_compiled_from_click_po():
    folder = REPO / "mdboard/locale/zh-CN/LC_MESSAGES"
    with open(folder / "click.po", "rb") as fh:
        po = read_po(fh)
    with open(folder / "click.mo", "rb") as fh:
        mo = read_mo(fh)
    assert _pairs(po) == _pairs(mo)


def _pairs(catalog) -> dict:
    """msgid -> msgstr of a Babel catalogue (a plural's forms as a tuple, as .po and .mo differ in kind)."""
    def flat(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {flat(m.id): flat(m.string) for m in catalog if m.id}


def test_every_word_click_shows_has_a_chinese_translation():
    """The messages click marks for translation in the modules a command runs through."""
    import click as package

    with open(REPO / "mdboard/locale/zh-CN/LC_MESSAGES/click.po", "rb") as fh:
        translated = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id and m.string}
    marked = set()
    for name in ("core", "exceptions", "formatting", "decorators", "types", "parser", "termui"):
        source = (Path(package.__file__).parent / f"{name}.py").read_text("utf-8")
        for call in re.finditer(r"(?<![\w.])(?:_|ngettext)\(\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+)", source):
            marked.add(eval(call.group(1).replace("\n", " ")))  # the literal as Python reads it
    missing = {m for m in marked if m not in translated and "Bash" not in m and "name was passed" not in m
               and "defined twice" not in m and "cannot use the same flag" not in m and "Could not determine" not in m
               and "exactly one parameter" not in m and "standard stream" not in m and "Windows" not in m
               and "is deprecated" not in m}
    assert missing == set()


def test_chinese_help_wraps_by_terminal_columns_never_before_closing_punctuation():
    from mdboard.cli.lang import wrap, width

    text = "把卡片移到另一个状态（检查流转规则、必填字段、清单、角色和 WIP 上限）并提交。"
    for columns in range(20, 80):
        lines = wrap(text, columns)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert not any(line[0] in "。，、）」：" for line in lines), (columns, lines)
        assert all(width(line) <= columns + 2 for line in lines)


def test_help_lists_commands_without_deprecated_click_calls(boards):
    """`mdboard --help` shortens each command's help without click's deprecated
    `click.utils.make_default_short_help` (gone in click 9), on both boards."""
    import warnings

    for lang in ("zh-CN", "en"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, out = in_process(boards / lang, "--help")
        assert code == 0 and "init" in out and "move" in out, out
        assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_wrap_measures_each_line_as_width_does():
    """`wrap` keeps a running width of the line it builds: its lines are those measuring
    the whole line again at each word gives, for Chinese, English and mixed text."""
    from mdboard.cli.lang import _NO_LINE_START, _TOKEN, width, wrap

    def measuring_anew(text, columns):
        lines, line = [], ""
        for token in _TOKEN().findall(text):
            if token.isspace():
                line += " " if line else ""
                continue
            if line and width(line) + width(token) > columns and token not in _NO_LINE_START:
                lines.append(line.rstrip())
                line = ""
            line += token
        return lines + [line.rstrip()] if line.strip() else lines

    texts = ["把卡片移到另一个状态（检查流转规则、必填字段、清单、角色和 WIP 上限）并提交。",
             "Move a card to another state, checking the workflow rules and required fields.",
             "导出 CSV／Excel（.xlsx）表格  with  several   spaces 和 ID SKU-0001。"]
    for text in texts:
        for columns in range(5, 90):
            assert wrap(text, columns) == measuring_anew(text, columns), (text, columns)
