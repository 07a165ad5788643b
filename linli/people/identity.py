"""Identity numbers and phone numbers: validation, normalisation and masking.

Resident identity numbers follow GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit
sequence (odd for men), and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import re

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


#: A mobile or identity number inside free text (a need, a visit note): what ``redact_text``
#: masks and what the test suite's leak guard looks for.
TEXT_PHONE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?1[3-9]\d{9}(?![0-9A-Za-z])")
TEXT_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)


def redact_text(text: str) -> str:
    """Free text as shown to others: phone and identity numbers a resident typed into it are
    masked (the stored original is kept for the staff who unmask it)."""
    text = TEXT_ID_RE.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    return TEXT_PHONE_RE.sub(lambda m: mask_phone(re.sub(r"[^0-9]", "", m.group(0))[-11:]), text)


def mask_name(name: str) -> str:
    """张建国 → 张**: enough for staff to greet, not enough to identify."""
    return (name[:1] + "*" * (len(name) - 1)) if name else ""
