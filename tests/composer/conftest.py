"""Shared fixtures for the composer tests: the corpus is scanned once per session (about a
minute), everything else uses a few chorales."""

from __future__ import annotations

import pytest
import torch

from composer import checkpoint, corpus
from composer.model import ChoraleLSTM, ModelConfig
from composer.training.train import TrainConfig, train
from composer.vocabulary import load_vocabulary
from tests.composer.render import stand_ins
from tests.composer.tiny import TINY


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

    vocabulary = load_vocabulary()
    results = corpus.scan_corpus(set(TINY_IDS))
    return [vocabulary.encode(score_to_tokens(r.score)) for r in results]


@pytest.fixture(scope="module")
def bach():
    """bwv66.6 by the corpus recipe as a score: 144 frames, fermatas ending at 16, 32, 48, 80, 116,
    144."""
    return stand_ins.real_chorales(1)[0]


@pytest.fixture(scope="session")
def vocabulary():
    return load_vocabulary()


@pytest.fixture(scope="session")
def chorales(tiny_corpus, vocabulary) -> list[list[str]]:
    return [vocabulary.decode(ids) for ids in tiny_corpus]


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory):
    """A one-layer model trained for two epochs on four chorales (a few seconds)."""
    out = tmp_path_factory.mktemp("tiny_model")
    config = TrainConfig(**TINY, epochs=2, device="cpu")
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], out, progress=False)
    model, _, _ = checkpoint.load(result.best_path)
    return model


@pytest.fixture
def tiny_checkpoint(tiny_model, vocabulary, tmp_path):
    path = tmp_path / "tiny.pt"
    checkpoint.save(path, tiny_model, vocabulary, {}, epoch=2, validation_loss=0.0)
    return path


@pytest.fixture(scope="module")
def language_model(vocabulary) -> ChoraleLSTM:
    """A random two-layer language model (seed 0), small enough to run anywhere."""
    torch.manual_seed(0)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=2)
    return ChoraleLSTM(config).eval()
