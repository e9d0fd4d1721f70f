"""Metre (issue 18, item 3): each chorale's bar phase, the metre features, the metre-aware
composer grown from a language model, its seeded sampling, and the counts of benchmarks/metre.py.
"""

from __future__ import annotations

import math

import pytest
import torch
from music21 import meter, note, stream

from composer import checkpoint, corpus, metre, paths
from composer.conditioning import (
    BAR_FRAMES,
    LENGTH_FEATURES,
    METRE_CONDITION,
    length_features,
    metre_features,
    step_condition,
    stream_condition,
    stream_length_features,
)
from composer.encoding import FRAME_END, PAD, Chorale, Note
from composer.sample import draw_lengths, is_length_aware, is_metre_aware, sample_tokens
from tests.composer.tiny import random_model


def test_known_chorales_have_their_bar_phase(bwv66_6):
    # bwv66.6 opens with a quarter-note pickup (its first note is on beat 4); bwv10.7 on beat 1.
    assert bwv66_6.bar_phase == 12
    (bwv10_7,) = corpus.scan_corpus({"bwv10.7"})
    assert bwv10_7.bar_phase == 0
    assert metre.bar_phases()["bwv66.6"] == 12 and metre.bar_phases()["bwv10.7"] == 0
    assert set(metre.bar_phases().values()) <= {0, 4, 8, 12}


def _part(first_measure_quarters: list[float]) -> stream.Part:
    part = stream.Part()
    for number, quarters in enumerate([first_measure_quarters, [4.0]]):
        measure = stream.Measure(number=number)
        if number == 0:
            measure.insert(0, meter.TimeSignature("4/4"))
        for q in quarters:
            measure.append(note.Note("C4", quarterLength=q))
        part.append(measure)
    return part


def test_a_short_first_measure_is_a_pickup_even_without_padding():
    assert corpus.bar_phase(_part([1.0])) == 12  # a quarter before the first bar line
    assert corpus.bar_phase(_part([0.5, 1.0])) == 10
    assert corpus.bar_phase(_part([4.0])) == 0


def test_metre_features_repeat_every_bar_and_follow_the_phase():
    frames = torch.arange(48)
    at_12 = metre_features(frames, torch.tensor(12))  # [48, 6]
    assert at_12.shape == (48, 6)
    assert torch.allclose(at_12[:32], at_12[16:], atol=1e-5)  # a bar later: the same place
    downbeat = torch.tensor([0.0, 1.0] * 3)  # sin 0, cos 1 for every period
    assert torch.allclose(at_12[4], downbeat, atol=1e-5)  # 12 + 4 = a bar line
    assert torch.allclose(metre_features(frames, torch.tensor(0))[0], downbeat, atol=1e-5)
    assert torch.allclose(metre_features(frames, torch.tensor(0))[:44], at_12[4:], atol=1e-5)
    beat_period = at_12[:, 0:2]  # period 4: every beat looks the same
    assert torch.allclose(beat_period[:-4], beat_period[4:], atol=1e-5)
    assert not torch.allclose(at_12[:-8], at_12[8:], atol=1e-3)  # the bar's halves differ
    quarter = 2 * math.pi * 12 / BAR_FRAMES  # frame 0 with phase 12, period 16
    assert math.isclose(at_12[0, 4].item(), math.sin(quarter), abs_tol=1e-5)


def test_the_metre_condition_is_the_length_features_then_the_metre_of_each_stream(vocabulary):
    bar = vocabulary.encode(["(60, False)"] * 4 + [FRAME_END])
    ids = torch.tensor([vocabulary.encode(["START"]) + bar * 3 + vocabulary.encode(["END"])] * 2)
    pad, frame_end = vocabulary.id(PAD), vocabulary.id(FRAME_END)
    condition = stream_condition(ids, frame_end, pad, METRE_CONDITION, torch.tensor([0, 12]))
    assert condition.shape == (2, ids.shape[1], METRE_CONDITION)
    assert torch.equal(
        condition[..., :LENGTH_FEATURES], stream_length_features(ids, frame_end, pad)
    )
    assert not torch.allclose(condition[0, :, LENGTH_FEATURES:], condition[1, :, LENGTH_FEATURES:])
    frames, targets = torch.tensor([[3], [5]]), torch.tensor([100, 200])
    # Without phases a sampling step gets exactly the length features it always got.
    assert torch.equal(step_condition(frames, targets, None), length_features(frames, targets))


