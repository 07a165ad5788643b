"""Identity numbers and phone numbers: validation, normalisation and masking.

Resident identity numbers follow GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit
sequence (odd for men), and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")


def id_check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper().replace("Ｘ", "X")


def validate_resident_id(value: str) -> str:
    """Return the normalised number or raise ValidationError with a message in the reader's language."""
    number = normalize_id_number(value)
    if not _ID_RE.match(number):
        raise ValidationError(
            _("身份证号应为18位：17位数字加1位校验码"),
            code="id_format",
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验码不正确"), code="id_checksum")
    if birth_date_from_id(number) is None:
        raise ValidationError(
            _("身份证号中的出生日期无效"),
            code="id_birth_date",
        )
    return number


def birth_date_from_id(number: str) -> dt.date | None:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born.year < 1880 or born > dt.date.today():
        return None
    return born


def sex_from_id(number: str) -> str:
    return "M" if int(number[16]) % 2 else "F"


_OTHER_DOC_RE = re.compile(r"^[A-Z0-9]{6,20}$")


def validate_other_document(value: str) -> str:
    number = normalize_id_number(value)
    if not _OTHER_DOC_RE.match(number):
        raise ValidationError(
            _("证件号码应为6到20位字母或数字"),
            code="doc_format",
        )
    return number


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """Mainland mobile numbers to E.164 (+8613800138000); other E.164 numbers as given.

    Accepts the ways people type them: spaces, hyphens, brackets, a leading +86 or 0086.
    """
    raw = re.sub(r"[\s\-()（）]", "", value or "")
    if raw.startswith("0086"):
        raw = "+86" + raw[4:]
    if raw.startswith("+86"):
        national = raw[3:]
    elif raw.startswith("86") and len(raw) == 13:
        national = raw[2:]
    elif raw.startswith("+"):
        if re.match(r"^\+[1-9]\d{6,14}$", raw):
            return raw
        raise ValidationError(_("电话号码格式不正确"), code="phone_format")
    else:
        national = raw
    if not _MOBILE_RE.match(national):
        raise ValidationError(_("请输入11位手机号码"), code="phone_format")
    return "+86" + national


def mask_phone(phone: str) -> str:
    """+8613812341234 → 138****1234; other numbers keep their last four digits."""
    if not phone:
        return ""
    national = phone[3:] if phone.startswith("+86") else phone
    if len(national) >= 11:
        return f"{national[:3]}****{national[-4:]}"
    return "*" * max(len(national) - 4, 0) + national[-4:]


def mask_id_number(number: str) -> str:
    """420106199001011234 → 420106********1234; other documents keep one and two characters."""
    if not number:
        return ""
    if len(number) == 18:
        return f"{number[:6]}********{number[-4:]}"
    return f"{number[:1]}{'*' * (len(number) - 3)}{number[-2:]}"


# --- numbers inside free text ---------------------------------------------------------------
# Residents write numbers every which way: 138 0013 8001, 139-1234-5678, 138 - 0013 - 8001,
# 138/0013/8004, a number split over lines, full-width １３６…, 𝟏𝟑𝟖…, ١٣٨…, ①③⑧…, keycaps,
# 138OO138OOO, 一三八〇〇一三八〇〇〇, +86 135…, an identity number in groups. A number is read
# as groups of digits (any script, and O between digits) joined by at most six characters that
# are neither letters, ideographs nor ":" (times of day); a phone, identity, bank card or
# fixed-line number is any stretch of whole groups whose digits make one.

#: Between two groups of one number: punctuation, symbols, spaces, invisible format characters.
_MAX_GAP = 6
_BREAKS = frozenset(":：")
#: Chinese numerals as residents use them in numbers (幺 is how 1 is read out in phone numbers).
CHINESE_DIGITS = {
    **dict.fromkeys("〇零○◯", 0),
    **dict.fromkeys("一幺壹", 1),
    **dict.fromkeys("二两贰", 2),
    **dict.fromkeys("三叁", 3),
    **dict.fromkeys("四肆", 4),
    **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆", 6),
    **dict.fromkeys("七柒", 7),
    **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}
_CHINESE_RUN = re.compile(f"[{''.join(CHINESE_DIGITS)}]{{11,}}")
_ID18 = re.compile(r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$")
_ID15 = re.compile(r"^[1-9]\d{5}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}$")
_MOBILE = re.compile(r"^(?:0086|86|0)?(1[3-9]\d{9})$")
_AREA = re.compile(r"^0(?:[12]\d|[3-9]\d{2})$")
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")


def _digit_value(ch: str) -> int | None:
    if ch.isdigit():
        try:
            return unicodedata.digit(ch)
        except (TypeError, ValueError):
            return None
    return None


def _ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_gap(ch: str) -> bool:
    """A character that may stand between the groups of one number."""
    if ch in _BREAKS:
        return False
    category = unicodedata.category(ch)
    return category[0] in "PSZ" or category in ("Cc", "Cf")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _masked(digits: str, groups: list[str]) -> str | None:
    """The mask of a phone, identity, bank card or fixed-line number (``digits``, written in
    ``groups``), or ``None`` for anything else."""
    if _ID18.match(digits):
        return mask_id_number(digits)
    if "X" in digits:
        return None
    if _ID15.match(digits) and len(groups) <= 4:
        return f"{digits[:6]}******{digits[-3:]}"
    mobile = _MOBILE.match(digits)
    if mobile:
        return mask_phone(mobile.group(1))
    card = len(groups) >= 4 and all(len(g) == 4 for g in groups[:-1])  # 6222 0212 3456 7890
    if 16 <= len(digits) <= 19 and (card or _luhn(digits)):  # a bank card
        return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"
    if len(groups) >= 2 and _AREA.match(groups[0]) and _LOCAL.match("".join(groups[1:])):
        local = "".join(groups[1:])
        return f"{groups[0]}-{'*' * (len(local) - 4)}{local[-4:]}"
    if len(groups) == 1 and len(digits) in (11, 12) and digits[0] == "0":  # 02785881234
        area = 3 if digits[1] in "12" else 4
        if _AREA.match(digits[:area]) and _LOCAL.match(digits[area:]):
            return f"{digits[:area]}-{'*' * (len(digits) - area - 4)}{digits[-4:]}"
    if [len(g) for g in groups] in ([4, 4], [3, 4]) and digits[0] in "23456789":  # 8765 4321
        return "*" * (len(digits) - 4) + digits[-4:]
    return None


def _groups(text: str) -> list[list[tuple[int, int, str]]]:
    """The runs of digit groups in ``text``: each group is (start, end, its digits in ASCII)."""
    runs: list[list[tuple[int, int, str]]] = []
    run: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while i < n:
        value = _digit_value(text[i])
        if value is None:
            i += 1
            continue
        start, digits = i, []
        while i < n:
            ch = text[i]
            value = _digit_value(ch)
            if value is not None:
                digits.append(str(value))
            elif ch in "Oo" and digits and not (i + 1 < n and _ascii_letter(text[i + 1]) and text[i + 1] not in "Oo"):
                digits.append("0")  # 138OO138OOO
            elif ch in "Xx" and digits and not (i + 1 < n and _ascii_letter(text[i + 1])):
                digits.append("X")  # an identity number's check character
                i += 1
                break
            elif unicodedata.category(ch)[0] == "M" or ch in "\ufe0f\u20e3":
                pass  # a keycap or another mark on the digit
            else:
                break
            i += 1
        group = (start, i, "".join(digits))
        gap = text[run[-1][1] : start] if run else ""
        if run and len(gap) <= _MAX_GAP and all(_is_gap(c) for c in gap):
            run.append(group)
        else:
            if run:
                runs.append(run)
            run = [group]
    if run:
        runs.append(run)
    return runs


def _mask_runs(text: str) -> str:
    out: list[str] = []
    done = 0
    for run in _groups(text):
        i = 0
        while i < len(run):
            best: tuple[int, str] | None = None
            digits = ""
            for j in range(i, len(run)):
                digits += run[j][2]
                if len(digits) > 19:
                    break
                mask = _masked(digits, [g[2] for g in run[i : j + 1]])
                if mask is not None:
                    best = (j, mask)  # the longest whole-group stretch from i that is a number
            if best is None:
                i += 1
                continue
            j, mask = best
            start = run[i][0]
            if start > 0 and text[start - 1] in "+＋":  # +86 …
                start -= 1
            out += [text[done:start], mask]
            done = run[j][1]
            i = j + 1
    out.append(text[done:])
    return "".join(out)


def _mask_chinese(match: re.Match[str]) -> str:
    digits = "".join(str(CHINESE_DIGITS[c]) for c in match.group(0))
    return _masked(digits, [digits]) or match.group(0)


_ANY_DIGIT = re.compile(r"\d")


def redact_text(text: str) -> str:
    """Free text as shown to others: the phone, identity, bank card and fixed-line numbers a
    resident typed into it are masked however they were written (the stored original is kept
    for the staff who unmask it, with a reason)."""
    if not text:
        return text
    text = _CHINESE_RUN.sub(_mask_chinese, text)
    if len(_ANY_DIGIT.findall(text)) < 7 and not any(c in "Oo" or (c.isdigit() and not c.isdecimal()) for c in text):
        return text  # too few digits to hold a number (the usual case, cheaply)
    masked = _mask_runs(text)
    return re.sub(r"[+\uff0b](?=\d{3}\*{4}\d{4})", "", masked)


def redact_for_public(text: str) -> str:
    """Free text as the public sees it (Open311 without a key): numbers masked as in
    ``redact_text``, and the names of people too (张建国 → 张**)."""
    from linli.core.text import person_names

    text = redact_text(text)
    for start, end in reversed(person_names(text)):
        text = text[:start] + mask_name(text[start:end]) + text[end:]
    return text


def mask_name(name: str) -> str:
    """张建国 → 张**: enough for staff to greet, not enough to identify."""
    return (name[:1] + "*" * (len(name) - 1)) if name else ""
