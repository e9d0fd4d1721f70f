"""Clips and scores reach a participant only through URLs of their own (issue 16, rules 3, 4, 7).

Each assignment's URLs are opaque and unguessable, open only in the participant's own browser,
expire after the quiz, carry the same headers for both sides and never a file name or time; the
server records the bytes it sends and stores its own account with each answer. Staff reach the
stored files by name (the admin's review pages); nobody else does.
"""

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from bachsurvey.models import Answer, Assignment, ClipDelivery, Participant
from bachsurvey.quiz import clip_urls
from tests.bachsurvey.conftest import QuizClient

pytestmark = pytest.mark.django_db


def first_question(client: Any) -> tuple[dict, dict, Assignment]:
    data = client.started()
    question = data["questions"][0]
    assignment = Assignment.objects.get(participant=data["id"], question=question["id"])
    return data, question, assignment


def audio_file(media_root: Path, assignment: Assignment, side: str) -> bytes:
    clip = assignment.question.clip(side, assignment.bach_side)
    return (media_root / clip.audio.name).read_bytes()


def test_each_participant_gets_urls_of_their_own(quiz: list, new_quiz_client: Any) -> None:
    seen: dict[str, set[str]] = {}
    for _ in range(8):
        for question in new_quiz_client().started()["questions"]:
            urls = {clip["audio_url"] for clip in question["clips"]}
            assert not urls & seen.get(question["id"], set())  # never another's URL
            seen.setdefault(question["id"], set()).update(urls)
    names = {q.clip_real.audio.name for q in quiz} | {q.clip_generated.audio.name for q in quiz}
    every_url = " ".join(url for urls in seen.values() for url in urls)
    assert not any(Path(name).stem in every_url for name in names)


def test_the_url_plays_the_clip_in_its_own_browser_only(
    quiz: list, quiz_client: Any, new_quiz_client: Any, media_root: Path
) -> None:
    data, question, assignment = first_question(quiz_client)
    for clip in question["clips"]:
        response = quiz_client.client.get(clip["audio_url"])
        assert response.status_code == 200
        assert response.content == audio_file(media_root, assignment, clip["label"])
        assert response["Content-Type"] == "audio/mpeg"
        assert new_quiz_client().client.get(clip["audio_url"]).status_code == 404
    assert Client().get(question["clips"][0]["audio_url"]).status_code == 404


MANGLES = [
    lambda u: u[:-1] + ("A" if u[-1] != "A" else "B"),  # another MAC
    lambda u: u[:-4],
    lambda u: u + "x",
    lambda u: u.upper(),
]


@pytest.mark.parametrize("mangle", MANGLES)
def test_a_forged_or_mangled_url_opens_nothing(quiz: list, quiz_client: Any, mangle: Any) -> None:
    _, question, _ = first_question(quiz_client)
    assert quiz_client.client.get(mangle(question["clips"][0]["audio_url"])).status_code == 404


def test_a_score_opens_only_after_its_answer(quiz: list, quiz_client: Any) -> None:
    data, question, assignment = first_question(quiz_client)
    score_url = clip_urls.url(assignment.media_key, "A", "score")
    assert quiz_client.client.get(score_url).status_code == 404
    answer = quiz_client.answer(data["id"], question["id"], "A").json()
    assert {s["score_url"] for s in answer["scores"]} == {
        score_url, clip_urls.url(assignment.media_key, "B", "score")}  # fmt: skip
    response = quiz_client.client.get(score_url)
    assert response.status_code == 200 and response.content.startswith(b"<svg/>")


