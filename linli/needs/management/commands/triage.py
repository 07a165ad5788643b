"""``linli triage train|show|suggest``: the category classifier of needs 诉求.

``train`` fits a new version on the catalogue and the confirmed needs and makes it active;
``show`` lists the versions; ``suggest "text"`` prints the top categories for a text.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.table import Table

from linli.core.management.process import console_for
from linli.needs.models import Category, TriageModel
from linli.needs.triage import suggest_categories, triage_train


class Command(BaseCommand):
    help = "Train, list or try the need category classifier."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a new version and make it active")
        train.add_argument("--note", default="", help="why this version was trained (kept in the audit trail)")
        sub.add_parser("show", help="list the trained versions")
        suggest = sub.add_parser("suggest", help="suggest categories for a text")
        suggest.add_argument("text")
        suggest.add_argument("--top", type=int, default=3)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        console = console_for(self)
        if action == "train":
            started = time.perf_counter()
            try:
                model = triage_train(note=options["note"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            accuracy = "—" if model.accuracy is None else f"{model.accuracy:.1%}"
            console.print(
                _(
                    "[bold]v%(version)s[/bold] 训练用时 %(seconds)s 秒 · %(examples)s 条示例 · %(labels)s 个类别 · 交叉验证准确率 %(accuracy)s"
                )
                % {
                    "version": model.version,
                    "seconds": f"{time.perf_counter() - started:.1f}",
                    "examples": model.examples,
                    "labels": len(model.labels),
                    "accuracy": accuracy,
                }
            )
            console.print(_("类别：%(labels)s") % {"labels": ", ".join(model.labels)})
        elif action == "show":
            table = Table(title=_("分类模型"))
            table.add_column(_("版本"), justify="right")
            table.add_column(_("训练时间"), justify="left")
            for column in (_("示例"), _("类别数"), _("准确率"), _("启用")):
                table.add_column(column, justify="right")
            for model in TriageModel.objects.defer("blob").order_by("-version"):
                table.add_row(
                    f"v{model.version}",
                    f"{model.trained_at:%Y-%m-%d %H:%M}",
                    str(model.examples),
                    str(len(model.labels)),
                    "—" if model.accuracy is None else f"{model.accuracy:.1%}",
                    "✓" if model.active else "",
                )
            console.print(table)
        else:
            started = time.perf_counter()
            suggestions = suggest_categories(options["text"], top=options["top"])
            elapsed_ms = (time.perf_counter() - started) * 1000
            if not suggestions:
                console.print(_("无建议"))
                return
            names = dict(
                Category.objects.filter(code__in=[code for code, _ in suggestions]).values_list("code", "name")
            )
            table = Table(title=_("建议类别 (%(ms)s 毫秒)") % {"ms": f"{elapsed_ms:.0f}"})
            table.add_column(_("编码"))
            table.add_column(_("名称"))
            table.add_column(_("得分"), justify="right")
            for code, score in suggestions:
                table.add_row(code, names.get(code, ""), f"{score:.3f}")
            console.print(table)
