"""The production stack as a participant and a cheater meet it: real nginx (deploy/nginx.conf)
in front of real gunicorn (deploy/gunicorn.conf.py, DEBUG off), on the test database.

Both clips of a question come with the same headers and nothing from the file (no ETag, no
Last-Modified, no file name), with CSP and nosniff; nothing opens without the participant's own
URL in their own browser, scores only after the answer; and the server's count of the bytes it
sent reaches the answer. Run with a shared Redis (CACHE_URL: clip requests are decided in front
of Django, bachsurvey.quiz.clip_fast) and without (Django decides from the database): the same
answers both ways.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from bachsurvey.models import Answer, Assignment, Question
from bachsurvey.quiz import clip_urls
from tests.bachsurvey.conftest import COUNTING_REDIS_URL, needs_postgresql
from tests.bachsurvey.live_site import Browser, free_port, gunicorn, nginx, site_env

# gunicorn runs in other processes, which cannot open SQLite's in-memory test database.
pytestmark = needs_postgresql("gunicorn's processes share the test database")

# Headers whose values differ between two answers of the same kind for reasons of their own
# (X-Request-ID: a fresh random id per request, bachsurvey.observability).
VARYING = {"Date", "Content-Length", "Content-Range", "X-Request-ID"}


@pytest.fixture(params=["shared cache", "no shared cache"])
def site(
    request: pytest.FixtureRequest, live_quiz: list[Question], media_root: Path, tmp_path: Path
) -> Iterator[str]:
    """nginx in front of two sync gunicorn workers, as benchmarks/load/serve.sh runs them."""
    extra = {
        "MEDIA_ACCEL_REDIRECT": "/_media/",
        "DJANGO_BEHIND_PROXY": "1",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        # The server's key, so that this process can make a participant's URLs to try them.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }
    if request.param == "shared cache":
        try:
            redis.Redis.from_url(COUNTING_REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError as error:
            pytest.fail(f"no Redis at {COUNTING_REDIS_URL} (bash .ci/services starts it): {error}")
        extra["CACHE_URL"] = COUNTING_REDIS_URL
    env = site_env(free_port(), media_root, **extra)
    with gunicorn(env, tmp_path / "gunicorn.log") as upstream:
        with nginx(upstream.removeprefix("http://"), media_root, tmp_path / "nginx") as base:
            yield base


def clip_file(media_root: Path, participant: str, question: str, side: str) -> bytes:
    assignment = Assignment.objects.get(participant_id=participant, question_id=question)
    clip = assignment.question.clip(side, assignment.bach_side)
    return (media_root / clip.audio.name).read_bytes()


def shape(headers: object) -> dict[str, list[str]]:
    """Every header (repeated ones too) with its values, but for those that vary by nature."""
    names = {name for name in headers.keys()}  # type: ignore[attr-defined]
    return {
        name: headers.get_all(name)  # type: ignore[attr-defined]
        for name in sorted(names)
        if name not in VARYING
    }


def test_both_clips_look_alike_and_carry_nothing_from_the_file(site: str, media_root: Path) -> None:
    browser = Browser(site)
    data = browser.start()
    question = data["questions"][0]
    shapes = []
    for clip in question["clips"]:
        content = clip_file(media_root, data["id"], question["id"], clip["label"])
        status, headers, body = browser.request(
            "GET", clip["audio_url"], headers={"Range": "bytes=0-9"}
        )
        assert (status, body) == (206, content[:10])
        assert headers["Content-Range"] == f"bytes 0-9/{len(content)}"
        status, whole_headers, body = browser.request("GET", clip["audio_url"])
        assert (status, body) == (200, content)
        for reply in (headers, whole_headers):
            assert reply["Content-Type"] == "audio/mpeg"
            assert reply["X-Content-Type-Options"] == "nosniff"
            assert reply["Content-Security-Policy"].startswith("default-src 'none'")
            assert len(reply.get_all("Accept-Ranges") or []) <= 1  # not once per layer
            for leak in ("ETag", "Last-Modified", "X-Accel-Redirect", "Content-Disposition"):
                assert leak not in reply, leak
        assert whole_headers.get_all("Accept-Ranges") == ["bytes"]  # Safari asks for ranges
        shapes.append((shape(headers), shape(whole_headers)))
    assert shapes[0] == shapes[1]  # Bach's clip and the network's: the same headers


def test_nothing_opens_but_ones_own_url_and_scores_wait_for_the_answer(
    site: str, media_root: Path
) -> None:
    browser = Browser(site)
    data = browser.start()
    question = data["questions"][0]
    url = question["clips"][0]["audio_url"]
    assignment = Assignment.objects.get(participant_id=data["id"], question_id=question["id"])
    clip = assignment.question.clip("A", assignment.bach_side)
    assert Browser(site).request("GET", url)[0] == 404  # another browser
    for stored in (f"/_media/{clip.audio.name}", f"/media/{clip.audio.name}"):
        assert browser.request("GET", stored)[0] == 404  # the file's own name opens nothing
    score = clip_urls.url(assignment.media_key, "A", "score")
    assert browser.request("GET", score)[0] == 404  # not before the answer
    status, _, reply = browser.answer(data["id"], question["id"])
    assert status == 201 and reply["scores"][0]["score_url"] == score
    status, headers, body = browser.request("GET", score)
    assert status == 200 and body == (media_root / clip.score.name).read_bytes()
    assert headers["Content-Type"].startswith("image/svg+xml")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "ETag" not in headers and "Last-Modified" not in headers


def test_the_bytes_sent_reach_the_answer(site: str, media_root: Path) -> None:
    browser = Browser(site)
    data = browser.start()
    question = data["questions"][0]
    a, b = question["clips"]
    size_a = len(clip_file(media_root, data["id"], question["id"], "A"))
    browser.request("GET", a["audio_url"], headers={"Range": "bytes=0-99"})
    browser.request("GET", a["audio_url"], headers={"Range": f"bytes=100-{size_a - 1}"})
    browser.request("GET", b["audio_url"], headers={"Range": "bytes=0-99"})
    assert browser.answer(data["id"], question["id"])[0] == 201
    served = Answer.objects.get(assignment__participant_id=data["id"]).served
    size_b = len(clip_file(media_root, data["id"], question["id"], "B"))
    assert served["A"] == 1.0 and served["B"] == pytest.approx(100 / size_b, abs=0.01)


def test_one_request_id_from_nginx_to_the_reply_and_the_access_log(
    site: str, tmp_path: Path
) -> None:
    status, headers, _ = Browser(site).request("GET", "/")
    request_id = headers["X-Request-ID"]
    assert status == 200 and len(request_id) == 32  # nginx's $request_id: 32 hex digits
    log = tmp_path / "gunicorn.log"
    deadline = time.monotonic() + 5  # gunicorn writes the line once the reply has gone out
    while f"request_id={request_id}" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"request_id={request_id}" in log.read_text()
