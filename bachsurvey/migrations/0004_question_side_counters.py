"""Side counters on questions (services.balanced_sides), filled from the assignments so far."""

from django.db import migrations, models
from django.db.models import Count


def count_existing(apps, schema_editor):
    Assignment = apps.get_model("bachsurvey", "Assignment")
    Question = apps.get_model("bachsurvey", "Question")
    rows = Assignment.objects.values("question", "bach_side").annotate(n=Count("id"))
    for row in rows:
        field = "bach_on_a" if row["bach_side"] == "A" else "bach_on_b"
        Question.objects.filter(pk=row["question"]).update(**{field: row["n"]})


class Migration(migrations.Migration):
    dependencies = [
        ("bachsurvey", "0003_researcher_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="question",
            name="bach_on_a",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="question",
            name="bach_on_b",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