def test_urls_expire_after_the_quiz_and_die_with_a_withdrawal(
    quiz: list, quiz_client: Any, settings: Any
) -> None:
    settings.CLIP_URL_SECONDS = 600
    data, question, _ = first_question(quiz_client)
    url = question["clips"][1]["audio_url"]
    participant = Participant.objects.get(pk=data["id"])
    participant.finished_at = timezone.now() - timedelta(seconds=590)
    participant.save()
    assert quiz_client.client.get(url).status_code == 200
    participant.finished_at = timezone.now() - timedelta(seconds=610)
    participant.save()
    assert quiz_client.client.get(url).status_code == 404
    participant.finished_at = None
    participant.save()
    assert quiz_client.client.get(url).status_code == 200
    quiz_client.withdraw(data["id"])
    assert quiz_client.client.get(url).status_code == 404


def test_both_sides_carry_the_same_headers_and_nothing_of_the_file(
    quiz: list, quiz_client: Any
) -> None:
    _, question, _ = first_question(quiz_client)
    headers = []
    for clip in question["clips"]:
        response = quiz_client.client.get(clip["audio_url"], HTTP_RANGE="bytes=0-99")
        assert response.status_code == 206
        headers.append(dict(response.headers))
    a, b = headers
    assert set(a) == set(b)
    # The byte range differs by design; the request id is fresh for every request (a
    # random uuid, never derived from the file), so it tells nothing either.
    varying = {"Content-Range", "X-Request-ID"}
    assert {k: v for k, v in a.items() if k not in varying} == {
        k: v for k, v in b.items() if k not in varying}  # fmt: skip
    assert a["X-Request-ID"] != b["X-Request-ID"]
    for name in ("Last-Modified", "ETag", "Content-Disposition"):
        assert name not in a
    assert a["X-Content-Type-Options"] == "nosniff"
    assert a["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-24", -24, None),
     ("bytes=10-999999", 10, None), ("bytes=0-1", 0, 1)],
)  # fmt: skip
def test_it_serves_a_range_and_records_it(
    quiz: list, quiz_client: Any, media_root: Path, header: str, start: int, end: int | None
) -> None:
    _, question, assignment = first_question(quiz_client)
    content = audio_file(media_root, assignment, "B")
    response = quiz_client.client.get(question["clips"][1]["audio_url"], HTTP_RANGE=header)
    want = content[start : None if end is None else end + 1]
    first = start % len(content)
    last = first + len(want) - 1
    assert response.status_code == 206
    assert response.content == want
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(content)}"
    delivery = ClipDelivery.objects.get()
    assert (delivery.assignment_id, delivery.side) == (assignment.pk, "B")
    assert (delivery.first_byte, delivery.last_byte) == (first, last)


@pytest.mark.parametrize(
    "header", ["bytes=5000-", "bytes=" + "9" * 16 + "-", "bytes=" + "1" * 4000 + "-"]
)
def test_a_range_outside_the_file_is_refused_or_ignored(
    quiz: list, quiz_client: Any, header: str
) -> None:
    _, question, _ = first_question(quiz_client)
    response = quiz_client.client.get(question["clips"][0]["audio_url"], HTTP_RANGE=header)
    if header == "bytes=5000-":
        assert response.status_code == 416 and response["Content-Range"].startswith("bytes */")
        assert not ClipDelivery.objects.exists()
    else:  # not a range of ours at all: the whole file, as nginx does
        assert response.status_code == 200


def test_each_answer_stores_what_the_server_sent_and_when(quiz: list, quiz_client: Any) -> None:
    data, question, assignment = first_question(quiz_client)
    a_url, b_url = (clip["audio_url"] for clip in question["clips"])
    size_b = assignment.question.clip("B", assignment.bach_side).audio_bytes
    quiz_client.client.get(a_url)  # all of A
    quiz_client.client.get(b_url, HTTP_RANGE="bytes=0-99")  # a tenth of B, twice
    quiz_client.client.get(b_url, HTTP_RANGE="bytes=50-149")
    assert quiz_client.answer(data["id"], question["id"]).status_code == 201
    answer = Answer.objects.get()
    assert answer.served == {"A": 1.0, "B": round(150 / size_b, 4)}
    assert answer.heard_fully == {"A": True, "B": True}  # what the browser claimed
    started = Participant.objects.get(pk=data["id"]).created_at
    assert 0 <= answer.server_elapsed_ms <= (answer.created_at - started).total_seconds() * 1000 + 1


