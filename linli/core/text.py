"""Text normalisation for Chinese text as it really arrives.

Crawled pages and residents' messages mix simplified and traditional characters
(社区/社區), carry pinyin readings left behind by flattened ruby markup (對(duì),
來(lái)) and are sometimes damaged beyond repair by an encoding round trip (UTF-8
read as GBK and back: 辦好?!?/p>). Search, de-duplication and classification work
on :func:`normalize`'s output; the stored original is always shown as written.

The expensive resources (the OpenCC converters, the jieba dictionary) are built
once, on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import opencc
from charset_normalizer.md import mess_ratio
from ftfy.badness import is_bad
from pypinyin import Style, lazy_pinyin, pinyin

__all__ = [
    "DOMAIN_WORDS",
    "TextQuality",
    "looks_gbk_damaged",
    "normalize",
    "person_names",
    "pinyin_key",
    "search_key",
    "text_quality",
    "to_simplified",
    "to_taiwan",
    "to_traditional",
    "tokens",
]

# Han ideographs: U+3007 (ling), Extension A, the URO, compatibility ideographs,
# Extensions B-H.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"

# ---------------------------------------------------------------------------
# Shared resources, built once on first use
# ---------------------------------------------------------------------------

_T = TypeVar("_T")
_shared: dict[str, Any] = {}
_shared_lock = threading.RLock()  # re-entrant: one resource may be built from another


def _once(name: str, build: Callable[[], _T]) -> _T:
    """Return the resource called ``name``, building it on first use only."""
    try:
        resource: _T = _shared[name]
    except KeyError:
        with _shared_lock:
            if name not in _shared:
                _shared[name] = build()
            resource = _shared[name]
    return resource


# ---------------------------------------------------------------------------
# OpenCC
# ---------------------------------------------------------------------------


def _converter(config: str) -> Callable[[str], str]:
    """The ``convert`` method of the shared OpenCC converter for ``config``."""
    convert: Callable[[str], str] = _once(f"opencc:{config}", lambda: opencc.OpenCC(config).convert)
    return convert


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones (OpenCC ``t2s``)."""
    return _converter("t2s")(text)


def to_traditional(text: str) -> str:
    """Convert simplified characters to traditional ones (OpenCC ``s2t``).

    Never ``s2twp``: its Taiwanese phrase table turns 社区 into 社群.
    """
    return _converter("s2t")(text)


@lru_cache(maxsize=16384)
def to_taiwan(text: str) -> str:
    """Simplified text as a zh-Hant (Taiwan) reader writes it (OpenCC ``s2tw``: characters and
    their Taiwanese variants, 里 → 裡, never the phrase table): for showing stored names, such
    as places', to a reader of 繁體. Cached: the same few names are shown over and over."""
    return _converter("s2tw")(text)


# ---------------------------------------------------------------------------
# Ruby-pinyin debris
# ---------------------------------------------------------------------------

# A Han character followed by a bracketed single syllable in Latin letters:
# tone-marked (duì), tone-numbered (dui4, lv4, lu:4) or toneless (dui). NFKC has
# already turned full-width brackets into ASCII ones; both are accepted anyway.
_RUBY = re.compile(
    rf"(?P<han>[{_HAN}])"
    r"[(\uff08]\s*"
    r"(?P<reading>[a-z\u00e0-\u024f\u1e00-\u1eff\u0300-\u036f:]{1,8}[0-5]?)"
    r"\s*[)\uff09]"
)


def _toneless(syllable: str) -> str:
    """Reduce a pinyin syllable to a comparison key without tone.

    ü, v and u: all become u, because crawled ruby writes lǜ, lv4, lu:4 and lu
    for the same reading (v is not otherwise a pinyin letter).
    """
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    decomposed = decomposed.replace("u\u0308", "u").replace("u:", "u")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.rstrip("012345").replace("v", "u")


@lru_cache(maxsize=8192)
def _readings(han: str) -> frozenset[str]:
    """Toneless keys of every reading pypinyin knows for one Han character."""
    heteronyms = pinyin(han, heteronym=True, style=Style.TONE, errors="ignore")
    return frozenset(_toneless(reading) for group in heteronyms for reading in group)


def _is_reading_of(reading: str, han: str) -> bool:
    """Whether ``reading`` spells one of the pronunciations of ``han``.

    Any heteronym counts (行(háng) and 行(xíng) alike). Tones are not compared:
    pypinyin's heteronym lists miss some tone variants and crawled ruby sometimes
    carries the wrong tone, while a bracket that spells the character's sound is
    debris whatever its tone.
    """
    key = _toneless(reading)
    return bool(key) and key.isascii() and key.isalpha() and key in _readings(han)


