import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from linli.people.identity import (
    birth_date_from_id,
    id_check_char,
    mask_id_number,
    mask_phone,
    normalize_phone,
    redact_text,
    sex_from_id,
    validate_resident_id,
)

# 11010519491231002X is the example of GB 11643 itself.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_validates() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert birth_date_from_id(STANDARD_EXAMPLE) == dt.date(1949, 12, 31)
    assert sex_from_id(STANDARD_EXAMPLE) == "F"


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert validate_resident_id(" 110105 19491231 002x ") == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_format"),
        ("01010519491231002X", "id_format"),
        ("1101051949123100AX", "id_format"),
        ("110105194902300028", "id_birth_date"),  # 30 February
    ],
)
def test_bad_numbers_are_refused_with_a_code(value: str, code: str) -> None:
    from django.utils import translation

    if code == "id_birth_date":
        value = value[:17] + id_check_char(value[:17])
    with pytest.raises(ValidationError) as info:
        validate_resident_id(value)
    assert info.value.code == code
    assert "身份证号" in str(info.value.messages[0])
    with translation.override("en"):
        assert "identity number" in str(info.value.messages[0]).lower()


@given(st.from_regex(r"[1-8]\d{5}(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True))
def test_every_wellformed_number_with_its_check_char_validates(first17: str) -> None:
    number = first17 + id_check_char(first17)
    assert validate_resident_id(number) == number
    wrong = "0" if number[-1] != "0" else "1"
    with pytest.raises(ValidationError):
        validate_resident_id(number[:17] + wrong)


@pytest.mark.parametrize(
    "raw", ["13800138000", "138-0013-8000", "+86 138-0013-8000", "0086 13800138000", "(138) 0013 8000", "8613800138000"]
)
def test_mainland_phone_forms_normalise_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "phone", "+86 1380013800012"])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_masks() -> None:
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_id_number("420106199001011234") == "420106********1234"
    assert mask_id_number("E12345678") == "E******78"
    assert mask_phone("") == ""


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("138 0013 8001", "138****8001"),
        ("138 - 0013 - 8001", "138****8001"),
        ("138  0013  8001", "138****8001"),
        ("138/0013/8001", "138****8001"),
        ("138_0013_8001", "138****8001"),
        ("138\t0013\t8001", "138****8001"),
        ("138\n0013\n8001", "138****8001"),
        ("138，0013，8001", "138****8001"),
        ("138～0013～8001", "138****8001"),
        ("138*0013*8001", "138****8001"),
        ("１３８００１３８００１", "138****8001"),
        ("𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟏", "138****8001"),
        ("١٣٨٠٠١٣٨٠٠١", "138****8001"),
        ("+86 138 0013 8001", "138****8001"),
        ("0086-13800138001", "138****8001"),
        ("Tel13800138001", "Tel138****8001"),
        ("420103 - 19840314 - 2767", "420103********2767"),
        ("4201 0319 8403 1427 6x", "420103********276X"),
        ("027-8588 1234", "027-****1234"),
        ("电话13800138001 13900139002", "电话138****8001 139****9002"),
        # what the second probe still got through
        ("一三八〇〇一三八〇〇一", "138****8001"),
        ("幺三八零零幺三八零零幺", "138****8001"),
        ("138+0013+8001", "138****8001"),
        ("138；0013；8001", "138****8001"),
        ("138•0013•8001", "138****8001"),
        ("138…0013…8001", "138****8001"),
        ("138     0013     8001", "138****8001"),
        ("138\u200b0013\u200b8001", "138****8001"),
        ("138\u00ad0013\u00ad8001", "138****8001"),
        ("013800138001", "138****8001"),
        (
            "1\ufe0f\u20e33\ufe0f\u20e38\ufe0f\u20e30\ufe0f\u20e30\ufe0f\u20e31\ufe0f\u20e33\ufe0f\u20e38\ufe0f\u20e30\ufe0f\u20e30\ufe0f\u20e31\ufe0f\u20e3",
            "138****8001",
        ),
        ("①③⑧⓪⓪①③⑧⓪⓪①", "138****8001"),
        ("¹³⁸⁰⁰¹³⁸⁰⁰¹", "138****8001"),
        ("138OO138OO1", "138****8001"),
        ("138#0013#8001", "138****8001"),
        ("138→0013→8001", "138****8001"),
        ("420106900101123", "420106******123"),
        ("四二〇一〇六一九九〇〇一〇一一二三四", "420106********1234"),
        ("8765 4321", "****4321"),
        ("6222 0212 3456 7890", "6222********7890"),
    ],
)
def test_numbers_in_free_text_are_masked_however_written(written: str, shown: str) -> None:
    assert redact_text(f"请联系{written}谢谢") == f"请联系{shown}谢谢"


@pytest.mark.parametrize(
    "kept",
    [
        "2026-12-07 10:30",
        "3栋502室，2号楼1单元，5月20日下午3点",
        "订单号 123456789012345678",
        "金额 12,345.67 元",
        "1380013800",
        "编号138001380012",
        "138****8001 已脱敏",
        # over-masked by the first fix
        "通知：2023-12-01 14:00-16:00 停水，2024-01-02 13:00-18:00 停电，2024.01.05 9:30-17:30 检修",
        "01/05 02/06 03/07 04/08",
        "01-02, 2345678",
        "一楼二楼三楼，第一网格第三栋",
        "1.5万元，共2人",
    ],
)
def test_other_numbers_are_left_alone(kept: str) -> None:
    assert redact_text(kept) == kept
