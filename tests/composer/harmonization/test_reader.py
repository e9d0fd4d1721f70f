"""The harmonizer: the language model times a bidirectional reader of the fixed voices
(composer.harmonization.reader)."""

from __future__ import annotations

import pytest
import torch

from composer.encoding import BLANK
from composer.harmonization.masks import frame_layout, mask_tokens
from composer.harmonization.reader import Harmonizer, frame_batch, token_features
from composer.harmonization.search import _stepper, harmonize, stream_log_prob
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens
from tests.composer.tiny import harmonizer_of


@pytest.fixture(scope="module")
def chorale(tiny_corpus, vocabulary) -> list[str]:
    tokens = vocabulary.decode(tiny_corpus[0])
    end = [i for i, t in enumerate(tokens) if t == "|||"][23]  # 24 frames keep it quick
    return [*tokens[: end + 1], "END"]


def reader_bias(harmonizer: Harmonizer, vocabulary, masked: list[str]) -> torch.Tensor:
    ids = torch.tensor(vocabulary.encode(masked))
    layout = frame_layout(masked)
    frames = frame_batch([ids.tolist()], [layout], vocabulary)
    with torch.no_grad():
        return harmonizer.bias(ids[None], frames, [layout], vocabulary.id(BLANK))[0]  # [n, V]


def test_with_weight_zero_a_harmonizer_is_exactly_its_language_model(
    language_model, vocabulary, chorale
):
    harmonizer = harmonizer_of(language_model, [0.0, 0.0, 0.0, 0.0])
    masked = mask_tokens(chorale, "ATB")
    for method in ("greedy", "beam"):
        plain = harmonize(language_model, vocabulary, masked, method, 3)
        read = harmonize(harmonizer, vocabulary, masked, method, 3)
        assert read.tokens == plain.tokens
        assert read.log_prob == pytest.approx(plain.log_prob, abs=1e-4)
    assert stream_log_prob(harmonizer, vocabulary, chorale, masked) == pytest.approx(
        stream_log_prob(language_model, vocabulary, chorale), abs=1e-4
    )


def test_the_reader_speaks_before_each_blank_with_its_voice_weight(
    language_model, vocabulary, chorale
):
    """The logits at p - 1 predict the token at p: there, and only there, the blank's voice's
    weight times the reader's log-probabilities for that frame and voice."""
    harmonizer = harmonizer_of(language_model, [0.5, 1.0, 2.0, 3.0])
    masked = mask_tokens(chorale, "AT")
    layout = frame_layout(masked)
    bias = reader_bias(harmonizer, vocabulary, masked)
    assert bias.shape == (len(masked), len(vocabulary))
    frames = frame_batch([vocabulary.encode(masked)], [layout], vocabulary)
    with torch.no_grad():
        log_probs = torch.log_softmax(harmonizer.frame_logits(frames)[0], dim=-1)  # [F, 4, V]
    spoken = set()
    for f, slots in enumerate(layout):
        for voice, weight in ((1, 1.0), (2, 2.0)):
            position = slots[voice]
            assert torch.allclose(bias[position - 1], weight * log_probs[f, voice])
            spoken.add(position - 1)
    silent = [p for p in range(len(masked)) if p not in spoken]
    assert torch.count_nonzero(bias[silent]) == 0


def test_the_reader_sees_the_future(language_model, vocabulary, chorale):
    """A fixed note changed in the last frame changes what the reader says at the first."""
    harmonizer = harmonizer_of(language_model, [1.0, 1.0, 1.0, 1.0])
    masked = mask_tokens(chorale, "ATB")
    last_soprano = frame_layout(masked)[-1][0]
    changed = list(masked)
    changed[last_soprano] = (
        "(60, False)" if masked[last_soprano] != "(60, False)" else "(62, False)"
    )
    first_alto = frame_layout(masked)[0][1]
    before = reader_bias(harmonizer, vocabulary, masked)[first_alto - 1]
    after = reader_bias(harmonizer, vocabulary, changed)[first_alto - 1]
    assert not torch.equal(before, after)  # a left-to-right model could not tell them apart


