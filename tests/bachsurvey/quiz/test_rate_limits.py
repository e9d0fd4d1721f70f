"""Rate limits: new quizzes per client address per hour, answers per participant per minute.

Each limit is counted in Django's cache; the tests run against local memory and against a real
Redis (RedisCache, as production uses with CACHE_URL), each test under its own key prefix.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from bachsurvey.env import cache_from_url
from bachsurvey.models import Answer, Participant
from bachsurvey.quiz import throttles
from tests.bachsurvey.conftest import LOCMEM, QuizClient, settings_in_a_fresh_process


def browser(address: str = "127.0.0.1", **headers: str) -> QuizClient:
    """A fresh browser session at ``address`` (Django's test client sets REMOTE_ADDR)."""
    return QuizClient(Client(REMOTE_ADDR=address, **headers))


def assert_rate_limited(response: Any, what: str, at_most: int) -> None:
    assert response.status_code == 429, response.content
    assert 1 <= int(response["Retry-After"]) <= at_most
    body = response.json()
    assert body["code"] == "rate_limited"
    assert what in body["detail"] and "try again" in body["detail"]


# --- new quizzes, per client address per hour ---------------------------------------------------


@pytest.mark.django_db
def test_new_quizzes_are_limited_per_address(
    quiz: list, settings: Any, counting_cache: str
) -> None:
    settings.RATE_LIMIT_PARTICIPANTS = 3
    for _ in range(3):  # three browsers behind one address: a classroom's NAT
        browser().started()
    refused = browser().start()
    assert_rate_limited(refused, "Too many new quizzes from your network", at_most=3600)
    assert Participant.objects.count() == 3
    browser("10.0.0.2").started()  # another address has its own allowance
    assert Participant.objects.count() == 4


@pytest.mark.django_db
def test_the_limit_lifts_after_an_hour(
    quiz: list, settings: Any, counting_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RATE_LIMIT_PARTICIPANTS = 1
    browser().started()
    assert browser().start().status_code == 429
    later = throttles.ParticipantCreationThrottle.timer() + 3601
    monkeypatch.setattr(throttles.ParticipantCreationThrottle, "timer", staticmethod(lambda: later))
    browser().started()


@pytest.mark.django_db
def test_zero_switches_the_quiz_limit_off(quiz: list, settings: Any, counting_cache: str) -> None:
    settings.RATE_LIMIT_PARTICIPANTS = 0
    for _ in range(8):
        browser().started()
    assert Participant.objects.count() == 8


@pytest.mark.django_db
def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    quiz: list, settings: Any, counting_cache: str
) -> None:
    """The finding of issue 19: with the proxy trusted by a flag, a client reaching gunicorn
    directly forged X-Forwarded-For and got a fresh allowance per request."""
    settings.RATE_LIMIT_PARTICIPANTS = 1
    settings.BEHIND_PROXY = True  # as a deployment behind nginx sets it
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1"),)
    direct = "198.51.100.20"  # a client that reached gunicorn, not the proxy
    browser(direct, HTTP_X_FORWARDED_FOR="10.0.0.7").started()
    # Its header is its own word, and changes nothing.
    assert browser(direct, HTTP_X_FORWARDED_FOR="10.0.0.8").start().status_code == 429
    # Through the trusted proxy (127.0.0.1): the entry it appended is the client; entries left
    # of it are the client's own word, and a fresh one per request buys no fresh allowance.
    browser(HTTP_X_FORWARDED_FOR="1.1.1.1, 10.0.0.9").started()
    assert browser(HTTP_X_FORWARDED_FOR="2.2.2.2, 10.0.0.9").start().status_code == 429
    browser(HTTP_X_FORWARDED_FOR="10.0.0.10").started()


# --- answers, per participant per minute ----------------------------------------------------------


@pytest.mark.django_db
def test_answers_are_limited_per_participant(
    quiz: list, settings: Any, counting_cache: str
) -> None:
    settings.RATE_LIMIT_ANSWERS = 2
    me = browser()
    data = me.started()
    first, second = (q["id"] for q in data["questions"][:2])
    assert me.answer(data["id"], first).status_code == 201
    assert me.answer(data["id"], first).status_code == 409  # refusals count too
    refused = me.answer(data["id"], second)
    assert_rate_limited(refused, "Too many answers in a minute", at_most=60)
    assert Answer.objects.count() == 1
    # Another participant, even at the same address, has its own allowance.
    other = browser()
    theirs = other.started()
    assert other.answer(theirs["id"], theirs["questions"][0]["id"]).status_code == 201


@pytest.mark.django_db
def test_strangers_cannot_use_up_a_participants_allowance(
    quiz: list, settings: Any, counting_cache: str
) -> None:
    settings.RATE_LIMIT_ANSWERS = 2
    me = browser()
    data = me.started()
    stranger = browser()
    for _ in range(5):  # someone who learnt my id: 404, and nothing counted against me
        assert stranger.answer(data["id"], data["questions"][0]["id"]).status_code == 404
    assert me.answer(data["id"], data["questions"][0]["id"]).status_code == 201


@pytest.mark.django_db
def test_zero_switches_the_answer_limit_off(quiz: list, settings: Any, counting_cache: str) -> None:
    settings.RATE_LIMIT_ANSWERS = 0
    me = browser()
    data = me.started()
    for question in data["questions"]:
        assert me.answer(data["id"], question["id"]).status_code == 201
        assert me.answer(data["id"], question["id"]).status_code == 409
    assert Answer.objects.count() == 5


# --- a failing cache, and the settings ------------------------------------------------------------


@pytest.mark.django_db
def test_a_cache_that_is_down_lets_requests_through(quiz: list, settings: Any) -> None:
    # A real RedisCache pointed at a port where nothing listens: every cache call fails.
    settings.CACHES = {"default": cache_from_url("redis://127.0.0.1:9/0")}
    settings.RATE_LIMIT_PARTICIPANTS = settings.RATE_LIMIT_ANSWERS = 1
    me = browser()
    data = me.started()
    browser().started()
    for question in data["questions"][:2]:
        assert me.answer(data["id"], question["id"]).status_code == 201


def test_the_cache_url_is_parsed() -> None:
    assert cache_from_url(None)["BACKEND"] == LOCMEM
    assert cache_from_url("locmem://")["BACKEND"] == LOCMEM
    redis_cache = cache_from_url("redis://cache.example:6380/2")
    assert redis_cache["BACKEND"] == "bachsurvey.redis_cache.ReusingRedisCache"
    assert redis_cache["LOCATION"] == "redis://cache.example:6380/2"
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        cache_from_url("memcached://cache.example:11211")


def test_the_limits_come_from_the_environment() -> None:
    names = ["RATE_LIMIT_PARTICIPANTS", "RATE_LIMIT_ANSWERS", "CACHES['default']['BACKEND']"]
    assert settings_in_a_fresh_process(names) == ["300", "30", LOCMEM]
    configured = settings_in_a_fresh_process(
        names,
        RATE_LIMIT_PARTICIPANTS="0",
        RATE_LIMIT_ANSWERS="12",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert configured == ["0", "12", "bachsurvey.redis_cache.ReusingRedisCache"]
    with pytest.raises(AssertionError, match="RATE_LIMIT_ANSWERS must be at least 0"):
        settings_in_a_fresh_process(names, RATE_LIMIT_ANSWERS="-3")
