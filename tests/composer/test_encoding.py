"""The token encoding: known values, the whole-corpus round trip, repair rules and errors."""

from __future__ import annotations

import random

import pytest

from composer.encoding import (
    Chorale,
    EncodingError,
    Note,
    chorale_to_score,
    chorale_to_tokens,
    score_to_chorale,
    score_to_tokens,
    tokens_to_chorale,
    tokens_to_score,
)
from composer.vocabulary import Vocabulary, load_vocabulary


def frame(*voices: str, fermata: bool = False) -> list[str]:
    return (["(.)"] if fermata else []) + list(voices) + ["|||"]


def test_it_encodes_the_first_frames_of_bwv66_6_as_written(bwv66_6):
    # BWV 66.6 is in F# minor and moves up a minor third to A minor. Its first beat is a pickup:
    # S C#5 B4 (eighths), A E4 (quarter), T A3 B3 (eighths), B A3 G#3 (eighths); then
    # S A4, A F#4, T C#4, B F#3 (quarters); the soprano's C#5 on beat 4 carries a fermata.
    tokens = score_to_tokens(bwv66_6.score)
    assert bwv66_6.original_key == "f# minor" and bwv66_6.semitones == 3
    expected = ["START"]
    expected += frame("(76, False)", "(67, False)", "(60, False)", "(60, False)")
    expected += frame("(76, True)", "(67, True)", "(60, True)", "(60, True)")
    expected += frame("(74, False)", "(67, True)", "(62, False)", "(59, False)")
    expected += frame("(74, True)", "(67, True)", "(62, True)", "(59, True)")
    expected += frame("(72, False)", "(69, False)", "(64, False)", "(57, False)")
    assert tokens[: len(expected)] == expected
    # Frames 12-15 (beat 4 of the first full bar): under the fermata, E5 over G4 C4 C4.
    frames = " ".join(tokens[1:]).split(" ||| ")
    assert frames[12] == "(.) (76, False) (67, False) (60, False) (60, False)"
    assert frames[13] == "(.) (76, True) (67, True) (60, True) (60, True)"
    assert not frames[16].startswith("(.)")
    assert tokens[-2:] == ["|||", "END"]


@pytest.mark.slow
def test_it_round_trips_every_corpus_chorale_exactly(kept):
    assert len(kept) > 310
    for prepared in kept:
        tokens = score_to_tokens(prepared.score)
        decoded = tokens_to_score(tokens)
        assert score_to_tokens(decoded) == tokens, prepared.chorale_id
        # Per voice: the same pitches, onsets, durations, ties and fermatas as the corpus score.
        for original, back in zip(prepared.score.parts, decoded.parts, strict=True):
            assert _notes(original) == _notes(back), prepared.chorale_id
        assert score_to_chorale(decoded) == prepared.chorale, prepared.chorale_id


def _notes(part) -> list[tuple]:
    return [
        (
            float(n.offset),
            float(n.quarterLength),
            n.pitch.midi,
            n.tie.type if n.tie else None,
            bool(n.expressions),
        )
        for n in part.flatten().notes
    ]


def test_it_keeps_unisons_and_rests_per_voice():
    # Tenor and bass in unison; the alto rests for a beat in the middle.
    chorale = Chorale(
        voices=(
            (Note(0, 8, 72),),
            (Note(0, 2, 64), Note(6, 8, 65)),
            (Note(0, 8, 55, fermata=False),),
            (Note(0, 4, 55), Note(4, 8, 48)),
        ),
        frames=8,
    )
    tokens = chorale_to_tokens(chorale)
    assert tokens[1:6] == ["(72, False)", "(64, False)", "(55, False)", "(55, False)", "|||"]
    assert tokens[11:16] == ["(72, True)", "REST", "(55, True)", "(55, True)", "|||"]
    assert tokens_to_chorale(tokens) == chorale
    assert score_to_chorale(chorale_to_score(chorale)) == chorale


