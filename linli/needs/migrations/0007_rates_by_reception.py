"""The three rates now count a need on the day and at the place it was received, and a
department's work also per place node (docs/rates.md): the roll-ups written under the old
rules are rebuilt from the timeline. Nothing to do on a new database."""

from django.db import migrations


def rebuild(apps, schema_editor):  # type: ignore[no-untyped-def]
    if not apps.get_model("needs", "NeedEvent").objects.exists():
        return
    from linli.needs.rates import rollup_rebuild

    rollup_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0006_category_urgency_emergency"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]
