"""Every message reaches a reader in their language: the English and zh-Hant catalogues are
complete, zh-Hant has been reviewed (no OpenCC draft left), placeholders survive translation,
and no "中文 / English" literal is left in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1] / "linli"
LOCALE = ROOT / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*(\w+)\s*\}\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
#: "中文 / English", "English / 中文" or "中文 english" side by side in one literal
BILINGUAL = re.compile(
    r"[\u4e00-\u9fff][^/\n]*\s/\s*[A-Za-z]{2}|[A-Za-z]{2}[^/\n]*\s/\s*[^/\n]*[\u4e00-\u9fff]"
    r"|[\u4e00-\u9fff]+ [a-z]{3,}(?![_\w]*[=(\[])"
)
#: The calls whose literal arguments are messages (their msgids may name a field in English).
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _translations(entry: polib.POEntry) -> list[str]:
    return [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    missing, broken = [], []
    for entry in _catalogue(language):
        texts = _translations(entry)
        if "fuzzy" in entry.flags or not all(t.strip() for t in texts):
            missing.append(entry.msgid)
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        if any(set(PLACEHOLDER.findall(t)) != wanted for t in texts):
            broken.append(entry.msgid)
    assert not missing, missing[:20]
    assert not broken, broken[:20]


#: English messages that quote what the reader types in Chinese (an address, a calendar's 休/班).
QUOTES_CHINESE = {"例如：3栋 或 1单元101", "类型“%(kind)s”无效，应为 休 或 班"}


def test_english_has_no_chinese_and_zh_hant_no_draft_left() -> None:
    chinese = [
        e.msgid
        for e in _catalogue("en")
        if e.msgid not in QUOTES_CHINESE and any(HAN.search(t) for t in _translations(e))
    ]
    assert not chinese, chinese[:20]
    drafts = [e.msgid for e in _catalogue("zh_Hant") if e.tcomment.strip() == "opencc"]
    assert not drafts, f"{len(drafts)} zh-Hant entries still OpenCC drafts: {drafts[:10]}"


def test_no_bilingual_literal_is_left_in_the_code() -> None:
    found = []
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        messages = {
            id(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in GETTEXT
            for arg in node.args
        }
        for node in ast.walk(tree):
            literal = (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and id(node) not in messages
            )
            if literal and BILINGUAL.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]}")
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static" / "linli").glob("*.js")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = re.sub(r"<[^>]*>", " ", re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", line))  # the words only
            if BILINGUAL.search(text):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:60]}")
    assert not found, found
