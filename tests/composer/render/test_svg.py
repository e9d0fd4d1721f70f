"""composer.render.svg: the engraved score."""

from __future__ import annotations

from composer.render.svg import score_to_svg


def test_it_draws_svg_pages(bach):
    pages = score_to_svg(bach)
    assert pages and all(page.lstrip().startswith("<svg") for page in pages)
    assert 'class="measure"' in pages[0]


def test_it_draws_in_any_thread(bach):
    """A threaded web server runs an in-process harmonization outside the main thread, where
    verovio's package had not set where its fonts are."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pages = pool.submit(score_to_svg, bach).result()
    assert pages and 'class="measure"' in pages[0]
