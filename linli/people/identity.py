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
    """Return the normalised number or raise ValidationError with a bilingual message."""
    number = normalize_id_number(value)
    if not _ID_RE.match(number):
        raise ValidationError(
            _(
                "身份证号应为18位：17位数字加1位校验码 / An identity number has 18 characters: 17 digits and a check character"
            ),
            code="id_format",
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("身份证号校验码不正确 / The identity number's check character is wrong"), code="id_checksum"
        )
    if birth_date_from_id(number) is None:
        raise ValidationError(
            _("身份证号中的出生日期无效 / The birth date inside the identity number is not a valid date"),
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
            _("证件号码应为6到20位字母或数字 / A document number has 6 to 20 letters or digits"),
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
        raise ValidationError(_("电话号码格式不正确 / The phone number is not valid"), code="phone_format")
    else:
        national = raw
    if not _MOBILE_RE.match(national):
        raise ValidationError(_("请输入11位手机号码 / Enter an 11-digit mobile number"), code="phone_format")
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
# Residents write numbers every which way: 138 0013 8001, 139-1234-5678, 137.1234.5678,
# full-width １３６１２３４５６７８, +86 135…, an identity number in groups. A digit is ASCII or
# full-width, and any one separator may stand between two digits.
_D = "[0-9\uff10-\uff19]"
_S = "[ \u00a0\u2009\u202f\u3000\\-\u2010-\u2015\u2212\uff0d.\uff0e\u00b7\u30fb]?"
_NOT_BEFORE = "(?<![0-9\\uff10-\\uff19])"  # a letter may be glued on: "Tel13800138001"
_NOT_AFTER = "(?![0-9\uff10-\uff19])"
#: A mainland mobile number inside free text (what ``redact_text`` masks).
TEXT_PHONE_RE = re.compile(
    rf"{_NOT_BEFORE}(?:(?:[+\uff0b]|00|\uff10\uff10)?[8\uff18][6\uff16]{_S})?[1\uff11]{_S}[3-9\uff13-\uff19](?:{_S}{_D}){{9}}{_NOT_AFTER}"
)
#: A resident identity number inside free text (checked for a plausible birth date).
TEXT_ID_RE = re.compile(rf"{_NOT_BEFORE}[1-9\uff11-\uff19](?:{_S}{_D}){{16}}{_S}[0-9\uff10-\uff19XxＸｘ]{_NOT_AFTER}")
#: A fixed-line number with its area code: 027-8588 1234, (027)85881234, 010 12345678.
TEXT_LANDLINE_RE = re.compile(
    rf"{_NOT_BEFORE}[(\uff08]?[0\uff10][1-9\uff11-\uff19]{_D}{{1,2}}[)\uff09]?{_S}[2-9\uff12-\uff19](?:{_S}{_D}){{6,7}}{_NOT_AFTER}"
)


def _plain(text: str) -> str:
    """The digits (and a final X) of a number as written, in ASCII."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit() or ch in "Xx").upper()


def _mask_id_match(match: re.Match[str]) -> str:
    number = _plain(match.group(0))
    birth = number[6:14]
    if len(number) != 18 or not re.match(r"^(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$", birth):
        return match.group(0)
    return mask_id_number(number)


def _mask_phone_match(match: re.Match[str]) -> str:
    return mask_phone(_plain(match.group(0))[-11:])


def _mask_landline_match(match: re.Match[str]) -> str:
    digits = _plain(match.group(0))
    area = 3 if digits[:2] in ("01", "02") else 4
    return f"{digits[:area]}-{'*' * (len(digits) - area - 4)}{digits[-4:]}"


def redact_text(text: str) -> str:
    """Free text as shown to others: the phone and identity numbers a resident typed into
    it are masked however they were written (the stored original is kept for the staff who
    unmask it, with a reason)."""
    if not text:
        return text
    text = TEXT_ID_RE.sub(_mask_id_match, text)
    text = TEXT_PHONE_RE.sub(_mask_phone_match, text)
    return TEXT_LANDLINE_RE.sub(_mask_landline_match, text)


def mask_name(name: str) -> str:
    """张建国 → 张**: enough for staff to greet, not enough to identify."""
    return (name[:1] + "*" * (len(name) - 1)) if name else ""
