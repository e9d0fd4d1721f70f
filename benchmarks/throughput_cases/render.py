"""Rendering one clip: the project's path against FluidSynth plus the encoder called directly.

The tools alone are what the audio cannot cost less than when they are run as programs: the
``fluidsynth`` program rendering the clip's MIDI file to raw float samples, then ``ffmpeg`` encoding
those samples with libmp3lame at the project's settings (composer.render.programs). No length,
fade or loudness, no checking decode, no score. The project is, on the same excerpt:

* ``clip``: ``bachsurvey.generation.music.render_clip``, what a batch does per clip: tokens ->
  Chorale -> MIDI -> audio -> MP3 on target loudness, and the one-page SVG of the score;
* ``mp3``: ``composer.render.audio.render_mp3`` alone, from the Chorale.

The three run back to back on a real excerpt and a stand-in one (64 frames, moved by two
semitones), the order rotating between repetitions; figures are medians in seconds, and the
ratios (``render_vs_tools``: the whole clip; ``mp3_vs_tools``: its MP3) are medians of the ratios
within each repetition, so a busy moment of the machine weighs on both sides.

    .venv/bin/python benchmarks/throughput_cases/render.py [--repetitions 7]

prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bachsurvey.generation import music  # noqa: E402
from composer.encoding import (  # noqa: E402
    chorale_to_tokens,
    score_to_tokens,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.pairing import window_chorale  # noqa: E402
from composer.render import audio, programs  # noqa: E402
from tests.composer.render import stand_ins  # noqa: E402

FRAMES = 64  # a batch's longest clip (generate_batch --frames)
SHIFT = 2


def excerpts() -> list[list[str]]:
    """Token streams of a real and a stand-in excerpt, as a batch hands them to render_clip."""
    real = score_to_tokens(stand_ins.real_chorales(1)[0])
    fake = score_to_tokens(stand_ins.generated_stand_in(3))
    windows = (window_chorale(tokens_to_chorale(t), 0, FRAMES) for t in (real, fake))
    return [chorale_to_tokens(window) for window in windows]


def tools(midi: Path, folder: Path) -> None:
    """The fluidsynth program to raw samples, then ffmpeg's libmp3lame to MP3."""
    raw, out = folder / "tools.raw", folder / "tools.mp3"
    programs.run(programs.fluidsynth_command(midi, raw), "FluidSynth")
    command = programs.mp3_command(raw, out)
    at = command.index("-i")
    raw_input = ["-f", "f32le", "-ar", str(audio.SAMPLE_RATE), "-ac", str(audio.CHANNELS)]
    programs.run([*command[:at], *raw_input, *command[at:]], "ffmpeg")


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(repetitions: int = 7) -> dict:
    """Medians (s) of one clip by the project and by the tools, and the ratios."""
    clips = excerpts()
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        folder = Path(tmp)
        chorales = [transpose_chorale(tokens_to_chorale(t), SHIFT) for t in clips]
        midis = [audio.write_midi(c, folder / f"clip{i}.mid") for i, c in enumerate(chorales)]
        cases: dict[str, Callable[[int], object]] = {
            "clip": lambda i: music.render_clip(clips[i], SHIFT, folder, folder),
            "mp3": lambda i: audio.render_mp3(chorales[i], folder / "project.mp3"),
            "tools": lambda i: tools(midis[i], folder),
        }
        for name in cases:  # warm: the soundfont, verovio, the page cache
            cases[name](0)
        seconds: dict[str, list[float]] = {name: [] for name in cases}
        ratios: dict[str, list[float]] = {"clip": [], "mp3": []}
        names = list(cases)
        for repetition in range(repetitions):
            order = names[repetition % 3 :] + names[: repetition % 3]
            for i in range(len(clips)):
                took = {name: timed(lambda name=name, i=i: cases[name](i)) for name in order}
                for name, value in took.items():
                    seconds[name].append(value)
                for name in ratios:
                    ratios[name].append(took[name] / took["tools"])
    result = {f"{name}_s": round(statistics.median(v), 4) for name, v in seconds.items()}
    result["render_vs_tools"] = round(statistics.median(ratios["clip"]), 3)
    result["mp3_vs_tools"] = round(statistics.median(ratios["mp3"]), 3)
    result["samples"] = repetitions * len(clips)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.repetitions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
