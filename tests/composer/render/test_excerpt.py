"""composer.render.excerpt: clips cut in frames, after a fermata when one is near."""

from __future__ import annotations

import pytest

from composer.encoding import chorale_to_tokens
from composer.render import audio, excerpt
from tests.composer.render import stand_ins


def test_excerpt_ends_right_after_the_nearest_fermata(bach):
    cut, kept = excerpt.excerpt(excerpt.read_chorale(bach), 64)
    assert kept == 48
    assert cut.frames == 48
    tokens = chorale_to_tokens(cut)
    assert tokens[-7:] == ["(.)", *tokens[-6:-2], "|||", "END"]  # the last frame: under (.)


def test_excerpt_cuts_exactly_when_no_fermata_is_near(bach):
    chorale = excerpt.read_chorale(bach)
    cut, kept = excerpt.excerpt(chorale, 12)  # the first fermata ends at 16
    assert kept == 12 and cut.frames == 12
    cut, kept = excerpt.excerpt(chorale, 64, prefer_fermata=False)
    assert kept == 64 and cut.frames == 64
    whole, kept = excerpt.excerpt(chorale, 1000)
    assert kept == 144


def test_a_cut_truncates_straddling_notes(bach):
    cut = excerpt.cut_chorale(excerpt.read_chorale(bach), 10)
    assert cut.frames == 10
    midi = audio.score_to_midi(cut)
    assert max(n.end for i in midi.instruments for n in i.notes) == pytest.approx(10 * 0.125)


def test_excerpt_pair_gives_two_clips_the_same_frames(bach):
    generated = stand_ins.generated_stand_in(1, phrases=4)  # fermatas end at 32, 64 ...
    pair = excerpt.excerpt_pair(excerpt.read_chorale(bach), excerpt.read_chorale(generated), 64)
    a, b, kept = pair
    assert kept == 32  # the phrase end both share, not bach's own at 48
    assert a.frames == b.frames == 32
