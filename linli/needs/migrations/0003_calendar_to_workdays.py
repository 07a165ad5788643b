from django.db import migrations


class Migration(migrations.Migration):
    """The holiday calendar moved to the workdays app: Django's state only, the tables stay."""

    dependencies = [
        ("needs", "0002_rating_links"),
        ("workdays", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="calendaryear", name="city"),
                migrations.DeleteModel(name="CalendarDay"),
                migrations.DeleteModel(name="CalendarYear"),
            ]
        )
    ]
