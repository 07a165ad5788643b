"""Refresh the translation catalogues.

1. ``makemessages`` for zh_Hant and en (source strings are zh-Hans).
2. zh_Hant: every untranslated or fuzzy entry gets OpenCC ``s2tw`` of the source (never
   ``s2twp``, which rewrites vocabulary: 社区 → 社群), marked with the translator comment
   ``opencc`` (msgmerge keeps comments, not unknown flags). Entries a person has reviewed keep
   their text: reviewing one means removing its ``opencc`` comment.
3. en: untranslated entries whose source is bilingual ("中文 / English") get the English half;
   the rest are translated by hand in ``linli/locale/en/LC_MESSAGES/django.po``.
4. ``compilemessages``.

Run: ``.venv/bin/python scripts/i18n.py`` (needs gettext's msgfmt, which ``make test`` installs).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polib

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")

ROOT = Path(__file__).resolve().parents[1]
#: The translator comment on a zh-Hant entry that OpenCC drafted and nobody has reviewed yet.
DRAFT = "opencc"
LOCALE = ROOT / "linli" / "locale"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings.test")
    linli = [sys.executable, "-m", "linli.cli"]
    common = ["--ignore=.venv/*", "--ignore=var/*", "--ignore=build/*", "--no-location", "--no-obsolete"]
    for lang in ("zh_Hant", "en"):
        subprocess.run(
            [*linli, "makemessages", "-l", lang, "-e", "html,txt,py", *common], cwd=ROOT / "linli", check=True
        )
    import opencc

    # Taiwan's standard characters (為, 啟), character by character: never ``s2twp``, whose
    # phrase table rewrites vocabulary (社区 → 社群)
    to_traditional = opencc.OpenCC("s2tw").convert

    hant = polib.pofile(str(LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"))
    for entry in hant:
        if (not entry.msgstr and not any(entry.msgstr_plural.values())) or "fuzzy" in entry.flags:
            if entry.msgid_plural:  # Chinese has one plural form
                entry.msgstr_plural = {0: to_traditional(entry.msgid)}
            else:
                entry.msgstr = to_traditional(entry.msgid)
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.previous_msgid = entry.previous_msgid_plural = None
            entry.tcomment = DRAFT
    hant.save()
    drafts = sum(1 for entry in hant if entry.tcomment == DRAFT)

    en = polib.pofile(str(LOCALE / "en" / "LC_MESSAGES" / "django.po"))
    missing = []
    for entry in en:
        if "fuzzy" in entry.flags:  # msgmerge's guess is not a translation: start over
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.msgstr_plural = dict.fromkeys(entry.msgstr_plural, "")
            entry.previous_msgid = entry.previous_msgid_plural = None
        if entry.msgstr or entry.msgstr_plural.get(0):
            continue
        chinese, _, english = entry.msgid.partition(" / ")
        if english and HAN.search(chinese) and LATIN.search(english) and not HAN.search(english):
            entry.msgstr = english
        else:
            missing.append(entry.msgid)
    en.save()
    subprocess.run([*linli, "compilemessages", "--ignore=.venv/*"], cwd=ROOT / "linli", check=True)
    print(f"zh-Hant: {drafts} of {len(hant)} entries are OpenCC drafts not reviewed yet")
    if missing:
        print(f"{len(missing)} English strings still to translate by hand:", *missing[:50], sep="\n  ")


if __name__ == "__main__":
    main()