def _strip_ruby(text: str) -> str:
    """Remove bracketed pinyin that reads the Han character directly before it.

    Repeated until nothing changes, so 對(duì)(duì) loses both groups.
    """

    def replace(match: re.Match[str]) -> str:
        if _is_reading_of(match["reading"], match["han"]):
            return match["han"]
        return match[0]

    while True:
        stripped = _RUBY.sub(replace, text)
        if stripped == text:
            return text
        text = stripped


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

# Invisible characters that NFKC keeps but that split words for search.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_WHITESPACE = re.compile(r"\s+")
_MAX_PASSES = 8


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()
    # Debris is stripped before t2s (the reading belongs to the character as
    # written: 乾(qián) must not become 干(qián)) and after it (乾(gàn) is only a
    # reading once the character is 干).
    text = _strip_ruby(to_simplified(_strip_ruby(text)))
    return _WHITESPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """The one normal form used for indexing, de-duplication and queries.

    NFKC (full-width letters, digits and brackets become ASCII), zero-width
    characters removed, lower case, ruby-pinyin debris removed (對(duì) → 对,
    while 张三(网格员) keeps its bracket), traditional → simplified with OpenCC
    ``t2s``, and runs of whitespace collapsed to one space, stripped at both ends.

    The steps interact (lower-casing can reveal a reading, t2s can change the
    character a reading belongs to), so the pass is repeated until it no longer
    changes the text; this makes ``normalize`` idempotent.
    """
    for _ in range(_MAX_PASSES):
        result = _normalize_once(text)
        if result == text:
            break
        text = result
    return text


def search_key(text: str) -> str:
    """What a ``*_search`` column stores and what a query is reduced to.

    Stored values and queries go through this same function, so a query for 社區
    finds 社区 and a query for 社区 finds 社區, and ``icontains`` or trigram
    matching compares like with like.
    """
    return normalize(text)


def pinyin_key(text: str) -> str:
    """Toneless pinyin of the normalised text, concatenated without separators.

    社區 A棟 → ``shequadong``. ü is written v (绿 → ``lv``), as on a pinyin
    keyboard. Whitespace and punctuation are dropped; characters pypinyin does not
    know are kept as they are.
    """
    syllables = lazy_pinyin(normalize(text), style=Style.NORMAL)
    return "".join(ch for ch in "".join(syllables) if ch.isalnum())


# ---------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------

#: Words of community governance that jieba's general dictionary splits.
DOMAIN_WORDS: tuple[str, ...] = (
    "吹哨",
    "报到",
    "吹哨报到",
    "网格",
    "网格员",
    "网格长",
    "网格化",
    "党员中心户",
    "楼栋长",
    "单元长",
    "下沉党员",
    "在职党员",
    "共同缔造",
    "接诉即办",
    "未诉先办",
    "板凳会",
    "议事会",
    "议事亭",
    "诉求",
    "回访",
    "社区书记",
    "结对共建",
    "包保",
    "党群服务站",
    "党群服务中心",
    "居委会",
    "业委会",
    "物业",
    "志愿者",
    "老旧小区",
)


def _build_jieba() -> Any:
    """A private jieba tokenizer (not jieba's global one) with the domain words."""
    # Imported here: jieba pulls in pkg_resources, and loading its dictionary
    # takes most of a second, which only segmentation should pay for.
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)
    # Without this the general dictionary's frequencies split 报到 into 报/到.
    tokenizer.suggest_freq("报到", True)
    return tokenizer


def tokens(text: str) -> list[str]:
    """Words of the normalised text (jieba precise mode, domain dictionary).

    Tokens made only of whitespace or punctuation are dropped. Precise mode keeps
    a dictionary word whole, so 吹哨报到 is one token, not 吹哨 + 报到.
    """
    words: list[str] = _once("jieba", _build_jieba).lcut(normalize(text))
    return [word for word in words if any(ch.isalnum() for ch in word)]


def _build_tagger() -> Any:
    """jieba's part-of-speech tagger over the private tokenizer (names are tagged ``nr``)."""
    import jieba.posseg

    return jieba.posseg.POSTokenizer(_once("jieba", _build_jieba))


#: A token tagged as a person's name that is really a place: it ends like one, or is followed
#: by a place word (常二 of 常二社区, 黄鹤楼).
_PLACE_END = tuple("楼路街巷园桥湖山村里站场院寺庙塔")
_PLACE_NEXT = ("社区", "街道", "小区", "花园", "公园", "广场", "大道", "路", "街", "村", "里", "栋", "号", "区", "市")


