"""The length-aware composer: the features told beside each token (composer.conditioning), the
target lengths the sampler draws, and that training, evaluation and sampling feed them."""

from __future__ import annotations

import json

import pytest
import torch

from composer.conditioning import length_features, stream_length_features, target_frames
from composer.encoding import FRAME_END, PAD
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import TRAIN_FRAMES_PATH, draw_lengths, sample_tokens
from composer.training.train import evaluate
from composer.vocabulary import load_vocabulary


@pytest.fixture(scope="module")
def vocabulary():
    return load_vocabulary()


def stream_of(frames: int) -> list[str]:
    frame = ["(60, False)", "(55, False)", "(52, False)", "(48, False)", "|||"]
    return ["START", *frame * frames, "END"]


def test_each_position_knows_the_frame_of_the_token_it_predicts(vocabulary):
    ids = torch.tensor(vocabulary.encode(stream_of(3)))
    frames = target_frames(ids, vocabulary.id(FRAME_END))
    # START and the four voices predict frame 0's tokens (its ||| included); after the first
    # ||| comes frame 1; END (after the third |||) is "frame 3", the length.
    assert frames.tolist() == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 2


def test_length_features_say_how_far_through_the_piece_a_token_is():
    features = length_features(torch.tensor([0, 100, 190, 200]), torch.tensor(200))
    progress, left, scale = features.unbind(-1)
    assert progress.tolist() == pytest.approx([0.0, 0.5, 0.95, 1.0])
    assert left.tolist() == pytest.approx([1.0, 1.0, 10 / 32, 0.0])  # saturates two bars out
    assert scale.tolist() == pytest.approx([0.5] * 4)


def test_padding_does_not_count_towards_a_streams_length(vocabulary):
    short, long = vocabulary.encode(stream_of(2)), vocabulary.encode(stream_of(4))
    pad = vocabulary.id(PAD)
    ids = torch.tensor([short + [pad] * (len(long) - len(short)), long])
    features = stream_length_features(ids, vocabulary.id(FRAME_END), pad)  # [2, T, 3]
    assert features[0, 0, 2] * 400 == pytest.approx(2) and features[1, 0, 2] * 400 == 4
    assert features[0, len(short) - 2, 0] == pytest.approx(1.0)  # the position predicting END


def test_target_lengths_are_drawn_from_bachs_training_chorales_with_the_seed():
    bach = set(json.loads(TRAIN_FRAMES_PATH.read_text()).values())
    first = draw_lengths(50, seed=3)
    assert first == draw_lengths(50, seed=3) and first != draw_lengths(50, seed=4)
    assert all(100 <= n <= 400 and n in bach for n in first)
    with pytest.raises(ValueError, match="no training chorale"):
        draw_lengths(1, seed=0, min_frames=401, max_frames=402)


def test_the_committed_lengths_are_those_of_the_encoded_chorales(tiny_corpus, vocabulary):
    committed = json.loads(TRAIN_FRAMES_PATH.read_text())
    assert len(committed) == 316  # the training split
    # tiny_corpus: bwv66.6 (validation) and these four training chorales, in corpus order.
    encoded = sorted(vocabulary.decode(ids).count("|||") for ids in tiny_corpus)
    expected = [committed[c] for c in ("bwv1.6", "bwv10.7", "bwv101.7", "bwv102.7")]
    for frames in expected:
        encoded.remove(frames)  # ValueError if a committed length matches no encoded chorale
    assert len(encoded) == 1


def test_a_length_aware_model_starts_as_its_language_model(tiny_corpus, vocabulary):
    torch.manual_seed(0)
    model = ChoraleLSTM(ModelConfig(len(vocabulary), 8, 16, 2)).eval()
    grown = model.grow_condition(3).eval()
    assert evaluate(grown, tiny_corpus[:2], vocabulary)["loss_per_token"] == pytest.approx(
        evaluate(model, tiny_corpus[:2], vocabulary)["loss_per_token"], rel=1e-6
    )


def test_sampling_feeds_the_target_length_and_stays_seeded(vocabulary):
    torch.manual_seed(0)
    model = ChoraleLSTM(ModelConfig(len(vocabulary), 8, 16, 1, condition_dim=3)).eval()
    with torch.no_grad():  # make the condition matter a lot to this random model
        model.condition_weight[:] = 5 * torch.randn(64, 3)
    options = dict(temperature=1.0, seed=5, max_frames=20, min_frames=1)
    first = sample_tokens(model, vocabulary, 4, lengths=[10, 10, 10, 10], **options)
    assert first == sample_tokens(model, vocabulary, 4, lengths=[10, 10, 10, 10], **options)
    assert first != sample_tokens(model, vocabulary, 4, lengths=[300, 300, 300, 300], **options)
    with pytest.raises(ValueError, match="positive target lengths"):
        sample_tokens(model, vocabulary, 2, lengths=[10], **options)
