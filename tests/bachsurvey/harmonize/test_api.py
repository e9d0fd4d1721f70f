"""The harmonizer's API in-process (no broker: the task runs inside the POST): 202 and polling,
the files, refusals naming the note or bar, the body limit, the rate limit, expiry, the schema."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from music21 import converter

from bachsurvey.models import Harmonization
from tests.bachsurvey.harmonize.helpers import SHORT, post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_tasks")]


@pytest.fixture
def harmonized(client: Client, media_root: Path, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks(execute=True):
        created = post(client, SHORT)
    assert created.status_code == 202, created.content
    body = created.json()
    assert set(body) == {"id", "status_url"} and body["status_url"].endswith(f"/{body['id']}/")
    state = client.get(body["status_url"])
    assert state.status_code == 200
    return state.json()


def test_a_melody_comes_back_harmonized_with_its_files(harmonized: dict, client: Client) -> None:
    assert harmonized["status"] == "done" and harmonized["error"] is None
    assert harmonized["key"] == "C major" and harmonized["log_prob"] < 0
    assert (harmonized["voices"], harmonized["melody_voice"]) == ("ATB", "S")
    score = client.get(harmonized["score_url"])
    assert score["Content-Type"] == "image/svg+xml" and b"<svg" in score.content
    assert b"#b03a2e" in score.content.lower()  # the network's voices are marked
    assert (
        "private" in score["Cache-Control"]
        and "default-src 'none'" in score["Content-Security-Policy"]
    )
    audio = client.get(harmonized["audio_url"], HTTP_RANGE="bytes=0-99")
    assert audio.status_code == 206 and audio["Content-Type"] == "audio/mpeg"
    midi = client.get(harmonized["midi_url"])
    assert midi.content.startswith(b"MThd")
    assert midi["Content-Disposition"] == 'attachment; filename="harmonization.mid"'
    xml = client.get(harmonized["musicxml_url"])
    score = converter.parseData(xml.content.decode(), format="musicxml")
    soprano = [(n.nameWithOctave, float(n.quarterLength)) for n in score.parts[0].flatten().notes]
    assert soprano == [("G4", 1), ("C5", 1), ("C5", 1), ("D5", 1), ("E5", 1), ("D5", 2), ("C5", 2)]
    assert all(part.flatten().notes for part in score.parts)


def test_the_melody_may_be_midi_in_base64_and_sung_by_the_bass(
    client: Client, media_root: Path, django_capture_on_commit_callbacks, tmp_path: Path
) -> None:
    from music21 import note, stream

    path = tmp_path / "bass.mid"
    stream.Part([note.Note(p, quarterLength=1) for p in ("C3", "F3", "G3", "C3")]).write(
        "midi", fp=str(path)
    )
    melody = base64.b64encode(path.read_bytes()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        created = post(client, melody, "midi", voices="ST", melody_voice="B", method="greedy")
    assert created.status_code == 202, created.content
    state = client.get(created.json()["status_url"]).json()
    assert state["status"] == "done", state
    assert (state["voices"], state["melody_voice"], state["method"]) == ("ST", "B", "greedy")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"melody": "C5 D5 H5"}, "item 'H5' is neither a note"),
        ({"melody": "C5 D5 E5 F5 | G5 A5 B5 | C6"}, "the bar ending at quarter note 7 lasts 3"),
        ({"melody": "G4 | C5 D5 E5 F5 | G6"}, "^G6 in bar 2, beat 1 lies outside the soprano"),
        ({"melody": "C5 D5", "voices": "SAT", "melody_voice": "S"}, "fill the melody's own"),
        ({"melody": "not base64!", "format": "midi"}, "must be sent base64-encoded"),
        ({"melody": "<score-partwise>", "format": "musicxml"}, "not well-formed XML"),
        ({"melody": "X:1\nM:3/4\nK:C\nc d e|]", "format": "abc"}, "not in 4/4"),
    ],
)
def test_a_bad_melody_is_refused_naming_the_problem(
    client: Client, fields: dict, message: str
) -> None:
    response = post(client, **{"melody": "", **fields})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_melody"
    import re

    assert re.search(message, response.json()["detail"]), response.json()["detail"]
    assert not Harmonization.objects.exists()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"voices": "SATB"}, "voices"),
        ({"voices": "AX"}, "voices"),
        ({"format": "pdf"}, "format"),
        ({"method": "sample"}, "method"),
        ({"beam_width": 50}, "beam_width"),
        ({"melody": ""}, "melody"),
    ],
)
def test_a_malformed_request_names_the_field(client: Client, fields: dict, field: str) -> None:
    response = post(client, **{"melody": "C5 D5", **fields})
    assert response.status_code == 400 and field in response.json(), response.content


def test_a_body_over_the_limit_is_refused_unread(client: Client) -> None:
    response = client.post(
        "/api/harmonizations/", b"{}", content_type="application/json",
        CONTENT_LENGTH=str(10**9),
    )  # fmt: skip
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_a_file_of_almost_a_megabyte_is_read_past_the_sites_64_kb_limit(client: Client) -> None:
    melody = "C5 D5 " + "% padding\n" * 90_000  # 900 kB of comments around two notes
    assert post(client, melody, beam_width=1).status_code == 202
    too_big = post(client, melody + "%" * 100_001)
    assert too_big.status_code == 400 and "at most 1,000,000 bytes" in too_big.json()["detail"]


def test_too_many_melodies_from_one_address_get_429(client: Client, settings) -> None:
    settings.RATE_LIMIT_HARMONIZATIONS = 2
    for _ in range(2):
        assert post(client, "H9").status_code == 400  # refused ones count too
    response = post(client, "H9")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and int(response["Retry-After"]) > 0
    assert client.get("/harmonize/").status_code == 200  # the page itself is not limited


def test_results_expire_and_are_deleted(harmonized: dict, client: Client, media_root: Path) -> None:
    row = Harmonization.objects.get()
    folder = media_root / row.folder
    assert (folder / "audio.mp3").is_file()
    row.expires_at = timezone.now() - timedelta(seconds=1)
    row.save()
    assert client.get(f"/api/harmonizations/{row.pk}/").status_code == 404
    assert client.get(harmonized["audio_url"]).status_code == 404
    call_command("expire_harmonizations", stdout=open("/dev/null", "w"))
    assert not Harmonization.objects.exists() and not folder.exists()


def test_a_new_request_deletes_expired_ones(
    harmonized: dict, client: Client, media_root: Path, settings
) -> None:
    row = Harmonization.objects.get()
    Harmonization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    settings.HARMONIZATION_TTL_SECONDS = 60
    post(client, "C5 D5 E5 F5", method="greedy")
    assert not Harmonization.objects.filter(pk=row.pk).exists()
    assert not (media_root / row.folder).exists()
    fresh = Harmonization.objects.get()
    assert 59 <= (fresh.expires_at - fresh.created_at).total_seconds() <= 61


def test_an_unknown_id_and_an_unfinished_request_have_no_files(client: Client) -> None:
    row = Harmonization.objects.create(
        expires_at=timezone.now() + timedelta(hours=1), format="text", melody="C5", voices="ATB"
    )
    state = client.get(f"/api/harmonizations/{row.pk}/").json()
    assert state["status"] == "pending" and state["score_url"] is None
    assert client.get(f"/harmonize/{row.pk}/audio").status_code == 404
    assert (
        client.get("/api/harmonizations/00000000-0000-0000-0000-000000000000/").status_code == 404
    )


def test_the_schema_lists_both_endpoints(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    post_op = schema["paths"]["/api/harmonizations/"]["post"]
    assert set(post_op["responses"]) >= {"202", "400", "413", "429"}
    get_op = schema["paths"]["/api/harmonizations/{harmonization_id}/"]["get"]
    fields = schema["components"]["schemas"]["HarmonizationOutput"]["properties"]
    assert set(fields) >= {"status", "error", "score_url", "audio_url", "midi_url"}
    assert {"musicxml_url", "log_prob"} <= set(fields) and "200" in get_op["responses"]


def test_the_task_goes_to_the_gpu_queue(settings) -> None:
    assert settings.CELERY_TASK_ROUTES["bachsurvey.tasks.harmonize_melody"] == {"queue": "gpu"}