def person_names(text: str) -> list[tuple[int, int]]:
    """Where the text names a person (jieba's ``nr``: 张建国, 王师傅, 李大妈), as (start, end)
    offsets; words that jieba tags so but that read as places are left out. Meant for removing
    names from text shown to the public: it errs towards masking."""
    spans = []
    at = 0
    for word, flag in _once("tagger", _build_tagger).cut(text):
        start, at = at, at + len(word)
        if not flag.startswith("nr") or len(word) < 2 or word.endswith(_PLACE_END):
            continue
        if text[at:].startswith(_PLACE_NEXT):
            continue
        spans.append((start, at))
    return spans


# ---------------------------------------------------------------------------
# Encoding damage
# ---------------------------------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"

# Signals that settle the question on their own.
_STRONG: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("replacement-character", re.compile("\ufffd")),
    # 锟斤拷 is U+FFFD twice after a UTF-8/GBK round trip; 锛 銆 鈥 are what UTF-8
    # full-width punctuation and curly quotes become when read as GBK, and are
    # practically unused otherwise.
    ("gbk-mojibake", re.compile("锟斤拷|[锛銆鈥]")),
    # The < of a closing tag swallowed into a broken multi-byte sequence.
    (
        "eaten-tag",
        re.compile(
            r"(?:\?|[^\x00-\x7f])/"
            r"(?:p|div|span|a|b|i|em|strong|li|td|tr|th|h[1-6]|section|article)>"
        ),
    ),
    # A misaligned closing full stop and quote: 辦好?!?/p>  學(xué)?!?,
    ("question-bang-question", re.compile(r"\?!\?")),
    # Ruby debris whose opening bracket was swallowed: 日?qǐng)  驗(yàn)?zāi)J
    (
        "orphan-reading",
        re.compile(
            rf"(?<![(\uff08])\?(?:[a-z{_TONED}ü]*[{_TONED}][a-z{_TONED}ü]*"
            rf"|(?<=[{_HAN}]\?)[a-zü]{{1,6}}[1-5])[)\uff09]"
        ),
    ),
    # A character lost between a space and the text: 荊楚網 ?(湖北日報網)
    ("lone-question-mark", re.compile(rf"(?:^|(?<=\s))\?(?=[({_HAN}])")),
    # The copyright sign has no GBK code: Copyright ? 2001-2025
    ("lost-copyright-sign", re.compile(r"(?i:copyright)\s*\?\s*\d")),
)

# Signals that also occur in clean text; two different ones are needed.
_WEAK: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 電費?!笔⑹郎  (but also 真的吗?!太好了 in clean text)
    ("question-bang-glued", re.compile(rf"[{_HAN}]\?![{_HAN}]")),
    # 眳抢ふf : a kana inside Chinese text (but also 日本の社会).
    ("kana-in-han", re.compile(rf"[{_HAN}][\u3041-\u30ff][{_HAN}a-z]")),
    # 笔⑹郎 : a circled or bracketed number glued between Han characters.
    ("enclosed-number-in-han", re.compile(rf"[{_HAN}][\u2460-\u24ff][{_HAN}]")),
    # 鐓^(qū) : an ASCII symbol glued between Han characters.
    ("symbol-in-han", re.compile(rf"[{_HAN}][\^`|~\\][{_HAN}(\uff08]")),
)
_WEAK_NEEDED = 2

# charset-normalizer's mess detector is noisy on short strings; clean seed lines
# stay below 0.13, Chinese read as GBK from UTF-8 scores 0.4 and more.
_MESS_MIN_LENGTH = 10
_MESS_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class TextQuality:
    """What :func:`text_quality` found; ``reasons`` is empty for clean text."""

    reasons: tuple[str, ...] = ()

    @property
    def gbk_damaged(self) -> bool:
        return bool(self.reasons)


def text_quality(text: str) -> TextQuality:
    """Look for signs that ``text`` went through a lossy encoding round trip.

    Only detects: the lost bytes are gone, so nothing is repaired. Works on the
    text as received, not on its normal form, so a full-width question mark stays
    distinct from the ``?`` an unencodable character leaves behind. A half-width
    ``?`` glued between Han characters is not a signal on its own: NFKC-folded
    clean text is full of 生动?在武汉.
    """
    reasons = [name for name, pattern in _STRONG if pattern.search(text)]
    weak = [name for name, pattern in _WEAK if pattern.search(text)]
    if len(weak) >= _WEAK_NEEDED:
        reasons.extend(weak)
    if not text.isascii():
        if is_bad(text):
            reasons.append("ftfy-badness")
        if len(text) >= _MESS_MIN_LENGTH and mess_ratio(text, maximum_threshold=1.0) >= _MESS_THRESHOLD:
            reasons.append("mess-ratio")
    return TextQuality(reasons=tuple(reasons))


def looks_gbk_damaged(text: str) -> bool:
    """Whether ``text`` looks damaged by an encoding round trip.

    See :func:`text_quality` for the signals, and for which of them were found.
    """
    return text_quality(text).gbk_damaged
