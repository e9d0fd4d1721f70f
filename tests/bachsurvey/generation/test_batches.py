"""Generation batches run by a real Celery worker on the real Redis and PostgreSQL.

Small on purpose (four pieces, two-second clips): these tests drive the whole path, from the
command to the worker, the model, the renderer and the database, on a loaded 2-core machine.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from bachsurvey.generation import jobs, music, validity
from bachsurvey.models import Batch, Chorale, Question
from tests.bachsurvey.worker import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = "16"  # two seconds of music per clip
FREE_FRAMES = "32"  # a free piece is cut after one of its fermatas: 16-32 frames, up to 4 s


def generate(*args: str, frames: str = FRAMES) -> dict:
    """Run `generate_batch ... --wait`: its stdout is exactly one JSON line, even on failure.

    A failure (non-zero exit, i.e. CommandError) adds its message to the result as "exit".
    """
    out = StringIO()
    failure = None
    try:
        call_command(
            "generate_batch", *args, "--frames", frames, "--wait", "--poll", "0.5", stdout=out
        )
    except CommandError as error:
        failure = str(error)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    return {**json.loads(lines[0]), "exit": failure}


def assert_rendered(batch: Batch, category: str) -> None:
    media = Path(settings.MEDIA_ROOT)
    for question in Question.objects.filter(clip_generated__chorale__batch=batch):
        real, generated = question.clip_real, question.clip_generated
        assert question.category == category and question.status == Question.Status.DRAFT
        assert (real.chorale.kind, generated.chorale.kind) == ("real", "generated")
        assert real.frames == generated.frames and real.duration_s == generated.duration_s
        for clip in (real, generated):
            assert (media / clip.audio.name).read_bytes()[:2] == b"\xff\xfb"  # an MP3 frame
            assert (media / clip.score.name).read_text().startswith("<svg")
        assert set(generated.chorale.style) >= {"parallel_fifths", "pitch_class_distance"}
        assert real.transpose == generated.transpose  # one key for the pair
        assert real.audio_bytes == (media / real.audio.name).stat().st_size


@pytest.mark.slow
def test_it_composes_a_free_batch(worker: Worker, checkpoint_path: Path) -> None:
    from composer.encoding import tokens_to_chorale
    from composer.keys import key_of
    from composer.pairing import ends_on_fermata, phrase_starts, window_chorale

    result = generate("--mode", "free", "--count", "4", "--seed", "7", frames=FREE_FRAMES)
    assert result == {**result, "status": "done", "chorales": 4, "questions": 4, "error": None}
    batch = Batch.objects.get(pk=result["batch"])
    assert batch.rejected == result["rejected"] == batch.chunks["0"]["rejected"]
    assert_rendered(batch, "SATB")
    generated = Chorale.objects.filter(batch=batch)
    assert sorted(generated.values_list("index", flat=True)) == [0, 1, 2, 3]
    assert all(100 <= c.frames <= 400 and c.temperature == 0.8 for c in generated)
    for chorale in generated:  # the sampling settings and rule set each piece was drawn with
        assert chorale.decoding["temperature"] == 0.8 and chorale.decoding["voice_leading"]
        assert chorale.decoding["rules"]["parallel_octaves"] == "forbidden"
    for question in Question.objects.filter(clip_generated__chorale__batch=batch):
        real, mine = question.clip_real, question.clip_generated
        bach, piece = tokens_to_chorale(real.chorale.tokens), tokens_to_chorale(mine.chorale.tokens)
        # Both end right after a fermata; Bach's window starts where a phrase does, the piece
        # at its beginning; the piece was moved to C major / A minor, Bach's mode.
        assert ends_on_fermata(window_chorale(bach, real.frame_start, real.frame_end))
        assert ends_on_fermata(window_chorale(piece, 0, mine.frame_end))
        assert real.frame_start in phrase_starts(bach) and mine.frame_start == 0
        assert 16 <= real.frames == mine.frames <= 32
        found, theirs = key_of(piece), key_of(bach)
        assert found.tonic in (0, 9) and found.mode == theirs.mode


@pytest.mark.slow
def test_it_harmonizes_held_out_chorales(worker: Worker, checkpoint_path: Path) -> None:
    from composer.encoding import tokens_to_chorale
    from composer.pairing import window_chorale
    from composer.prepare import load_split

    def harmonize() -> Batch:
        result = generate(
            "--mode", "harmonize", "--voices", "ATB", "--count", "4", "--method", "greedy"
        )
        assert result == {**result, "status": "done", "chorales": 4, "questions": 4}
        return Batch.objects.get(pk=result["batch"])

    first, second = harmonize(), harmonize()  # seeds drawn per batch; no window twice
    assert first.seed != second.seed
    assert_rendered(first, "ATB")
    validation = set(load_split()["validation"])
    excerpts = []
    for question in Question.objects.filter(clip_generated__chorale__batch__in=[first, second]):
        real, generated = question.clip_real.chorale, question.clip_generated.chorale
        assert real.source == generated.source and real.source in validation
        assert generated.frames == question.clip_generated.frames  # the excerpt is the piece
        mine, bach = tokens_to_chorale(generated.tokens), tokens_to_chorale(real.tokens)
        window = window_chorale(bach, question.clip_real.frame_start, question.clip_real.frame_end)
        assert mine.voices[0] == window.voices[0]  # Bach's soprano, the same frames
        excerpts.append(validity.excerpt_of(question))
    assert not any(a.overlaps(b) for i, a in enumerate(excerpts) for b in excerpts[i + 1 :])


@pytest.mark.slow
def test_a_killed_worker_leaves_nothing_twice(worker: Worker, checkpoint_path: Path) -> None:
    batch = jobs.create_batch(mode="free", count=4, seed=11, frames=int(FREE_FRAMES))
    # Killed while it renders a piece (not while it runs the batch's judge, a task beside them).
    wait_until(
        lambda: (
            Batch.objects.get(pk=batch.pk).done >= 1 and worker.running_task() == "render_piece"
        ),
        180,
        "a first piece, and the worker rendering another",
    )
    worker.kill()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING and 1 <= batch.done < 4
    worker.start()
    finished = (Batch.Status.DONE, Batch.Status.FAILED)
    wait_until(lambda: Batch.objects.get(pk=batch.pk).status in finished, 240, "the batch")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE, batch.error or worker.logs()
    # The pieces were out when the worker died: the batch's task did not start again, the
    # piece task it was running did (Redis handed its message out again).
    assert batch.attempts == 1 and batch.done == 4
    assert sorted(batch.fanout["starts"].values())[-1] == 2
    generated = Chorale.objects.filter(batch=batch)
    assert sorted(generated.values_list("index", flat=True)) == [0, 1, 2, 3]
    assert len({json.dumps(c.tokens) for c in generated}) == 4
    assert Question.objects.filter(clip_generated__chorale__batch=batch).count() == 4
    assert_rendered(batch, "SATB")


def test_a_failed_batch_shows_its_error_and_can_be_retried(
    worker: Worker, checkpoint_path: Path
) -> None:
    missing = "/nonexistent/bachbot.pt"
    result = generate(
        "--mode", "harmonize", "--voices", "S", "--count", "1", "--checkpoint", missing
    )
    assert result["status"] == "failed" and missing in result["error"]
    assert result["exit"] == f"batch {result['batch']} is failed: {result['error']}"
    batch = Batch.objects.get(pk=result["batch"])
    assert batch.status == Batch.Status.FAILED and batch.error == result["error"]
    Batch.objects.filter(pk=batch.pk).update(checkpoint=str(checkpoint_path))  # the fix
    result = generate("--retry", str(batch.pk))
    assert result == {**result, "status": "done", "chorales": 1, "questions": 1, "exit": None}
    assert Batch.objects.get(pk=batch.pk).attempts == 1  # a retry starts a fresh count


def test_import_chorales_renders_the_real_side_once(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    call_command("import_chorales", "--limit", "1", verbosity=0, stdout=out)
    call_command("import_chorales", "--limit", "1", verbosity=0, stdout=out)
    assert out.getvalue().splitlines() == [
        "1 rendered, 0 already there",
        "0 rendered, 1 already there",
    ]
    chorale = Chorale.objects.get()
    clip = chorale.clips.get()
    assert (chorale.kind, chorale.batch, clip.frame_end) == ("real", None, chorale.frames)
    assert (tmp_path / clip.audio.name).read_bytes()[:2] == b"\xff\xfb"
    assert (tmp_path / clip.score.name).read_text().startswith("<svg")


@pytest.mark.slow
def test_no_clip_opens_with_silence() -> None:
    # BWV 248.64-6: the voices rest for four bars while the orchestra plays; BWV 339 has a pickup
    # rest. No window of either may open on that silence (the generated side is held to the same
    # rule by music.rejection_reason).
    tokens, _ = music.corpus()
    assert music.begins_silent(tokens["bwv248.64-6"]) and music.begins_silent(tokens["bwv339"])
    windows = music.bach_windows(tokens)
    for frames in (32, 64):
        for window in windows.of_length(frames):
            excerpt = music.window_tokens(tokens[window.source], window.start, window.end)
            assert not music.begins_silent(excerpt), window
