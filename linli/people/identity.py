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
# 138 - 0013 - 8001, 138/0013/8004, a number split over lines, full-width １３６…, 𝟏𝟑𝟖…, ١٣٨…,
# +86 135…, an identity number in groups. A number is a run of digit groups (any script's
# decimal digits) joined by up to four separator characters; a phone or identity number is
# any stretch of whole groups whose digits make one.

#: Characters that may stand between the groups of one number.
SEPARATORS = r"\s\-\u2010-\u2015\u2212\ufe63\uff0d_.\uff0e\u3002\u00b7\u30fb/\uff0f\\~\uff5e*\uff0a,\uff0c\u3001:\uff1a|\uff5c()\uff08\uff09\[\]\u3010\u3011"
_X = "Xx\uff38\uff58"
_GROUP = re.compile(rf"\d+(?:[{_X}](?![A-Za-z0-9]))?")
_RUN = re.compile(rf"\d+(?:[{_X}](?![A-Za-z0-9]))?(?:[{SEPARATORS}]{{1,4}}\d+(?:[{_X}](?![A-Za-z0-9]))?)*")
_ID_BODY = re.compile(r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$")
_MOBILE = re.compile(r"^(?:0086|86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0(?:[12]\d|[3-9]\d{2}))([2-9]\d{6,7})$")


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII (１, 𝟏, ١ → 1); an X stays an upper-case X; the rest goes."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else "X" for c in text if c.isdigit() or c in "XxＸｘ")


def _masked(digits: str) -> str | None:
    """The mask of a phone, identity or fixed-line number, or ``None`` for anything else."""
    if _ID_BODY.match(digits):
        return mask_id_number(digits)
    if "X" in digits:
        return None
    mobile = _MOBILE.match(digits)
    if mobile:
        return mask_phone(mobile.group(1))
    landline = _LANDLINE.match(digits)
    if landline:
        area, local = landline.groups()
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return None


def _mask_run(run: str) -> str:
    groups = [(m.start(), m.end(), ascii_digits(m.group(0))) for m in _GROUP.finditer(run)]
    out: list[str] = []
    done = 0  # how much of the run is already copied out
    i = 0
    while i < len(groups):
        best: tuple[int, str] | None = None
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > 18:
                break
            mask = _masked(digits)
            if mask is not None:
                best = (j, mask)  # the longest whole-group stretch from i that is a number
        if best is None:
            i += 1
            continue
        j, mask = best
        out += [run[done : groups[i][0]], mask]
        done = groups[j][1]
        i = j + 1
    out.append(run[done:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Free text as shown to others: the phone, identity and fixed-line numbers a resident
    typed into it are masked however they were written (the stored original is kept for the
    staff who unmask it, with a reason)."""
    if not text:
        return text
    masked = _RUN.sub(lambda m: _mask_run(m.group(0)), text)
    return re.sub(r"[+\uff0b](?=\d{3}\*{4}\d{4})", "", masked)  # "+86 138…" → "138****…"


def mask_name(name: str) -> str:
    """张建国 → 张**: enough for staff to greet, not enough to identify."""
    return (name[:1] + "*" * (len(name) - 1)) if name else ""