def test_harmonizing_and_scoring_agree(language_model, vocabulary, chorale):
    """The log-probability beam search reports is the one its stream scores afterwards, and
    beam search finds a stream at least as likely as greedy's."""
    harmonizer = harmonizer_of(language_model, [2.0, 2.0, 2.0, 1.0])
    masked = mask_tokens(chorale, "ATB")
    greedy = harmonize(harmonizer, vocabulary, masked, "greedy")
    beam = harmonize(harmonizer, vocabulary, masked, "beam", 4)
    assert beam.log_prob >= greedy.log_prob - 1e-6
    scored = stream_log_prob(harmonizer, vocabulary, beam.tokens, masked)
    assert scored == pytest.approx(beam.log_prob, abs=1e-3)
    fixed = [i for i, t in enumerate(masked) if t != BLANK]
    assert [beam.tokens[i] for i in fixed] == [masked[i] for i in fixed]


def test_the_stepper_with_a_bias_computes_what_the_model_computes(vocabulary, language_model):
    torch.manual_seed(1)
    ids = torch.randint(0, len(vocabulary), (3, 9))
    bias = torch.randn(9, len(vocabulary))
    expected, _ = language_model(ids)
    expected = expected + bias
    step = _stepper(language_model, None, bias)
    with torch.no_grad():
        _, hidden = step(ids[:, :5], None, 0)
        logits, _ = step(ids[:, 5:], hidden, 5)
    assert torch.allclose(logits, expected[:, 5:], atol=1e-5)


def test_the_stepper_with_a_condition_computes_what_the_model_computes(vocabulary):
    torch.manual_seed(1)
    model = ChoraleLSTM(ModelConfig(len(vocabulary), 8, 16, 3, condition_dim=5)).eval()
    ids = torch.randint(0, len(vocabulary), (3, 9))
    condition = torch.randn(9, 5)
    expected, _ = model(ids, None, condition.expand(3, -1, -1))
    step = _stepper(model, condition)
    with torch.no_grad():
        _, hidden = step(ids[:, :5], None, 0)
        logits, _ = step(ids[:, 5:], hidden, 5)
    assert torch.allclose(logits, expected[:, 5:], atol=1e-5)


def test_a_model_refuses_a_condition_of_the_wrong_shape(vocabulary, language_model):
    ids = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="takes no condition"):
        language_model(ids, None, torch.zeros(2, 4, 3))
    grown = language_model.grow_condition(3)
    with pytest.raises(ValueError, match=r"condition must be \[B, T, 3\]"):
        grown(ids, None, torch.zeros(2, 4, 2))


def test_a_harmonizer_cannot_compose_freely(language_model, vocabulary):
    harmonizer = harmonizer_of(language_model, [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="cannot compose freely"):
        sample_tokens(harmonizer, vocabulary, 1)


def test_token_features_name_pitch_class_height_tie_and_blank(vocabulary):
    table = token_features(vocabulary)  # [V, 16]
    row = table[vocabulary.id("(67, True)")]  # G4, held
    assert row[:12].tolist() == [float(pc == 7) for pc in range(12)]
    assert row[12:].tolist() == pytest.approx([7 / 12, 1.0, 1.0, 0.0])
    assert table[vocabulary.id("(48, False)"), 12] == pytest.approx(-1.0)  # an octave below C4
    assert table[vocabulary.id("(48, False)"), 14] == 0.0  # attacked, not tied
    assert table[vocabulary.id(BLANK)].tolist() == [0.0] * 15 + [1.0]
    assert table[vocabulary.id("|||")].abs().sum() == 0


def test_a_reader_with_pitch_features_needs_the_vocabulary(language_model, vocabulary):
    with pytest.raises(ValueError, match="vocabulary"):
        Harmonizer.from_language_model(language_model, pitch_features=True)
    harmonizer = Harmonizer.from_language_model(language_model, vocabulary, pitch_features=True)
    assert torch.equal(harmonizer.token_features, token_features(vocabulary))
