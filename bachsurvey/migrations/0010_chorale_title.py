"""Chorale.title: the source chorale's title, named in the reveal after an answer.

Existing rows with a corpus id get theirs from music21's lists (composer.titles). A database
batch or `import_chorales` fills in the title of a real chorale it meets without one.
"""

from django.db import migrations, models


def fill_titles(apps, schema_editor):  # type: ignore[no-untyped-def]
    from bachsurvey.generation.music import chorale_title

    Chorale = apps.get_model("bachsurvey", "Chorale")
    for chorale in Chorale.objects.exclude(source="").filter(title="").only("pk", "source"):
        title = chorale_title(chorale.source)
        if title:
            Chorale.objects.filter(pk=chorale.pk).update(title=title)


class Migration(migrations.Migration):
    dependencies = [
        ("bachsurvey", "0009_consent_study"),
    ]

    operations = [
        migrations.AddField(
            model_name="chorale",
            name="title",
            field=models.CharField(
                blank=True,
                help_text="the source chorale's title, when music21 lists it",
                max_length=200,
            ),
        ),
        migrations.RunPython(fill_titles, migrations.RunPython.noop),
    ]
