"""music21's Bach chorales -> four-voice scores in C major / A minor, quantised to sixteenths.

The recipe (SPEC §1): find every distinct chorale music21 ships (its BWV-numbered iterator, plus
the Bach chorale files outside it, one per BWV number); keep those in 4/4 whose four vocal parts
can be told apart; read S, A, T, B *before* key analysis (instrument parts would skew it);
quantise to sixteenth-note frames (grace notes dropped); analyse the key and transpose by the
interval that takes its tonic to C (major) or A (minor), moving at most a tritone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

from music21 import corpus, meter, stream

from composer.encoding import (
    FRAMES_PER_QUARTER,
    Chorale,
    EncodingError,
    chorale_to_score,
    normalise_fermatas,
    part_to_notes,
    transpose_chorale,
)
from composer.keys import key_of

# Files by Bach that are not chorales at all.
NOT_CHORALES = {"bwv846": "a keyboard prelude (Well-Tempered Clavier), not a chorale"}

ROLES = ("S", "A", "T", "B")
_ROLE_WORDS = {
    "S": ("soprano", "sopran", "s", "canto", "cantus", "discantus"),
    "A": ("alto", "alt", "a", "altus"),
    "T": ("tenor", "t", "tenore"),
    "B": ("bass", "basso", "b", "bassus"),
}
_TONIC = {"major": 0, "minor": 9}  # pitch class of C and of A


@dataclass
class PreparedChorale:
    """A kept chorale: its score and what ``prepare`` reports about it."""

    chorale_id: str
    score: stream.Score
    chorale: Chorale
    original_key: str
    semitones: int
    original_pitches: list[int] = field(repr=False)
    bar_phase: int = 0  # frame 0's place in its bar, in sixteenths (0: a downbeat)


@dataclass
class Exclusion:
    chorale_id: str
    reason: str


def bwv_number(chorale_id: str) -> str:
    """``bwv248.23-s`` -> ``bwv248.23``: variants of one chorale share the part before ``-``."""
    return chorale_id.split("-")[0]


def _humdrum_last(path: str | Path) -> tuple[bool, str]:
    return str(path).endswith(".krn"), str(path)


@cache
def chorale_sources() -> tuple[tuple[str, Path], ...]:
    """Every candidate chorale file as ``(chorale_id, path)``: the iterator's first, then the rest.

    MusicXML is preferred to Humdrum where both exist (its part names are reliable).
    """
    by_stem: dict[str, Path] = {}
    for path in sorted(corpus.getComposer("bach"), key=_humdrum_last):
        by_stem.setdefault(Path(path).name.rsplit(".", 1)[0], Path(path))
    ordered: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for name in corpus.chorales.Iterator(returnType="filename"):
        work = corpus.getWork(name)
        candidates = sorted(work if isinstance(work, list) else [work], key=_humdrum_last)
        path = Path(candidates[0])
        stem = path.name.rsplit(".", 1)[0]
        if stem not in seen:
            seen.add(stem)
            ordered.append((stem, path))
    for stem in sorted(by_stem):
        if stem not in seen and stem.startswith("bwv"):
            seen.add(stem)
            ordered.append((stem, by_stem[stem]))
    return tuple(ordered)


def _role_of(part: stream.Part) -> str | None:
    """S/A/T/B from a part's name, however it is spelt; None for instruments and unknown names."""
    name = (part.partName or part.id or "").__str__()
    words = re.split(r"[\s\r\n.,_\-]+", name.lower().strip())
    words = [w for w in words if w]
    if not words:
        return None
    if (
        words[0] in ("basso", "bass")
        and len(words) > 1
        and words[1] == "continuo"
        and len(words) == 2
    ):
        # "Bass Continuo" (one staff for the sung bass and its doubling) is the bass voice;
        # "Basso continuo" alone is the instrument.
        return "B" if words[0] == "bass" else None
    for role, role_words in _ROLE_WORDS.items():
        if words[0] in role_words:
            return role
    return None


def _mean_pitch(part: stream.Part) -> float:
    midis = [p.midi for n in part.flatten().notes for p in n.pitches]
    return sum(midis) / len(midis) if midis else 0.0


def identify_voices(score: stream.Score) -> list[stream.Part] | str:
    """The parts S, A, T, B in that order, or the reason they cannot be identified."""
    parts = list(score.parts)
    roles = [_role_of(p) for p in parts]
    named = [(r, p) for r, p in zip(roles, parts, strict=True) if r is not None]
    if not named and len(parts) == 4:
        # Unnamed parts (e.g. Humdrum spine_N): four parts are the four voices, highest first.
        return sorted(parts, key=_mean_pitch, reverse=True)
    found = {r: [p for rr, p in named if rr == r] for r in ROLES}
    missing = [r for r in ROLES if not found[r]]
    doubled = [r for r in ROLES if len(found[r]) > 1]
    if missing:
        return f"no {'/'.join(missing)} voice among parts {[p.partName for p in parts]}"
    if doubled:
        return f"{len(named)} vocal parts ({'/'.join(doubled)} divided): not four voices"
    return [found[r][0] for r in ROLES]