def test_behind_nginx_django_decides_and_nginx_sends(
    quiz: list, quiz_client: Any, settings: Any
) -> None:
    settings.MEDIA_ACCEL_REDIRECT = "/_media/"
    _, question, assignment = first_question(quiz_client)
    response = quiz_client.client.get(question["clips"][0]["audio_url"], HTTP_RANGE="bytes=0-9")
    clip = assignment.question.clip("A", assignment.bach_side)
    assert response["X-Accel-Redirect"] == f"/_media/{clip.audio.name}"
    assert response.content == b""
    assert response["Content-Type"] == "audio/mpeg"
    delivery = ClipDelivery.objects.get()
    assert (delivery.first_byte, delivery.last_byte) == (0, 9)


def test_stored_files_are_for_staff_only(quiz: list, quiz_client: Any) -> None:
    path = "/media/" + quiz[0].clip_real.audio.name
    quiz_client.started()
    assert quiz_client.client.get(path).status_code == 404  # a participant
    assert Client().get(path).status_code == 404  # anyone
    staff = Client()
    staff.force_login(User.objects.create_user("editor", is_staff=True))
    response = staff.get(path, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and len(response.content) == 10
    for bad in ("/media/clips/missing.mp3", "/media/../settings.py", "/media/%2e%2e/manage.py"):
        assert staff.get(bad).status_code == 404


def test_with_a_shared_cache_a_clip_costs_no_query_and_its_ranges_reach_the_answer(
    quiz: list, counting_cache: str, settings: Any, django_assert_num_queries: Any
) -> None:
    """Production's path (CACHE_URL): the session holds the clips and the cache the ranges, which
    the answer writes down; with a per-process cache the database does both, as it must."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = QuizClient()
    data, question, assignment = first_question(client)
    a_url = question["clips"][0]["audio_url"]
    size_a = assignment.question.clip("A", assignment.bach_side).audio_bytes
    client.client.get(a_url, HTTP_RANGE="bytes=0-9")  # the session is in the cache from here
    shared = counting_cache == "redis"
    with django_assert_num_queries(0 if shared else 2):  # else: the clip's row, the range
        response = client.client.get(a_url, HTTP_RANGE=f"bytes=10-{size_a - 1}")
    assert response.status_code == 206
    assert ClipDelivery.objects.count() == (0 if shared else 2)  # the cache holds them
    assert client.answer(data["id"], question["id"]).status_code == 201
    assert Answer.objects.get().served["A"] == 1.0
    ranges = sorted(ClipDelivery.objects.values_list("side", "first_byte", "last_byte"))
    assert ranges == [("A", 0, 9), ("A", 10, size_a - 1)]


def test_with_a_shared_cache_urls_still_expire_and_die_with_a_withdrawal(
    quiz: list, counting_cache: str, settings: Any
) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CLIP_URL_SECONDS = 600
    client = QuizClient()
    data = client.started()
    for question in data["questions"]:
        assert client.answer(data["id"], question["id"]).status_code == 201
    url = data["questions"][0]["clips"][0]["audio_url"]
    assert client.client.get(url).status_code == 200  # finished just now
    if counting_cache == "redis":
        clip_urls._redis().set(clip_urls._key("clips-ended", data["id"]), time.time() - 601)
    else:
        Participant.objects.filter(pk=data["id"]).update(
            finished_at=timezone.now() - timedelta(seconds=601)
        )
    assert client.client.get(url).status_code == 404
    again = QuizClient()
    fresh = again.started()
    fresh_url = fresh["questions"][0]["clips"][1]["audio_url"]
    assert again.client.get(fresh_url).status_code == 200
    again.withdraw(fresh["id"])
    assert again.client.get(fresh_url).status_code == 404
