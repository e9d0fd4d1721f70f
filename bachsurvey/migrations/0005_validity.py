"""Validity (issue 16): sides drawn per assignment (the side counters go), clip URLs of each
assignment's own, the bytes the server sent and its own timing of each answer, the pair's common
transposition, each audio file's size and hash (filled here from the files on disk), and a seed
drawn for each new batch."""

import hashlib
import secrets
from pathlib import Path

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import bachsurvey.models


def fill_media_keys(apps, schema_editor):
    Assignment = apps.get_model("bachsurvey", "Assignment")
    for assignment in Assignment.objects.filter(media_key__isnull=True).only("pk"):
        assignment.media_key = secrets.token_urlsafe(16)
        assignment.save(update_fields=["media_key"])


def measure_audio(apps, schema_editor):
    Clip = apps.get_model("bachsurvey", "Clip")
    for clip in Clip.objects.all().only("pk", "audio"):
        path = Path(settings.MEDIA_ROOT) / str(clip.audio)
        if path.is_file():
            data = path.read_bytes()
            clip.audio_bytes, clip.audio_sha256 = len(data), hashlib.sha256(data).hexdigest()
            clip.save(update_fields=["audio_bytes", "audio_sha256"])


class Migration(migrations.Migration):
    dependencies = [
        ("bachsurvey", "0004_question_side_counters"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="question",
            name="bach_on_a",
        ),
        migrations.RemoveField(
            model_name="question",
            name="bach_on_b",
        ),
        migrations.AddField(
            model_name="answer",
            name="served",
            field=models.JSONField(
                blank=True,
                help_text='share of each file sent, e.g. {"A": 1.0, "B": 0.4}',
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="answer",
            name="server_elapsed_ms",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="from the previous answer (or the start) to this one",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="assignment",
            name="media_key",
            field=models.CharField(editable=False, max_length=22, null=True),
        ),
        migrations.RunPython(fill_media_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="assignment",
            name="media_key",
            field=models.CharField(
                default=bachsurvey.models.new_media_key, editable=False, max_length=22, unique=True
            ),
        ),
        migrations.AddField(
            model_name="batch",
            name="random_key",
            field=models.BooleanField(
                default=True,
                help_text="move both clips of each pair together to one key drawn at random",
            ),
        ),
        migrations.AddField(
            model_name="clip",
            name="audio_bytes",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="clip",
            name="audio_sha256",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="clip",
            name="transpose",
            field=models.SmallIntegerField(
                default=0, help_text="semitones, the same for both sides"
            ),
        ),
        migrations.CreateModel(
            name="ClipDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("side", models.CharField(choices=[("A", "A"), ("B", "B")], max_length=1)),
                ("first_byte", models.PositiveIntegerField()),
                ("last_byte", models.PositiveIntegerField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="bachsurvey.assignment",
                    ),
                ),
            ],
        ),
        migrations.RunPython(measure_audio, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="batch",
            name="seed",
            field=models.PositiveBigIntegerField(
                default=bachsurvey.models.new_seed,
                validators=[django.core.validators.MaxValueValidator(2147483647)],
            ),
        ),
    ]
