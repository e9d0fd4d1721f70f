"""How long harmonizing a 16-bar melody takes on this machine's CPU: greedy and beam search
(width 5 by default), the search alone and the whole ``harmonize_melody`` (key analysis,
transposition, decoding, score building), median of a few runs. The target (issue 4) is under
2 s for beam width 5.

    .venv/bin/python benchmarks/harmonize_speed.py [--checkpoint PATH] [--runs 5]

The melody is fixtures/melodies/ode_to_joy.txt (16 bars of 4/4, 256 sixteenth-note frames,
~1,300 tokens with A, T and B blank). The checkpoint defaults to the shipped harmonizer
composer/checkpoints/harmonizer.pt, else the language model composer/checkpoints/bachbot.pt.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MELODY = REPO / "fixtures" / "melodies" / "ode_to_joy.txt"
CHECKPOINTS = (
    REPO / "composer" / "checkpoints" / "harmonizer.pt",
    REPO / "composer" / "checkpoints" / "bachbot.pt",
)


def median_seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="default: the shipped one, else the run's")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--beam-width", type=int, default=5)
    args = parser.parse_args()

    from composer import checkpoint
    from composer.harmonization.melody import harmonize_melody
    from composer.harmonization.search import harmonize
    from composer.melody import melody_to_tokens, model_transposition, read_melody

    path = args.checkpoint or next((p for p in CHECKPOINTS if p.exists()), None)
    if path is None:
        print("no checkpoint: train one (python -m composer train) or pass --checkpoint")
        return 1
    model, vocabulary, meta = checkpoint.load(path)
    melody = read_melody(MELODY)
    tokens = melody_to_tokens(melody, "ATB", model_transposition(melody))
    harmonize(model, vocabulary, tokens, "greedy")  # warm-up: first calls allocate
    figures: dict = {
        "checkpoint": str(path.relative_to(REPO) if path.is_relative_to(REPO) else path),
        "model": meta["model_config"],
        "melody": MELODY.name,
        "frames": melody.frames,
        "tokens": len(tokens),
        # harmonize decodes on one thread (see composer.harmonization.search._decoding)
        "threads": 1,
        "runs": args.runs,
    }
    for method, width in (("greedy", 1), ("beam", args.beam_width)):
        label = method if method == "greedy" else f"beam{width}"
        search = partial(harmonize, model, vocabulary, tokens, method, width)
        whole = partial(harmonize_melody, model, vocabulary, melody, "ATB", method, width)
        figures[f"{label}_search_s"] = round(median_seconds(search, args.runs), 3)
        figures[f"{label}_melody_s"] = round(median_seconds(whole, args.runs), 3)
    figures["beam_under_2s"] = figures[f"beam{args.beam_width}_melody_s"] < 2.0
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
