"""composer.harmonization.masks: blanking voices, and the inputs a harmonization refuses."""

from __future__ import annotations

import pytest

from composer.encoding import (
    BLANK,
    FERMATA,
    REST,
    is_voice_token,
    split_frames,
)
from composer.harmonization.masks import HarmonizationError, mask_tokens
from composer.harmonization.search import harmonize
from tests.composer.tiny import blank_frames, random_model, short


def test_mask_tokens_blanks_exactly_the_named_voices(chorales):
    tokens = chorales[0]
    masked = mask_tokens(tokens, "AT")
    for (fermata, bach), (kept_fermata, slots) in zip(
        split_frames(tokens), blank_frames(masked), strict=True
    ):
        assert kept_fermata == fermata
        assert slots == [bach[0], BLANK, BLANK, bach[3]]


@pytest.mark.parametrize("voices", ["", "SATB", "BTAS", "X", "SS"])
def test_a_mask_of_every_voice_none_or_an_unknown_one_is_refused(chorales, voices):
    with pytest.raises(ValueError):
        mask_tokens(chorales[0], voices)


def test_harmonize_refuses_a_stream_with_no_blank_or_all_blank(chorales, vocabulary):
    model = random_model(vocabulary)
    tokens = short(chorales[0])
    with pytest.raises(HarmonizationError, match="no voice is blank"):
        harmonize(model, vocabulary, tokens)
    everything = [BLANK if is_voice_token(t) else t for t in tokens]
    with pytest.raises(HarmonizationError, match="every voice is blank"):
        harmonize(model, vocabulary, everything)
    with pytest.raises(HarmonizationError, match="unknown method"):
        harmonize(model, vocabulary, mask_tokens(tokens, "A"), method="sample")


@pytest.mark.parametrize(
    "tokens",
    [
        [BLANK, REST, REST, REST, "|||", "END"],  # no START
        ["START", BLANK, REST, REST, REST, "|||"],  # no END
        ["START", BLANK, REST, REST, "|||", "END"],  # three voices
        ["START", FERMATA, FERMATA, BLANK, REST, REST, REST, "|||", "END"],
        ["START", BLANK, REST, FERMATA, REST, REST, "|||", "END"],
        ["START", BLANK, REST, REST, REST, "END"],  # unfinished frame
    ],
)
def test_a_malformed_stream_is_refused(vocabulary, tokens):
    with pytest.raises(HarmonizationError):
        harmonize(random_model(vocabulary), vocabulary, tokens)
