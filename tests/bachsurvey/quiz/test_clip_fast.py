"""bachsurvey.quiz.clip_fast: a participant's audio decided in front of Django, the same way
Django does.

It answers only a yes it can give alone (behind nginx, with a shared cache, for the session's own
clip, inside the file, before the URL expires), with the headers Django's view gives and the range
noted for the answer; everything else goes on to Django.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pytest
from django.conf import settings as django_settings

from bachsurvey.models import Answer, Assignment, ClipDelivery
from bachsurvey.quiz import clip_fast, clip_urls
from tests.bachsurvey.conftest import QuizClient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.parametrize("counting_cache", ["redis"], indirect=True),
]

DJANGO = [b"django decided"]


class Call:
    """One WSGI call through ``clip_fast.wrap`` with a stand-in for Django behind it."""

    def __init__(self, path: str, cookie: str = "", method: str = "GET", range_: str = "") -> None:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_COOKIE": cookie}
        if range_:
            environ["HTTP_RANGE"] = range_
        self.status = ""
        self.headers: dict[str, str] = {}
        self.body = b"".join(clip_fast.wrap(self._django)(environ, self._start))

    @staticmethod
    def _django(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("299 Django", [])
        return DJANGO

    def _start(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, dict(headers)

    @property
    def deferred(self) -> bool:
        return self.status == "299 Django"


@pytest.fixture
def participant(quiz: list, counting_cache: str, settings: Any) -> tuple[QuizClient, dict, str]:
    """A participant whose session (in the shared cache) holds the quiz's clips, behind nginx."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.MEDIA_ACCEL_REDIRECT = "/_media/"
    client = QuizClient()
    data = client.started()
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.client.cookies['sessionid'].value}"
    return client, data, cookie


def test_it_hands_the_sessions_own_clip_to_nginx_and_notes_the_range(participant: Any) -> None:
    client, data, cookie = participant
    question = data["questions"][0]
    assignment = Assignment.objects.get(participant=data["id"], question=question["id"])
    clip = assignment.question.clip("B", assignment.bach_side)
    call = Call(question["clips"][1]["audio_url"], cookie, range_="bytes=0-99")
    assert call.status == "200 OK" and call.body == b""
    assert call.headers["X-Accel-Redirect"] == f"/_media/{clip.audio.name}"
    assert call.headers["Content-Type"] == "audio/mpeg"
    assert call.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Last-Modified" not in call.headers and "ETag" not in call.headers
    # The same headers as Django's own answer behind nginx, but for the ones Django's middleware
    # adds to every response (nginx's internal location sets nosniff and the CSP again).
    django = client.client.get(question["clips"][1]["audio_url"], HTTP_RANGE="bytes=0-99")
    assert set(call.headers) - {"Content-Length"} <= set(django.headers)
    assert Call(question["clips"][1]["audio_url"], cookie, method="HEAD").status == "200 OK"
    assert not ClipDelivery.objects.exists()  # the cache holds the ranges until the answer
    assert client.answer(data["id"], question["id"]).status_code == 201
    assert Answer.objects.get().served == {"A": 0.0, "B": round(100 / clip.audio_bytes, 4)}
    ranges = list(ClipDelivery.objects.values_list("side", "first_byte", "last_byte"))
    assert ranges == [("B", 0, 99)] * 2  # one noted here, one by Django; a HEAD sends nothing


def test_what_it_cannot_decide_alone_goes_on_to_django(participant: Any, settings: Any) -> None:
    client, data, cookie = participant
    question = data["questions"][0]
    audio = question["clips"][0]["audio_url"]
    other = QuizClient()
    other_data = other.started()
    other_audio = other_data["questions"][0]["clips"][0]["audio_url"]
    assignment = Assignment.objects.get(participant=data["id"], question=question["id"])
    for call in (
        Call(audio),  # no session
        Call(audio, f"{django_settings.SESSION_COOKIE_NAME}=nonsense"),
        Call(other_audio, cookie),  # another participant's clip
        Call(audio[:-1] + ("A" if audio[-1] != "A" else "B"), cookie),  # forged MAC
        Call(clip_urls.url(assignment.media_key, "A", "score"), cookie),  # a score
        Call("/m/", cookie),
        Call(audio, cookie, method="POST"),
        Call(audio, cookie, range_="bytes=999999-"),  # outside the file: Django says 416
        Call("/api/participants/", cookie),
    ):
        assert call.deferred, call.headers
    settings.MEDIA_ACCEL_REDIRECT = ""
    assert Call(audio, cookie).deferred  # without nginx Django sends the bytes itself


def test_an_expired_or_withdrawn_url_goes_on_to_django(participant: Any, settings: Any) -> None:
    client, data, cookie = participant
    audio = data["questions"][0]["clips"][0]["audio_url"]
    assert not Call(audio, cookie).deferred
    clip_urls.mark_ended(data["id"], time.time() - settings.CLIP_URL_SECONDS - 1)
    assert Call(audio, cookie).deferred
    assert Call(audio, cookie, method="HEAD").deferred
    clip_urls.mark_ended(data["id"], time.time())
    assert not Call(audio, cookie).deferred
    client.withdraw(data["id"])
    assert Call(audio, cookie).deferred
    assert client.client.get(audio).status_code == 404  # and Django refuses it