def test_a_grown_metre_model_computes_what_its_base_does_until_trained(vocabulary):
    base = random_model(vocabulary)
    grown = base.grow_condition(METRE_CONDITION).eval()
    assert is_metre_aware(grown) and not is_length_aware(grown)
    ids = torch.randint(0, len(vocabulary), (2, 40))
    condition = stream_condition(
        ids, vocabulary.id(FRAME_END), vocabulary.id(PAD), METRE_CONDITION, torch.tensor([12, 0])
    )
    with torch.no_grad():
        assert torch.equal(base(ids)[0], grown(ids, None, condition)[0])


def test_phases_are_drawn_with_the_lengths_from_the_same_bach_chorales():
    lengths = draw_lengths(40, seed=7)
    phases = metre.draw_phases(40, 7, 100, 400)
    pieces = set(metre._training_pieces())
    assert all(pair in pieces for pair in zip(lengths, phases, strict=True))
    assert phases == metre.draw_phases(40, 7, 100, 400)


def test_a_metre_model_samples_the_same_pieces_for_the_same_seed(vocabulary, one_thread):
    model = random_model(vocabulary, layers=1).grow_condition(METRE_CONDITION).eval()
    with torch.no_grad():  # make the metre matter, so other phases give other pieces
        model.condition_weight.normal_(0, 3.0)
    # The raw model (no grammar) draws END early: short pieces, a quick test.
    options = dict(seed=5, min_frames=100, max_frames=130, grammar=False)
    first = sample_tokens(model, vocabulary, 3, **options)
    assert first == sample_tokens(model, vocabulary, 3, **options)
    given = metre.draw_phases(3, 5, 100, 130)
    assert first == sample_tokens(model, vocabulary, 3, phases=given, **options)
    other = [(p + 4) % BAR_FRAMES for p in given]
    assert first != sample_tokens(model, vocabulary, 3, phases=other, **options)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _hand_made() -> Chorale:
    """Two bars and a beat: the soprano holds frames 4-19 and has a fermata on frames 24-27."""
    soprano = (Note(0, 4, 72), Note(4, 20, 74), Note(20, 24, 76), Note(24, 28, 72, fermata=True))
    lower = tuple((Note(0, 24, midi), Note(24, 28, midi, fermata=True)) for midi in (67, 60, 48))
    return Chorale((soprano, *lower), 36)


def test_the_benchmark_counts_ties_over_bar_lines_fermatas_and_phrases():
    chorale = _hand_made()
    # Phase 0: bar lines at frames 16 and 32; the soprano's 4-19 and the lower 0-23 cross 16.
    assert metre.ties_over_bar_lines(chorale, 0) == (4, 10)
    # Phase 12: bar lines at 4, 20: only the lower voices' 0-23 cross one (at 4 and at 20).
    assert metre.ties_over_bar_lines(chorale, 12) == (3, 10)
    assert metre.fermata_starts(chorale) == [24] and metre.fermata_ends(chorale) == [28]
    assert metre.fermata_grid(chorale, 0) == (1, 1, 1)  # starts on beat 3
    assert metre.fermata_grid(chorale, 12) == (1, 0, 1)  # starts on beat 2
    assert metre.phrase_lengths(chorale) == [28, 8]  # the 8-frame tail is a phrase of its own
    assert metre.inferred_phase(chorale) == 0  # the long notes start at frame 0


def test_the_shipped_metre_composer_reads_length_and_metre():
    model, _, meta = checkpoint.load(paths.CHECKPOINTS_DIR / "bachbot_metre.pt")
    assert is_metre_aware(model) and meta["training"]["kind"] == "metre"
    assert meta["validation_loss"] < 0.392  # bachbot_length.pt's, told the length alone
