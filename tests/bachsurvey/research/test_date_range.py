"""The date range (date_from, date_to: UTC days, both included) on the dashboard and the API:
every figure is of the answers given on those days; bad dates get a 400 naming the parameter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from bachsurvey.research.records import DateRange
from tests.bachsurvey.research.data import START, Seeded, expected_cell

pytestmark = pytest.mark.django_db


def day(n: int) -> str:
    return (START + timedelta(days=n)).date().isoformat()


def test_the_summary_counts_only_the_days_asked_for(seeded: Seeded, api: APIClient) -> None:
    inside = [a for a in seeded.answers if 1 <= a["day"] <= 3]
    assert 0 < len(inside) < len(seeded.answers)
    data = api.get("/api/results/summary/", {"date_from": day(1), "date_to": day(3)}).json()
    assert data["n"]["answers_given"] == len(inside)
    assert data["overall"]["accuracy"] == pytest.approx(expected_cell(inside)["accuracy"])
    items = api.get("/api/results/items/", {"date_from": day(4)}).json()
    assert items["n"]["answers_given"] == sum(a["day"] >= 4 for a in seeded.answers)


def test_the_dashboard_follows_the_range(seeded: Seeded, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    until = [a for a in seeded.answers if a["day"] <= 2]
    html = client.get("/research/", {"date_to": day(2)}).content.decode()
    assert f'id="headline-answers">{len(until)}<' in html
    assert f'value="{day(2)}"' in html  # the form shows the range it applied
    assert f"plots/category.png?date_to={day(2)}" in html  # and the downloads carry it
    blank = client.get("/research/", {"date_from": "", "date_to": ""})  # the form's empty fields
    assert blank.status_code == 200


@pytest.mark.parametrize(
    "query, named",
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to"),
    ],
)
def test_a_bad_range_is_refused_by_name(
    seeded: Seeded, client: Client, api: APIClient, researcher, query: dict, named: str
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    page = client.get("/research/", query)
    assert page.status_code == 400 and f"{named}: " in page.content.decode()
    reply = api.get("/api/results/summary/", query)
    assert reply.status_code == 400 and named in reply.json()


def test_a_range_that_ends_before_it_starts_is_an_error() -> None:
    with pytest.raises(ValueError, match="starts"):
        DateRange(date(2026, 3, 5), date(2026, 3, 1))
