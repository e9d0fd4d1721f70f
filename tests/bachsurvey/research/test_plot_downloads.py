"""Each dashboard plot downloads as PNG and as SVG, of the answers the same query selects."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.test import Client

from bachsurvey.research.plots import PLOTS
from tests.bachsurvey.research.data import START, Seeded, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", list(PLOTS))
def test_each_plot_downloads_as_png_and_svg(
    seeded: Seeded, client: Client, researcher, name: str
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    png = client.get(f"/research/plots/{name}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png["Content-Disposition"] == f'attachment; filename="bach-or-bot-{name}.png"'
    svg = client.get(f"/research/plots/{name}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == PLOTS[name][0]
    assert "script" not in svg.content.decode()
    assert "default-src 'none'" in svg["Content-Security-Policy"]


def test_a_download_follows_the_query(seeded: Seeded, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    day = START.date().isoformat()
    everything = client.get("/research/plots/time.svg").content
    one_day = client.get("/research/plots/time.svg", {"date_from": day, "date_to": day})
    assert one_day.status_code == 200 and one_day.content != everything
    assert f"bach-or-bot-time-{day}-{day}.svg" in one_day["Content-Disposition"]
    assert client.get("/research/plots/time.svg", {"date_from": "x"}).status_code == 400


def test_unknown_plots_and_formats_are_refused(db: None, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    for url in ("/research/plots/pie.png", "/research/plots/time.pdf"):
        response = client.get(url)
        assert response.status_code == 400 and "plots are category" in response.content.decode()


def test_only_researchers_download(db: None, client: Client) -> None:
    assert client.get("/research/plots/time.png").status_code == 302  # to the login page
    client.force_login(make_user("nora", researcher=False))
    assert client.get("/research/plots/time.png").status_code == 403
