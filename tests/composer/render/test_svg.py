"""composer.render.svg: the engraved score."""

from __future__ import annotations

from composer.render.svg import score_to_svg


def test_it_draws_svg_pages(bach):
    pages = score_to_svg(bach)
    assert pages and all(page.lstrip().startswith("<svg") for page in pages)
    assert 'class="measure"' in pages[0]
