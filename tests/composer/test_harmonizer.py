"""The harmonizer: a language model told, through a bidirectional reader of the fixed voices,
what they do before and after each frame (composer.harmonizer), and its fine-tuning."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint
from composer.conditioning import target_frames
from composer.encoding import FRAME_END, load_vocabulary
from composer.finetune import (
    FineTuneConfig,
    batch_loss,
    finetune,
    split_new_parameters,
    validate,
)
from composer.harmonize import _stepper, frame_layout, harmonize, mask_tokens, stream_log_prob
from composer.harmonizer import Harmonizer, frame_batch
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens


@pytest.fixture(scope="module")
def vocabulary():
    return load_vocabulary()


@pytest.fixture(scope="module")
def language_model(vocabulary) -> ChoraleLSTM:
    torch.manual_seed(0)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=2)
    return ChoraleLSTM(config).eval()


@pytest.fixture(scope="module")
def chorale(tiny_corpus, vocabulary) -> list[str]:
    tokens = vocabulary.decode(tiny_corpus[0])
    end = [i for i, t in enumerate(tokens) if t == "|||"][23]  # 24 frames keep it quick
    return [*tokens[: end + 1], "END"]


def test_a_new_harmonizer_is_exactly_its_language_model(language_model, vocabulary, chorale):
    """The context's input columns start at zero: same choices, same log-probabilities."""
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8).eval()
    masked = mask_tokens(chorale, "ATB")
    for method in ("greedy", "beam"):
        plain = harmonize(language_model, vocabulary, masked, method, 3)
        read = harmonize(harmonizer, vocabulary, masked, method, 3)
        assert read.tokens == plain.tokens
        assert read.log_prob == pytest.approx(plain.log_prob, abs=1e-4)
    assert stream_log_prob(harmonizer, vocabulary, chorale, masked) == pytest.approx(
        stream_log_prob(language_model, vocabulary, chorale), abs=1e-4
    )


def test_the_context_of_each_token_is_its_target_frames(language_model, vocabulary, chorale):
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8).eval()
    masked = mask_tokens(chorale, "AT")
    ids = torch.tensor(vocabulary.encode(masked))
    layout = frame_layout(masked)
    frames = frame_batch([ids.tolist()], [layout], vocabulary)
    assert frames.voices.shape == (1, 24, 4) and int(frames.lengths[0]) == 24
    with torch.no_grad():
        context = harmonizer.encode(frames.voices, frames.fermata, frames.lengths)  # [1, F, 16]
        condition = harmonizer.condition(ids[None], frames, vocabulary.id(FRAME_END))
    assert condition.shape == (1, len(masked), 16)
    index = target_frames(ids, vocabulary.id(FRAME_END)).clamp(max=23)
    assert torch.equal(condition[0], context[0, index])
    # START predicts frame 0's first token; the token after the first ||| starts frame 1.
    first_end = masked.index("|||")
    assert int(index[0]) == 0 and int(index[first_end]) == 1


def test_the_reader_sees_the_future(language_model, vocabulary, chorale):
    """Changing a fixed note late in the piece changes the context of the first frame."""
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8).eval()
    masked = mask_tokens(chorale, "ATB")
    layout = frame_layout(masked)
    changed = list(masked)
    changed[layout[-1][0]] = (
        "(60, False)" if masked[layout[-1][0]] != "(60, False)" else "(62, False)"
    )
    contexts = []
    for stream in (masked, changed):
        ids = vocabulary.encode(stream)
        frames = frame_batch([ids], [layout], vocabulary)
        with torch.no_grad():
            contexts.append(harmonizer.encode(frames.voices, frames.fermata, frames.lengths))
    assert not torch.allclose(contexts[0][0, 0], contexts[1][0, 0])


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
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8)
    with pytest.raises(ValueError, match="cannot compose freely"):
        sample_tokens(harmonizer, vocabulary, 1)


@pytest.mark.parametrize("blank_loss_only", [False, True], ids=["all-tokens", "blanks-only"])
def test_fine_tuning_lowers_the_loss_on_blanked_voices(
    tiny_corpus, vocabulary, language_model, tmp_path, blank_loss_only
):
    base = tmp_path / "base.pt"
    checkpoint.save(base, language_model, vocabulary, {}, epoch=1, validation_loss=0.0)
    config = FineTuneConfig(
        kind="harmonizer",
        base=str(base),
        epochs=2,
        batch_size=2,
        lr=1e-2,
        transpose=1,
        encoder_hidden=8,
        encoder_layers=1,
        device="cpu",
        patience=5,
        blank_loss_only=blank_loss_only,
    )
    best = finetune(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path / "run", progress=False)
    assert best["epoch"] >= 1, "two epochs on four chorales should beat the untouched model"
    untouched = json.loads((tmp_path / "run" / "log.json").read_text())[0]
    assert best["validation_loss"] < untouched["validation_loss"]
    model, vocab, meta = checkpoint.load(tmp_path / "run" / "best.pt")
    assert isinstance(model, Harmonizer) and meta["kind"] == "harmonizer"
    assert set(best["per_mask"]) == {"S", "A", "T", "B", "AT", "ATB"}
    again = validate(model, vocab, tiny_corpus[4:], torch.device("cpu"))
    assert again["validation_loss"] == pytest.approx(best["validation_loss"], rel=1e-4)


def test_only_the_new_parameters_train_at_the_new_rate(language_model):
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8)
    own, new = split_new_parameters(harmonizer)
    assert {id(p) for p in own} == {id(p) for p in harmonizer.decoder.parameters()} - {
        id(harmonizer.decoder.condition_weight)
    }
    assert len(own) + len(new) == len(list(harmonizer.parameters()))
    grown = language_model.grow_condition(3)
    own, new = split_new_parameters(grown)
    assert new == [grown.condition_weight] and len(own) == len(list(language_model.parameters()))


def test_the_blank_only_loss_counts_blanked_tokens(tiny_corpus, vocabulary, language_model):
    harmonizer = Harmonizer.from_language_model(language_model, encoder_hidden=8).eval()
    ids = tiny_corpus[0]
    layout = frame_layout(vocabulary.decode(ids))
    with torch.no_grad():
        _, counted = batch_loss(
            harmonizer, vocabulary, [ids], [layout], [[1, 2]], torch.device("cpu"), True
        )
    assert counted == 2 * len(layout)  # alto and tenor of every frame
