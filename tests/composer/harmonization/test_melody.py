"""A user's melody harmonized: an upbeat keeps its bar lines, any set of voices can be filled
under a melody in any voice, and the network's voices can be marked in the drawn score."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch
from music21 import converter, stream

from composer.encoding import BAR_FRAMES, FRAMES_PER_QUARTER
from composer.harmonization.melody import FILLED_COLOUR, harmonize_melody, marked, write_score
from composer.melody import MelodyError, parse_text_melody
from composer.model import ChoraleLSTM, ModelConfig
from composer.render.svg import score_to_musicxml

UPBEAT = "G4 | C5 C5 D5 E5 | D5:2 B4:0.5 C5:0.5 D5 | C5:3^"  # a quarter-note pickup


@pytest.fixture(scope="module")
def model(vocabulary) -> ChoraleLSTM:
    """Random weights: bar lines and voices do not depend on how good the harmony is."""
    torch.manual_seed(0)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=1)
    return ChoraleLSTM(config).eval()


def bar_places(part: stream.Part) -> list[tuple[int, Fraction]]:
    """(bar number, quarter notes into the bar) of each note that starts in ``part``."""
    places = []
    for measure in part.getElementsByClass(stream.Measure):
        for n in measure.notes:
            if n.tie is None or n.tie.type == "start":
                into = Fraction(measure.paddingLeft) + Fraction(n.offset)
                places.append((measure.number, into))
    return places


def test_an_upbeat_melody_keeps_its_bar_lines(model, vocabulary, tmp_path: Path) -> None:
    melody = parse_text_melody(UPBEAT)
    assert melody.phase == 12
    result = harmonize_melody(model, vocabulary, melody, method="greedy")
    expected = [
        ((12 + n.start) // BAR_FRAMES, Fraction((12 + n.start) % BAR_FRAMES, FRAMES_PER_QUARTER))
        for n in melody.notes
    ]
    assert expected[:2] == [(0, 3), (1, 0)]  # G4 on beat 4 of the pickup, C5 on the downbeat
    score = converter.parse(str(write_score(result.score, tmp_path / "upbeat.musicxml")))
    assert bar_places(score.parts[0]) == expected
    for part in score.parts:  # every voice has the pickup measure, a quarter note long
        first = part.getElementsByClass(stream.Measure).first()
        assert (first.number, first.paddingLeft, first.duration.quarterLength) == (0, 3.0, 1.0)


def test_a_melody_on_the_downbeat_starts_at_bar_one(model, vocabulary) -> None:
    melody = parse_text_melody("C5 C5 D5 E5 | D5:2 C5:2^")
    assert melody.phase == 0
    result = harmonize_melody(model, vocabulary, melody, method="greedy")
    assert bar_places(result.score.parts[0])[:2] == [(1, 0), (1, 1)]


def test_any_voices_can_be_filled_under_a_melody_in_any_voice(model, vocabulary) -> None:
    melody = parse_text_melody("C4 D4 E4 F4 | G4:2 C4:2^")
    result = harmonize_melody(model, vocabulary, melody, "SB", method="greedy", voice="T")
    soprano, alto, tenor, bass = result.chorale.voices
    assert tenor == melody.notes and soprano and bass
    assert alto == ()  # neither given nor filled: it rests
    assert (result.voices, result.melody_voice) == ("SB", "T")
    duet = harmonize_melody(model, vocabulary, parse_text_melody("C5 D5 E5 C5"), "B", "greedy")
    assert duet.melody_voice == "S" and duet.chorale.voices[1:3] == ((), ())


@pytest.mark.parametrize(
    "voices, voice, message",
    [
        ("ATB", "A", "would fill the melody's own voice A"),
        ("SA", None, "name the voice that carries the melody"),
        ("", None, "name the voice that carries the melody"),
        ("AT", "X", "one of S, A, T, B"),
    ],
)
def test_a_bad_choice_of_voices_is_named(model, vocabulary, voices, voice, message) -> None:
    with pytest.raises(MelodyError, match=message):
        harmonize_melody(model, vocabulary, parse_text_melody("C5 D5"), voices, voice=voice)


def test_the_networks_voices_are_marked_and_the_melody_is_not(model, vocabulary) -> None:
    result = harmonize_melody(model, vocabulary, parse_text_melody("C5 D5 E5 C5"), "AT", "greedy")
    xml = score_to_musicxml(result.score)
    drawn = converter.parseData(marked(xml, result.voices), format="musicxml")
    colours = [{n.style.color for n in part.recurse().notes} for part in drawn.parts]
    assert colours[1] == colours[2] == {FILLED_COLOUR}
    assert FILLED_COLOUR not in colours[0] and colours[3] == set()  # the bass rests
    assert FILLED_COLOUR not in xml  # the text given is left as it was