def _time_signatures(parts: list[stream.Part]) -> set[str]:
    return {
        ts.ratioString for p in parts for ts in p.recurse().getElementsByClass(meter.TimeSignature)
    }


def bar_phase(part: stream.Part) -> int:
    """Where frame 0 (the part's offset 0) lies in its bar, in sixteenths: 0 on a downbeat, 12
    after a quarter-note pickup in 4/4.

    A pickup is a first measure shorter than its bar: music21 records the missing beats as its
    ``paddingLeft`` (MusicXML) or leaves only the short duration to tell (read both).
    """
    measures = list(part.getElementsByClass(stream.Measure))
    if not measures:
        return 0
    first = measures[0]
    signature = (
        first.timeSignature or part.recurse().getElementsByClass(meter.TimeSignature).first()
    )
    bar = Fraction(signature.barDuration.quarterLength) if signature else Fraction(4)
    missing = Fraction(first.paddingLeft) or max(Fraction(0), bar - Fraction(first.highestTime))
    if len(measures) == 1 or missing >= bar:
        return 0
    phase = missing * FRAMES_PER_QUARTER
    if phase.denominator != 1:
        raise EncodingError(f"a pickup of {bar - missing} quarters is not on the sixteenth grid")
    return int(phase) % int(bar * FRAMES_PER_QUARTER)


def transposition_to_c_or_a(tonic_pitch_class: int, mode: str) -> int:
    """Semitones (-5..+6) that move the tonic to C (major) or A (minor)."""
    shift = (_TONIC[mode] - tonic_pitch_class) % 12
    return shift - 12 if shift > 6 else shift


def prepare_score(chorale_id: str, score: stream.Score) -> PreparedChorale | Exclusion:
    """Apply the whole recipe to one parsed score."""
    if chorale_id in NOT_CHORALES:
        return Exclusion(chorale_id, NOT_CHORALES[chorale_id])
    parts = identify_voices(score)
    if isinstance(parts, str):
        return Exclusion(chorale_id, parts)
    signatures = _time_signatures(parts) or {"4/4"}
    if signatures != {"4/4"}:
        return Exclusion(
            chorale_id, f"not in 4/4 throughout (time signatures {sorted(signatures)})"
        )
    voices = tuple(tuple(part_to_notes(p, i)) for i, p in enumerate(parts))
    if any(not v for v in voices):
        return Exclusion(chorale_id, "a voice has no notes")
    original_pitches = [
        n.pitches[0].midi for p in parts for n in p.flatten().notes if not n.duration.isGrace
    ]
    quantised = normalise_fermatas(Chorale(voices, max(n.end for v in voices for n in v)))
    found_key = key_of(quantised)
    semitones = transposition_to_c_or_a(found_key.tonic, found_key.mode)
    transposed = transpose_chorale(quantised, semitones)
    try:
        prepared_score = chorale_to_score(transposed)
    except EncodingError as error:
        return Exclusion(chorale_id, str(error))
    return PreparedChorale(
        chorale_id,
        prepared_score,
        transposed,
        found_key.name,
        semitones,
        original_pitches,
        bar_phase(parts[0]),
    )


def scan_corpus(ids: set[str] | None = None) -> Iterator[PreparedChorale | Exclusion]:
    """Every candidate, kept or excluded (with its reason), one per BWV number.

    ``ids`` restricts the scan to those chorale ids (tests use a few chorales).
    """
    kept_bwv: dict[str, str] = {}
    for chorale_id, path in chorale_sources():
        if ids is not None and chorale_id not in ids:
            continue
        number = bwv_number(chorale_id)
        if number in kept_bwv:
            yield Exclusion(
                chorale_id, f"another version of {number}, already kept as {kept_bwv[number]}"
            )
            continue
        result = prepare_score(chorale_id, corpus.parse(str(path)))
        if isinstance(result, PreparedChorale):
            kept_bwv[number] = chorale_id
        yield result


def iter_chorales(ids: set[str] | None = None) -> Iterator[tuple[str, stream.Score]]:
    """``(chorale_id, score)`` for every kept chorale: four parts S, A, T, B, C major / A minor."""
    for result in scan_corpus(ids):
        if isinstance(result, PreparedChorale):
            yield result.chorale_id, result.score
