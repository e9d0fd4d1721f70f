"""Migrations keep a populated database: rows stored under the previous schema are all there, with
their values, after migrating to the current one (and the models need no new migration)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bachsurvey.models import Answer, Assignment, Chorale, Clip, Participant, Question

pytestmark = pytest.mark.django_db(transaction=True)

PREVIOUS = ("bachsurvey", "0004_question_side_counters")
AUDIO = b"\xff\xfb" * 300


def populate(apps, media_root: Path) -> dict:
    """One answered question under the previous schema, with the historical models."""
    Batch, Chorale = apps.get_model("bachsurvey", "Batch"), apps.get_model("bachsurvey", "Chorale")
    Clip, Question = apps.get_model("bachsurvey", "Clip"), apps.get_model("bachsurvey", "Question")
    Participant = apps.get_model("bachsurvey", "Participant")
    Assignment = apps.get_model("bachsurvey", "Assignment")
    Answer = apps.get_model("bachsurvey", "Answer")
    (media_root / "clips").mkdir(parents=True)
    (media_root / "clips" / "real.mp3").write_bytes(AUDIO)
    batch = Batch.objects.create(name="old batch", mode="free", voices="SATB", count=1)
    real = Chorale.objects.create(kind="real", tokens=["START", "END"], frames=32, source="bwv1.6")
    generated = Chorale.objects.create(
        kind="generated", tokens=["START", "END"], frames=32, mask="SATB", batch=batch, index=0
    )
    clips = [
        Clip.objects.create(
            chorale=chorale, frame_end=32, audio=audio, score="scores/x.svg", duration_s=5.0
        )
        for chorale, audio in ((real, "clips/real.mp3"), (generated, "clips/missing.mp3"))
    ]
    question = Question.objects.create(
        category="SATB", clip_real=clips[0], clip_generated=clips[1], status="approved", live=True
    )
    participant = Participant.objects.create(
        consented_at="2026-01-01T00:00:00Z", age_group="26-45", experience="novice"
    )
    assignment = Assignment.objects.create(
        participant=participant, question=question, position=0, bach_side="B"
    )
    Answer.objects.create(
        assignment=assignment,
        choice="B",
        correct=True,
        response_ms=4200,
        plays={"A": 1, "B": 2},
        heard_fully={"A": True, "B": False},
    )
    return {"question": question.pk, "participant": participant.pk, "clips": [c.pk for c in clips]}


def test_a_populated_database_migrates_to_the_current_schema(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    executor = MigrationExecutor(connection)
    head = executor.loader.graph.leaf_nodes()
    executor.migrate([PREVIOUS])
    apps = executor.loader.project_state([PREVIOUS]).apps
    stored = populate(apps, settings.MEDIA_ROOT)
    titled = apps.get_model("bachsurvey", "Chorale").objects.create(
        kind="real", tokens=["START", "END"], frames=32, source="bwv96.6"
    )

    executor = MigrationExecutor(connection)  # a fresh loader, as `migrate` starts with
    executor.migrate(head)

    question = Question.objects.get(pk=stored["question"])
    assert (question.category, question.status, question.live) == ("SATB", "approved", True)
    assignment = Assignment.objects.get(participant_id=stored["participant"])
    assert (assignment.question_id, assignment.bach_side) == (question.pk, "B")
    assert len(assignment.media_key) == 22  # filled by the migration
    answer = Answer.objects.get(assignment=assignment)
    assert (answer.choice, answer.correct, answer.response_ms) == ("B", True, 4200)
    assert answer.plays == {"A": 1, "B": 2} and answer.heard_fully == {"A": True, "B": False}
    assert answer.served is None  # not recorded before the migration
    real, generated = (Clip.objects.get(pk=pk) for pk in stored["clips"])
    assert (real.audio_bytes, generated.audio_bytes) == (len(AUDIO), 0)  # measured if on disk
    assert Participant.objects.get(pk=stored["participant"]).experience == "novice"
    # Titles from music21's lists (0008), where it has one.
    assert Chorale.objects.get(pk=titled.pk).title == "Herr Christ, der ein’ge Gott’ssohn"
    assert real.chorale.title == ""  # BWV 1.6: music21 lists no title


def test_the_models_need_no_new_migration() -> None:
    call_command("makemigrations", "bachsurvey", "--check", "--dry-run", stdout=StringIO())
