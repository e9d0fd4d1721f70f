"""Shared fixtures for the composer tests: the corpus is scanned once per session (about a
minute), everything else uses a few chorales."""

from __future__ import annotations

import pytest

from composer import corpus


@pytest.fixture(scope="session")
def corpus_scan() -> list:
    """Every candidate chorale, kept (PreparedChorale) or excluded (Exclusion)."""
    return list(corpus.scan_corpus())


@pytest.fixture(scope="session")
def kept(corpus_scan) -> list[corpus.PreparedChorale]:
    return [r for r in corpus_scan if isinstance(r, corpus.PreparedChorale)]


@pytest.fixture(scope="session")
def bwv66_6() -> corpus.PreparedChorale:
    (result,) = corpus.scan_corpus({"bwv66.6"})
    return result


TINY_IDS = ("bwv66.6", "bwv1.6", "bwv10.7", "bwv101.7", "bwv102.7")


@pytest.fixture(scope="session")
def tiny_corpus() -> list[list[int]]:
    """Five real chorales as vocabulary ids (train on four, validate on the last)."""
    from composer.encoding import score_to_tokens
    from composer.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    results = corpus.scan_corpus(set(TINY_IDS))
    return [vocabulary.encode(score_to_tokens(r.score)) for r in results]
