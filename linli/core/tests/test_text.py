"""Tests for linli.core.text; no database or Django settings needed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.text import (
    DOMAIN_WORDS,
    looks_gbk_damaged,
    normalize,
    pinyin_key,
    search_key,
    text_quality,
    to_simplified,
    to_traditional,
    tokens,
)

# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("社區", "社区"),
        ("林峰社區(qū)", "林峰社区"),
        ("對(duì)於", "对于"),
        ("來(lái)", "来"),
        ("武漢(hàn)", "武汉"),
        # Readings as the seeds carry them, inside real sentences.
        ("編者按:黨的十八大以來(lái),習(xí)近平", "编者按:党的十八大以来,习近平"),
        ("青山區(qū)青和居社區(qū),考察", "青山区青和居社区,考察"),
        # Full-width brackets are folded by NFKC first.
        ("對（duì）於", "对于"),
        # Tone numbers, neutral tone, ü written as v or u:, and no tone at all.
        ("对(dui4)", "对"),
        ("的(de5)", "的"),
        ("綠(lv4)化", "绿化"),
        ("綠(lu:4)化", "绿化"),
        ("略(lüè)", "略"),
        ("对(dui) 于", "对 于"),
        ("对(DUÌ)", "对"),
        # Heteronyms: any reading pypinyin knows counts.
        ("行(háng)", "行"),
        ("行(xíng)", "行"),
        ("銀行(háng)", "银行"),
        # A reading only the simplified character has.
        ("乾(gàn)", "干"),
        # Repeated debris goes in one call.
        ("對(duì)(duì)", "对"),
    ],
)
def test_normalize_converts_and_strips_ruby_debris(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "张三(网格员)",
        "(资料图片仅供参考)",
        "好(xyz)",
        "好(hǎo hǎo)",
        "万鼎(右4)赴林峰社区调研",
        "许可证(鄂)字第00011号",
        "对 (duì)",  # not directly after the character
        "(duì)",  # no character before it
        "abc(abc)",
    ],
)
def test_normalize_keeps_ordinary_brackets(raw: str) -> None:
    assert normalize(raw) == raw


def test_normalize_folds_width_case_and_whitespace() -> None:
    assert normalize("  Ｈｅｌｌｏ\u3000ＷＯＲＬＤ\n\t社區  ") == "hello world 社区"
    assert normalize("网\u200b格员") == "网格员"
    assert normalize("") == ""
    assert normalize(" \n\u3000 ") == ""


def test_search_key_matches_traditional_and_simplified_alike() -> None:
    assert search_key("社區") == search_key("社区") == "社区"
    assert search_key("林峰社區(qū)居民") in search_key("陽新縣林峰社区居民訴求")


def test_pinyin_key() -> None:
    assert pinyin_key("社區") == "shequ"
    assert pinyin_key("社區 A棟, 綠化!") == "shequadonglvhua"
    assert pinyin_key("") == ""


def test_opencc_directions() -> None:
    assert to_traditional("社区网格员") == "社區網格員"
    assert to_simplified("社區網格員") == "社区网格员"
    # s2t, not s2twp (which would give 社群).
    assert to_traditional("社区") == "社區"


# ---------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------


def test_tokens_keep_domain_words_whole() -> None:
    words = tokens("街道吹哨，部门来报到。網格員和黨員中心戶上门回访居民诉求")
    for word in ("吹哨", "报到", "网格员", "党员中心户", "回访", "诉求"):
        assert word in words
    assert "报" not in words
    assert "，" not in words and "。" not in words


def test_tokens_drop_whitespace_and_punctuation() -> None:
    assert tokens(" 我今天去社区报到 !? ") == ["我", "今天", "去", "社区", "报到"]
    assert tokens("吹哨报到") == ["吹哨报到"]
    assert tokens("") == []


@pytest.mark.parametrize("word", DOMAIN_WORDS)
def test_each_domain_word_is_one_token(word: str) -> None:
    assert tokens(word) == [word]


# ---------------------------------------------------------------------------
# looks_gbk_damaged
# ---------------------------------------------------------------------------

# Lines from /work/shared/seeds as crawled (the readings are part of the seeds).
DAMAGED_SEED_LINES = [
    "我們就要努力去辦,而且要千方百計(jì)辦好?!?/p>",
    "家長(zhǎng)后顧之憂的“四點(diǎn)半學(xué)?!?,成為“雙減”政策后孩子們",
    "荊楚網(wǎng)(湖北日?qǐng)?bào)網(wǎng))訊(記者田城 通訊員柯陽",
    "不用城關(guān)鄉(xiāng)下兩頭跑了?!蓖鮼?lái)香說(shuō)。",
    "平安小區(qū)的經(jīng)驗(yàn)?zāi)J骄褪恰骷?jí)黨組織領(lǐng)導(dǎo)下的群眾自治組織",
    "這是‘共同締造美好生活’的應(yīng)有之義?!眳抢ふf(shuō)。",
    "今天我過來教您如何用智能手機繳燃氣費、電費?!笔⑹郎鐓^(qū)網格員程玲",
    "從“居民反映問題”變?yōu)椤吧鐓^(qū)主動找問題”,有效把問題解",
    "2023-05-06 21:16:36 \xa0\xa0 來源:荊楚網 ?(湖北日報網)",
    "Copyright ? 2001-2025 湖北荊楚網(wǎng)絡(luò)科技股份有限公司 All Rights Reserved",
]

CLEAN_SEED_LINES = [
    "你能让你的派对变得多么生动?在武汉,班级聚会早已从会议厅消失,融入了附近居民的日常生活。",
    "谁能想到,六个月前,这里还是一块空地? “如果居民有这样的心,社区应该全力支持。”",
    "打造家門口的“紅色地標”,湖北黃岡市安居社區(qū)這樣建設黨群服務站不該存在的秘密是什么?",
    "貼近實(shí)際、貼近生活、貼近群眾,解決實(shí)際問(wèn)題?",
    "“以后,這就是我們的網紅打卡點了!”建成開放后,許多居民都來到家門口的黨群服務站拍照留念。",
    "廣播電視節(jié)目制作經(jīng)營(yíng)許可證(鄂)字第00011號(hào)",
    "鄂ICP備 13000573號(hào)-1 鄂公網(wǎng)安備 42010602000206號(hào)",
    "(資料圖片僅供參考)",
    "栏目:公司资讯 发布时间:2025-10-30 12:48",
    "本文鏈接:http://www.tebozhan.com/showinfo-28-5250-0.html打造家門口的“紅色地標”",
]


@pytest.mark.parametrize("line", DAMAGED_SEED_LINES)
def test_damaged_seed_lines_are_flagged(line: str) -> None:
    assert looks_gbk_damaged(line)
    assert text_quality(line).reasons


@pytest.mark.parametrize("line", CLEAN_SEED_LINES)
def test_clean_seed_lines_are_not_flagged(line: str) -> None:
    assert text_quality(line).reasons == ()
    assert not looks_gbk_damaged(line)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "社区网格员今天上门了吗?",
        "社区网格员今天上门了吗? 好的",
        "社區網格員今天上門了嗎？好的。",
        "真的吗?!太好了",
        "Is it broken? No. Copyright © 2025 Linli",
        "a/b > c, what?! <p>ok</p>",
        "日本の社会",
        "ǎáà",
    ],
)
def test_ordinary_text_is_not_flagged(text: str) -> None:
    assert not looks_gbk_damaged(text)


def test_classic_mojibake_is_flagged() -> None:
    clean = "居民说：“谢谢！”社区网格员处理诉求。"
    assert looks_gbk_damaged(clean.encode().decode("gbk", errors="replace"))
    assert looks_gbk_damaged(clean.encode().decode("cp1252", errors="replace"))
    assert looks_gbk_damaged("锟斤拷锟斤拷")
    assert looks_gbk_damaged("社区\ufffd网格")


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_CJK = st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF)
_FRAGMENTS = st.sampled_from(
    [
        "(duì)",
        "（duì）",
        "(lái)",
        "(qū)",
        "(dui4)",
        "(DUÌ)",
        "(lv4)",
        "(xyz)",
        "(",
        ")",
        "（",
        "）",
        " ",
        "\u3000",
        "\n",
        "\u200b",
        "?",
        "Ａ",
        "İ",
        "ß",
        "ǘ",
        "\u0308",
    ]
)
_MIXED = st.lists(st.one_of(_CJK, _FRAGMENTS, st.sampled_from("對來區社乾干行於綠了")))


@settings(deadline=None, max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet=_CJK), _MIXED.map("".join)))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(deadline=None, max_examples=300)
@given(st.text())
def test_normalize_never_leaves_outer_whitespace(text: str) -> None:
    result = normalize(text)
    assert result == result.strip()
    assert "  " not in result


# Simplified words for which t2s(s2t(w)) == w, alone and side by side.
COMMUNITY_WORDS = [
    "社区",
    "网格",
    "居民",
    "诉求",
    "街道",
    "楼栋",
    "党员",
    "志愿者",
    "调解",
    "议事",
    "吹哨",
    "报到",
    "回访",
    "小区",
    "物业",
    "业主",
    "书记",
    "服务",
    "环境",
    "幸福",
    "生活",
    "共同",
    "缔造",
    "邻里",
    "问题",
    "解决",
    "会议",
    "广场",
]


@pytest.mark.parametrize("word", COMMUNITY_WORDS)
def test_community_words_round_trip(word: str) -> None:
    assert to_simplified(to_traditional(word)) == word


@settings(deadline=None, max_examples=300)
@given(st.lists(st.sampled_from([*COMMUNITY_WORDS, " ", ",", "。"])).map("".join))
def test_traditional_spelling_normalizes_alike(text: str) -> None:
    assert normalize(to_traditional(text)) == normalize(text)


@settings(deadline=None, max_examples=300)
@given(st.one_of(st.text(), _MIXED.map("".join)))
def test_text_functions_never_raise(text: str) -> None:
    assert isinstance(looks_gbk_damaged(text), bool)
    assert isinstance(pinyin_key(text), str)


@settings(deadline=None, max_examples=100)
@given(st.text())
def test_tokens_never_raise_and_are_never_blank(text: str) -> None:
    assert all(word.strip() for word in tokens(text))
