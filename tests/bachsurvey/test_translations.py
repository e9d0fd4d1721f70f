"""English and German (issue 20, item 6): the language from the browser or the switcher's cookie,
German pages, German refusals from the API and the forms, and the scripts' catalog."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from bachsurvey.quiz.throttles import in_words
from bachsurvey.security_headers import CONTENT_SECURITY_POLICY
from tests.bachsurvey.conftest import QuizClient

pytestmark = pytest.mark.django_db

GERMAN = "de-DE,de;q=0.9,en;q=0.5"
# A page, and a sentence only its German holds.
PAGES = {
    "/": "Können Sie Bach von einer Maschine unterscheiden?",
    "/about/": "Über diese Studie",
    "/withdraw/": "Teilnahme an der Studie widerrufen",
    "/results/": "Können Menschen Bach von einer Maschine unterscheiden?",
    "/harmonize/": "Eigene Melodie harmonisieren",
}


@pytest.fixture
def german() -> Client:
    return Client(headers={"accept-language": GERMAN})


@pytest.mark.parametrize("path", list(PAGES))
def test_it_answers_a_german_browser_in_german(german: Client, path: str) -> None:
    page = german.get(path).content.decode()
    assert PAGES[path] in page
    assert '<html lang="de">' in page


@pytest.mark.parametrize("path", list(PAGES))
def test_it_stays_english_for_a_browser_that_asks_for_neither(path: str) -> None:
    page = Client(headers={"accept-language": "fr-FR,fr;q=0.9"}).get(path).content.decode()
    assert PAGES[path] not in page
    assert '<html lang="en">' in page


def test_the_cached_public_results_are_cached_per_language(german: Client) -> None:
    """/results/ is cached for everyone (cache_page): each language must get its own copy."""
    assert PAGES["/results/"] in german.get("/results/").content.decode()
    english = Client().get("/results/")
    assert "Can people tell Bach from a machine?" in english.content.decode()
    assert "Accept-Language" in english["Vary"]
    assert PAGES["/results/"] in german.get("/results/").content.decode()


def test_the_switcher_s_cookie_wins_over_the_browser(german: Client) -> None:
    page = german.get("/about/").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="csrfmiddlewaretoken"' in page
    response = german.post("/i18n/setlang/", {"language": "en", "next": "/about/"})
    assert (response.status_code, response["Location"]) == (302, "/about/")
    cookie = response.cookies["django_language"]
    assert cookie.value == "en" and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = german.get("/about/").content.decode()
    assert "About this study" in page and '<html lang="en">' in page


def test_the_switcher_refuses_a_post_without_csrf(german: Client) -> None:
    strict = Client(enforce_csrf_checks=True, headers={"accept-language": GERMAN})
    response = strict.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 403


def test_the_quiz_page_shows_the_background_choices_in_german(german: Client) -> None:
    page = german.get("/").content.decode()
    for text in ("unter 18", "Mittelstufe", "Ich spiele ein Instrument", '"SATB": "Freie'):
        assert text in page, text
    assert 'value="intermediate"' in page  # the stored values stay as they are


def test_the_api_refuses_in_german(quiz: list, german: Client) -> None:
    participant = QuizClient(german)
    refused = participant.start(consent=False)
    assert refused.status_code == 400
    assert refused.json()["consent"] == ["Für die Teilnahme ist Ihre Einwilligung nötig."]
    started = participant.started()
    second = started["questions"][1]["id"]
    out_of_order = participant.answer(started["id"], second)
    assert out_of_order.status_code == 409
    assert out_of_order.json()["detail"] == "Bitte beantworten Sie zuerst Frage 1."
    assert german.get("/api/nothing/").json()["detail"] == "Diese Ressource gibt es nicht."


def test_the_api_still_refuses_in_english_by_default(quiz: list, quiz_client: Any) -> None:
    started = quiz_client.started()
    out_of_order = quiz_client.answer(started["id"], started["questions"][1]["id"])
    assert out_of_order.json()["detail"] == "Please answer question 1 first."


def test_the_withdrawal_form_speaks_german(german: Client) -> None:
    response = german.post("/withdraw/", {"code": "nonsense"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ein Widerrufscode besteht aus 8 Buchstaben und Ziffern" in page
    assert "Ihr Widerrufscode" in page  # the field's label


def test_waits_are_said_with_the_language_s_plurals() -> None:
    with translation.override("de"):
        assert [in_words(s) for s in (None, 1, 30, 120)] == [
            "später",
            "in 1 Sekunde",
            "in 30 Sekunden",
            "in 2 Minuten",
        ]
    with translation.override("en"):
        assert [in_words(s) for s in (1, 30)] == ["in 1 second", "in 30 seconds"]


def test_the_catalog_is_served_per_language(german: Client) -> None:
    response = german.get("/jsi18n/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert "Frage %(n)s von %(total)s" in script
    assert "Sie haben Bach in %(correct)s von %(answered)s Fragen gefunden." in script
    # A browser keeps it per language: the switcher's cookie or Accept-Language may change it.
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
    assert "max-age=3600" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # Only our strings, not the admin's; and nothing a script-src 'self' policy would block.
    assert "eval(" not in script and "new Function" not in script
    assert "Verfügbare %s" not in script  # one of the admin's
    english = Client().get("/jsi18n/").content.decode()
    assert "Frage %(n)s" not in english and "globals.ngettext = django.ngettext" in english


def test_pages_load_the_catalog_before_their_scripts(german: Client) -> None:
    for path, first in (("/", "/static/quiz/text.js"), ("/harmonize/", "keyboard.js")):
        response = german.get(path)
        page = response.content.decode()
        assert '<script src="/jsi18n/" defer></script>' in page
        assert page.index('src="/jsi18n/"') < page.index(first), path
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
