"""Render the practice pair and the sound check into static/ (bachsurvey.quiz.practice).

Made once with the shipped harmonizer and committed, like the demo: the pair is Bach's opening
phrase of PRACTICE_CHORALE against the network's alto, tenor and bass under his soprano, both
moved to one key and rendered by the quiz's one render path; the sound check is a two-second
C major chord on the same organ.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from bachsurvey.generation import music
from bachsurvey.quiz import practice

FRAMES = 64  # the longest clip, as the demo's
SEED = 253


def sound_check_tokens() -> list[str]:
    """C major, close position (C5 G4 E4 C3), held for a bar of sixteenths (two seconds)."""
    chord = [72, 67, 64, 48]
    frames = [
        [f"({pitch}, {'True' if frame else 'False'})" for pitch in chord] for frame in range(16)
    ]
    return ["START", *(t for frame in frames for t in (*frame, "|||")), "END"]


def build(static_dir: Path, checkpoint: str | None = None) -> dict[str, str]:
    """Write the practice pair (a.mp3, b.mp3, a.svg, b.svg) and the sound check; returns their
    paths and the generated piece's provenance."""
    tokens, _ = music.corpus()
    source = practice.PRACTICE_CHORALE
    window = music.harmonization_windows(tokens, [source], FRAMES, SEED)[0]
    real = music.window_tokens(tokens[source], window.start, window.end)
    loaded = music.load_model(checkpoint or settings.HARMONIZATION_CHECKPOINT, device="cpu")
    generated, note = music.harmonize_tokens(loaded, real, practice.PRACTICE_CATEGORY, "beam")
    shift = music.draw_shift([real, generated], SEED)
    out = static_dir / practice.PRACTICE_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = {"provenance": f"{loaded.label}, {note}, frames {window.start}-{window.end}"}
    bach = practice.PRACTICE_BACH_SIDE
    for side, piece in (
        ("A", generated if bach == "B" else real),
        ("B", real if bach == "B" else generated),
    ):
        clip = music.render_clip(piece, shift, out, out)
        for made, suffix in ((clip.audio, ".mp3"), (clip.score, ".svg")):
            target = out / f"{side.lower()}{suffix}"
            shutil.move(made, target)
            written[f"{side}{suffix}"] = str(target)
    chord = music.render_clip(sound_check_tokens(), 0, out, out)
    target = static_dir / practice.SOUND_CHECK
    shutil.move(chord.audio, target)
    Path(chord.score).unlink()
    written["sound_check"] = str(target)
    return written
