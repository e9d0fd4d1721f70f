"""seed_demo loads the committed demo quiz, once, with files that give nothing away."""

import json
import shutil
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from bachsurvey.generation import validity
from bachsurvey.models import Batch, Chorale, Clip, Question

pytestmark = pytest.mark.django_db

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo"


def seed(fixtures: Path = DEMO) -> str:
    out = StringIO()
    call_command("seed_demo", "--fixtures", str(fixtures), stdout=out)
    return out.getvalue()


def test_it_loads_enough_live_questions_of_every_kind(media_root: Path) -> None:
    assert seed().startswith("loaded")
    categories = Counter(Question.objects.filter(live=True).values_list("category", flat=True))
    assert all(categories[c] >= 2 for c in ("S", "A", "T", "B", "AT", "ATB"))
    assert categories["SATB"] >= 4
    for clip in Clip.objects.all():
        assert (media_root / clip.audio.name).is_file()
        assert (media_root / clip.score.name).read_text().startswith("<svg")


def test_it_names_the_demo_s_chorales(media_root: Path) -> None:
    seed()
    titles = dict(Chorale.objects.filter(kind="real").values_list("source", "title"))
    assert titles["bwv96.6"] == "Herr Christ, der ein’ge Gott’ssohn"
    assert titles["bwv66.6"] == ""  # music21 lists no title for it
    assert sum(bool(title) for title in titles.values()) >= len(titles) - 2


def test_it_is_idempotent(media_root: Path) -> None:
    seed()
    counts = (Batch.objects.count(), Chorale.objects.count(), Question.objects.count())
    assert seed().startswith("already loaded")
    assert (Batch.objects.count(), Chorale.objects.count(), Question.objects.count()) == counts


def test_it_restores_missing_files(media_root: Path) -> None:
    seed()
    shutil.rmtree(media_root)
    seed()
    assert all((media_root / clip.audio.name).is_file() for clip in Clip.objects.all())


def test_it_replaces_an_older_demo(media_root: Path, tmp_path: Path) -> None:
    seed()
    rebuilt = tmp_path / "demo"
    shutil.copytree(DEMO, rebuilt)
    manifest = json.loads((rebuilt / "manifest.json").read_text())
    manifest["seed"] = -1
    (rebuilt / "manifest.json").write_text(json.dumps(manifest))
    seed(rebuilt)
    assert Batch.objects.count() == 2
    newest = Batch.objects.latest("created_at")
    live = Question.objects.filter(live=True)
    assert live.count() == len(manifest["questions"])
    assert all(q.clip_generated.chorale.batch == newest for q in live)


def test_it_pairs_clips_that_sound_alike_but_for_the_music(media_root: Path) -> None:
    seed()
    for question in Question.objects.select_related("clip_real", "clip_generated"):
        real, generated = question.clip_real, question.clip_generated
        assert real.frames == generated.frames and real.duration_s == generated.duration_s
        # Same length and constant bit rate with no tags: byte-for-byte the same size.
        assert real.audio.size == generated.audio.size
        assert generated.chorale.mask == question.category
        assert real.chorale.kind == "real" and real.chorale.source.startswith("bwv")


def test_the_demo_obeys_the_validity_rules(media_root: Path) -> None:
    """Built by the batch pipeline with the shipped checkpoints; one question per audio file
    and per Bach excerpt; both clips of a pair in one key."""
    seed()
    questions = list(
        Question.objects.select_related("clip_real__chorale", "clip_generated__chorale")
    )
    checkpoints = {q.clip_generated.chorale.checkpoint.split()[0] for q in questions}
    assert checkpoints == {"bachbot_length.pt", "harmonizer.pt"}
    hashes = [c.audio_sha256 for q in questions for c in (q.clip_real, q.clip_generated)]
    assert len(set(hashes)) == len(hashes) == 2 * len(questions) and all(hashes)
    excerpts = [validity.excerpt_of(q) for q in questions]
    assert not any(a.overlaps(b) for i, a in enumerate(excerpts) for b in excerpts[i + 1 :])
    assert all(q.clip_real.transpose == q.clip_generated.transpose for q in questions)
    assert len({q.clip_real.transpose for q in questions}) > 1  # moved to keys drawn at random


def test_a_demo_that_would_share_bach_with_a_live_question_is_refused(
    media_root: Path, tmp_path: Path, make_question: Any
) -> None:
    manifest = json.loads((DEMO / "manifest.json").read_text())
    clip = next(c for c in manifest["clips"] if c["key"] == manifest["questions"][0]["real"])
    source = next(c["source"] for c in manifest["chorales"] if c["key"] == clip["chorale"])
    live = make_question("S", source=source, frames=clip["frame_end"])  # frames 0.. overlap
    with pytest.raises(CommandError, match=f"Bach excerpt.*{live.pk}"):
        seed()
    assert list(Question.objects.filter(live=True)) == [live]  # nothing else changed
    assert not Batch.objects.exists()


def test_a_manifest_of_another_version_is_refused(media_root: Path, tmp_path: Path) -> None:
    old = tmp_path / "demo"
    shutil.copytree(DEMO, old)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "version": 1}))
    with pytest.raises(CommandError, match="version 1.*build_demo_fixtures"):
        seed(old)