def test_fermata_marks_notes_wholly_under_it():
    chorale = Chorale(
        voices=(
            (Note(0, 4, 72, fermata=True),),
            (Note(0, 4, 64),),
            (Note(0, 4, 55),),
            (Note(0, 4, 48),),
        ),
        frames=4,
    )
    decoded = tokens_to_chorale(chorale_to_tokens(chorale))
    assert all(voice[0].fermata for voice in decoded.voices)
    assert tokens_to_chorale(chorale_to_tokens(decoded)) == decoded


SIMPLE = (
    ["START"]
    + frame("(72, False)", "(67, False)", "(64, False)", "(48, False)")
    + frame("(72, True)", "(67, True)", "(64, True)", "(48, True)")
)


def test_missing_end_is_repaired_and_an_unfinished_frame_dropped():
    chorale = tokens_to_chorale(SIMPLE + ["(71, False)", "(67, True)"])
    assert chorale.frames == 2
    assert chorale.voices[0] == (Note(0, 2, 72),)


def test_a_tie_with_no_predecessor_starts_a_new_note():
    tokens = ["START"] + frame("(72, True)", "REST", "(64, False)", "(48, False)")
    tokens += frame("(74, True)", "(67, True)", "(64, True)", "(48, True)") + ["END"]
    chorale = tokens_to_chorale(tokens)
    assert chorale.voices[0] == (Note(0, 1, 72), Note(1, 2, 74))
    assert chorale.voices[1] == (Note(1, 2, 67),)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (SIMPLE + ["(60, False)", "|||", "END"], "frame 2 has 1 voice tokens"),
        (
            ["START"]
            + frame("(72, False)", "(67, False)", "(64, False)", "(48, False)", "(40, False)"),
            "frame 0 has more than four",
        ),
        (SIMPLE + ["(72, True)", "(.)"], "frame 2: '(.)' must open the frame"),
        (SIMPLE + ["C#4"], "frame 2: unknown token 'C#4'"),
        (SIMPLE + ["BLANK"], "frame 2: token 'BLANK'"),
        (["START", "END"], "no complete frame"),
        (["START", "(72, False)"], "no complete frame"),
    ],
)
def test_malformed_streams_raise_encoding_error_naming_the_frame(tokens, message):
    with pytest.raises(EncodingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tokens_to_score(tokens)


def test_a_score_without_four_parts_is_refused(bwv66_6):
    score = bwv66_6.score
    three = type(score)()
    for part in list(score.parts)[:3]:
        three.insert(0, part)
    with pytest.raises(EncodingError, match="exactly four parts"):
        score_to_tokens(three)


def test_the_committed_vocabulary_is_frozen_and_complete(kept):
    vocabulary = load_vocabulary()
    assert vocabulary.tokens[:7] == ["PAD", "START", "END", "|||", "(.)", "BLANK", "REST"]
    observed = {t for p in kept for t in score_to_tokens(p.score)}
    assert observed <= set(vocabulary.tokens)
    # Ids do not depend on the order tokens are seen in.
    shuffled = sorted(observed)
    random.Random(1).shuffle(shuffled)
    assert Vocabulary.build(shuffled) == Vocabulary.build(sorted(observed))
    assert Vocabulary.build(observed) == vocabulary


def test_vocabulary_encodes_decodes_and_serialises():
    vocabulary = load_vocabulary()
    ids = vocabulary.encode(SIMPLE)
    assert vocabulary.decode(ids) == SIMPLE
    assert Vocabulary.from_json(vocabulary.to_json()) == vocabulary
    assert len(vocabulary) == len(vocabulary.tokens)
    with pytest.raises(EncodingError, match="token 1 .*not in the vocabulary"):
        vocabulary.encode(["START", "(200, False)"])
    with pytest.raises(EncodingError, match="outside the vocabulary"):
        vocabulary.decode([len(vocabulary)])
