"""How a chorale's score spells its pitches, and which accidentals it shows (for notation.py).

Pitch spelling (deterministic, from the key signature alone, the same for every clip):

* a pitch of the key's scale is spelled as the signature says (in E flat major, MIDI 68 is A flat,
  never G sharp);
* the other five pitch classes are the chromatic notes of tonal harmony, counted from the
  signature's major tonic: raised 1st, 2nd, 4th and 5th degrees and the lowered 7th (in C major /
  A minor: C sharp, D sharp, F sharp, G sharp, B flat). These are the leading tones of the keys
  next door, so a minor key's raised 6th and 7th come out right: D minor (one flat) writes
  C sharp, not D flat. Where that rule would need a double sharp or flat (keys of six sharps or
  flats or more), the pitch is spelled as a natural, or failing that with one sharp (sharp keys
  and C) or flat (flat keys);
* accidentals as a printed score shows them: within a measure of one staff a note shows its
  accidental when its alteration differs from the one in force for that letter and octave (the
  key signature's, or the last accidental shown there in the measure); a natural is shown when
  it cancels either. A note tied over from before shows none, and sets nothing. There are no
  courtesy accidentals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the notation's written note; only its pitch and tie are read here
    from composer.render.notation import Piece

_STEPS = "CDEFGAB"
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARPS_ORDER = "FCGDAEB"  # the letters a signature of n sharps alters; flats: reversed
_ACCIDENTALS = {-1: "flat", 0: "natural", 1: "sharp"}
# Scale degrees (0 = tonic) raised, and the one lowered, for the five chromatic pitch classes.
_RAISED_DEGREES = (0, 1, 3, 4)
_LOWERED_DEGREE = 6

Spelling = tuple[str, int]  # letter and alteration (-1 flat, 0 natural, 1 sharp)


def key_alterations(key_signature: int) -> dict[str, int]:
    """Each letter's alteration under the signature: ``2 -> F and C sharp``."""
    altered = (
        _SHARPS_ORDER[:key_signature]
        if key_signature >= 0
        else _SHARPS_ORDER[::-1][:-key_signature]
    )
    sign = 1 if key_signature >= 0 else -1
    return {step: sign if step in altered else 0 for step in _STEPS}


def spelling_table(key_signature: int) -> tuple[Spelling, ...]:
    """Letter and alteration of each pitch class (index 0 = C) under the signature: the key's
    scale as the signature spells it, the chromatic degrees as the module doc says."""
    signature = key_alterations(key_signature)
    table: dict[int, Spelling] = {}
    for step in _STEPS:
        table[(_NATURAL[step] + signature[step]) % 12] = (step, signature[step])
    tonic = table[(7 * key_signature) % 12][0]  # the major key's tonic, by the circle of fifths
    scale = _STEPS[_STEPS.index(tonic) :] + _STEPS[: _STEPS.index(tonic)]
    chromatic = [(scale[d], signature[scale[d]] + 1) for d in _RAISED_DEGREES]
    chromatic.append((scale[_LOWERED_DEGREE], signature[scale[_LOWERED_DEGREE]] - 1))
    for step, alter in chromatic:
        pitch_class = (_NATURAL[step] + alter) % 12
        table[pitch_class] = (
            (step, alter) if abs(alter) <= 1 else _plain(pitch_class, key_signature)
        )
    return tuple(table[pc] for pc in range(12))


def _plain(pitch_class: int, key_signature: int) -> Spelling:
    """A natural where the pitch class has one, else one sharp (sharp keys, C) or flat."""
    if (natural := _letter(pitch_class)) is not None:
        return natural, 0
    if key_signature >= 0:
        return _letter((pitch_class - 1) % 12) or "", 1  # a black key: both neighbours are white
    return _letter((pitch_class + 1) % 12) or "", -1


def _letter(pitch_class: int) -> str | None:
    """The letter whose natural is ``pitch_class``; None for a black key."""
    return next((step for step, natural in _NATURAL.items() if natural == pitch_class), None)


def octave_of(midi: int, alter: int) -> int:
    """The written octave: B sharp 3 sounds as C4, C flat 4 as B3."""
    return (midi - alter) // 12 - 1


def accidentals(
    pieces: list[Piece], table: tuple[Spelling, ...], signature: dict[str, int]
) -> list[str | None]:
    """The accidental each piece of one measure of one staff shows, or None (module doc)."""
    in_force: dict[tuple[str, int], int] = {}
    shown: list[str | None] = []
    for piece in pieces:
        if piece.midi is None or piece.tie_stop:
            shown.append(None)
            continue
        step, alter = table[piece.midi % 12]
        place = (step, octave_of(piece.midi, alter))
        if in_force.get(place, signature[step]) == alter:
            shown.append(None)
            continue
        in_force[place] = alter
        shown.append(_ACCIDENTALS[alter])
    return shown
