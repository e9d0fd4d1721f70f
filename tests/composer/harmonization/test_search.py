"""composer.harmonization.search: fixed voices kept, only voice tokens chosen, the constraints,
beam >= greedy."""

from __future__ import annotations

import pytest
import torch

from composer.encoding import (
    BLANK,
    FERMATA,
    REST,
    SPECIAL_TOKENS,
    VOICE_RANGES,
    VOICES,
    is_voice_token,
    note_token,
    parse_note_token,
    split_frames,
    tokens_to_chorale,
)
from composer.harmonization.masks import mask_tokens
from composer.harmonization.search import _stepper, harmonize, stream_log_prob
from composer.voices import MASKS
from tests.composer.tiny import biased_model, blank_frames, random_model, short


@pytest.mark.parametrize("method", ["greedy", "beam"])
@pytest.mark.parametrize("mask", MASKS)
def test_fixed_tokens_frames_and_fermatas_never_change(
    chorales, vocabulary, tiny_model, mask, method
):
    tokens = short(chorales[0], 32)
    assert FERMATA in chorales[0]
    masked = mask_tokens(tokens, mask)
    result = harmonize(tiny_model, vocabulary, masked, method=method, beam_width=3)
    assert len(result.tokens) == len(masked)
    for given, filled in zip(masked, result.tokens, strict=True):
        if given == BLANK:
            assert is_voice_token(filled)
        else:
            assert filled == given
    tokens_to_chorale(result.tokens)  # decodes without repair
    # The reported figure is the model's log-probability of the whole stream.
    assert result.log_prob == pytest.approx(stream_log_prob(tiny_model, vocabulary, result.tokens))


def test_fermatas_of_a_whole_chorale_are_kept(chorales, vocabulary, tiny_model):
    masked = mask_tokens(chorales[1], "ATB")
    result = harmonize(tiny_model, vocabulary, masked, method="greedy")
    assert [f for f, _ in split_frames(result.tokens)] == [f for f, _ in split_frames(chorales[1])]


def test_beam_is_never_below_greedy(chorales, vocabulary, tiny_model):
    gains = []
    for tokens in chorales[:3]:
        for mask in ("S", "AT", "ATB"):
            masked = mask_tokens(short(tokens, 32), mask)
            greedy = harmonize(tiny_model, vocabulary, masked, method="greedy")
            beam = harmonize(tiny_model, vocabulary, masked, method="beam", beam_width=4)
            assert beam.log_prob >= greedy.log_prob
            gains.append(beam.log_prob - greedy.log_prob)
    assert max(gains) > 0  # the beam does find better streams, not only the greedy one


def test_special_tokens_are_never_chosen(chorales, vocabulary):
    # BachBot's bug: a special token's logit set to 0 still beats notes with negative logits.
    model = biased_model(vocabulary, list(SPECIAL_TOKENS))
    masked = mask_tokens(short(chorales[0]), "ATB")
    for constraints in (True, False):
        for method in ("greedy", "beam"):
            result = harmonize(model, vocabulary, masked, method, 3, constraints)
            chosen = [t for t, m in zip(result.tokens, masked, strict=True) if m == BLANK]
            assert all(is_voice_token(t) for t in chosen)


def test_the_stepper_computes_what_the_model_computes(vocabulary):
    model = random_model(vocabulary, layers=3)
    ids = torch.randint(0, len(vocabulary), (3, 9))
    expected, (h, c) = model(ids)
    step = _stepper(model)
    with torch.no_grad():
        _, hidden = step(ids[:, :5], None, 0)
        logits, (h2, c2) = step(ids[:, 5:], hidden, 5)
    assert torch.allclose(logits, expected[:, 5:], atol=1e-5)
    assert torch.allclose(h2, h, atol=1e-5) and torch.allclose(c2, c, atol=1e-5)


def _check_constraints(masked: list[str], filled: list[str]) -> None:
    previous: list[str] | None = None
    for (_, given), (_, chosen) in zip(blank_frames(masked), blank_frames(filled), strict=True):
        pitches = [parse_note_token(t) for t in chosen]
        for v, token in enumerate(given):
            if token != BLANK:
                continue
            if chosen[v] == REST:
                assert REST in given, "a filled voice rests only where a fixed voice rests"
                continue
            midi, tied = pitches[v]
            low, high = VOICE_RANGES[VOICES[v]]
            assert low <= midi <= high
            above = [p[0] for p in pitches[:v] if p]
            assert all(midi <= p for p in above)
            fixed_below = [parse_note_token(t) for t in given[v + 1 :] if t != BLANK]
            assert all(midi >= p[0] for p in fixed_below if p)
            if tied:
                assert previous is not None and parse_note_token(previous[v])[0] == midi
        previous = chosen


@pytest.mark.parametrize("mask", MASKS)
def test_constraints_hold_even_against_a_model_that_wants_otherwise(chorales, vocabulary, mask):
    # Far too high, tied out of nowhere, or silent: everything the rules forbid.
    wanted = [note_token(86, True), note_token(86, False), note_token(31, True), REST]
    model = biased_model(vocabulary, wanted, bias=8.0)
    masked = mask_tokens(short(chorales[2]), mask)
    for method in ("greedy", "beam"):
        _check_constraints(masked, harmonize(model, vocabulary, masked, method, 3).tokens)
    free = harmonize(model, vocabulary, masked, "greedy", constraints=False).tokens
    assert any(t in wanted for t, m in zip(free, masked, strict=True) if m == BLANK)


def test_a_voice_with_no_room_still_gets_a_note(vocabulary):
    # A soprano below the alto's whole range: the order rule is dropped, not the blank left.
    frame = [note_token(50, False), BLANK, BLANK, BLANK, "|||"]
    masked = ["START", *frame, *frame, "END"]
    result = harmonize(random_model(vocabulary), vocabulary, masked, "beam", 3)
    for _, voices in split_frames(result.tokens):
        assert all(parse_note_token(t) is not None for t in voices)
