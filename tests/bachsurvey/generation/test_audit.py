"""`manage.py audit_validity` (issue 16, rule 10): the demo passes; a pool with a shared clip,
a key or an ending that differs, or a file time that follows the sides, fails, and says why."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from bachsurvey.generation import music
from bachsurvey.models import Clip, Question

pytestmark = pytest.mark.django_db

REQUIRED = {
    "questions",
    "shared_audio",
    "shared_excerpts",
    "endings_differ",
    "keys_differ",
    "judge",
}


@pytest.fixture
def demo(media_root: Path) -> list[Question]:
    call_command("seed_demo", stdout=StringIO())
    return list(Question.objects.filter(live=True).select_related("clip_real__chorale"))


def audit_json() -> tuple[int, dict[str, Any], str]:
    out = StringIO()
    try:
        call_command("audit_validity", "--json", stdout=out)
        status = 0
    except SystemExit as stop:
        status = int(stop.code or 0)
    lines = out.getvalue().splitlines()
    return status, json.loads(lines[-1]), "\n".join(lines[:-1])


def test_the_demo_passes_every_rule(demo: list[Question]) -> None:
    status, report, text = audit_json()
    assert status == 0, text
    assert set(report) >= REQUIRED
    assert report["questions"] == {"S": 2, "A": 2, "T": 2, "B": 2, "AT": 2, "ATB": 2, "SATB": 4}
    assert (report["shared_audio"], report["shared_excerpts"]) == (0, 0)
    assert (report["endings_differ"], report["keys_differ"]) == (0, 0)
    low, high = report["judge"]["interval"]
    assert low <= 0.5 <= high and report["judge"]["n"] == 16
    assert report["largest_difference"]["duration_s"] < 0.05
    assert "all rules hold" in text


def test_a_shared_clip_a_moved_key_and_a_cut_cadence_are_each_found(
    demo: list[Question],
) -> None:
    first, second, third = demo[0], demo[1], demo[2]
    # A second live question on the first question's Bach clip (as a careless import would).
    Question.objects.create(
        category=second.category,
        clip_real=first.clip_real,
        clip_generated=second.clip_generated,
        status="approved",
        live=True,
    )
    Question.objects.filter(pk=second.pk).update(live=False)
    Clip.objects.filter(pk=third.clip_generated_id).update(transpose=third.clip_real.transpose + 1)
    real = demo[3].clip_real
    tokens, start = real.chorale.tokens, real.frame_start
    ends = range(real.frame_end - 1, start, -1)
    cut = next(end for end in ends if not music.ends_on_fermata(tokens, start, end))
    Clip.objects.filter(pk=real.pk).update(frame_end=cut)
    status, report, text = audit_json()
    assert status == 1, report["details"]["shared_excerpts"]
    assert report["shared_audio"] >= 1 and report["shared_excerpts"] == 1, report["details"]
    pairs = {row["question"]: row for row in report["details"]["pairs"]}
    assert pairs[str(third.pk)]["keys"][0] != pairs[str(third.pk)]["keys"][1]
    assert pairs[str(demo[3].pk)]["ends_on_fermata"] == [False, True]
    assert report["keys_differ"] >= 1 and report["endings_differ"] >= 1
    assert "BROKEN: shared audio" in text and "BROKEN: keys differ" in text


def test_the_judge_catches_file_times_that_follow_the_sides(
    demo: list[Question], media_root: Path
) -> None:
    for number, question in enumerate(demo):  # every Bach file written a day before its pair
        when = 1_700_000_000 + number * 100
        os.utime(media_root / question.clip_real.audio.name, (when, when))
        os.utime(media_root / question.clip_generated.audio.name, (when + 86400,) * 2)
    status, report, text = audit_json()
    assert status == 1
    assert report["judge"]["accuracy"] > 0.9 and report["judge"]["interval"][0] > 0.5
    assert "non-musical judge finds Bach" in text


def test_the_admin_shows_the_same_report(demo: list[Question]) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    listing = client.get("/admin/bachsurvey/question/").content.decode()
    assert 'id="validity-audit"' in listing
    page = client.get("/admin/bachsurvey/question/audit/").content.decode()
    assert "all rules hold" in page and "live questions: 16" in page
    assert page.count('href="/admin/bachsurvey/question/') >= 16  # a row per pair
    assert Client().get("/admin/bachsurvey/question/audit/").status_code == 302  # login first


def test_a_missing_audio_file_is_named_not_a_traceback(
    demo: list[Question], media_root: Path
) -> None:
    missing = demo[0].clip_real.audio.name
    (media_root / missing).unlink()
    with pytest.raises(CommandError) as refused:  # manage.py prints it and exits 2
        call_command("audit_validity", stdout=StringIO())
    assert refused.value.returncode == 2
    assert missing in str(refused.value) and "is missing" in str(refused.value)
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    page = client.get("/admin/bachsurvey/question/audit/").content.decode()
    assert "cannot audit the live pool" in page and missing in page
