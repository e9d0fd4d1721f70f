"""Parallel fifths and octaves per 100 chord changes: the network's pieces beside held-out Bach.

Counted with music21's own checks (``VoiceLeadingQuartet.parallelFifth``, ``parallelOctave``
and ``parallelUnison``, which include antiparallel motion) over every pair of voices at every
change of sonority, as issue 18 counted them. Pitches come from MIDI numbers, spelt by music21
(B-flat, E-flat, F-sharp, C-sharp, G-sharp), which is how a C major / A minor chorale spells
them. Each setting samples ``--n`` pieces; the voice-leading rules are on unless
``--no-voice-leading``.

    .venv/bin/python benchmarks/voice_leading.py [--checkpoint PATH] [--n 64] [--temperature 0.8]

The last line is one JSON object: {"bach": {...}, "network": {...}, "ratio": {...}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from music21.note import Note  # noqa: E402
from music21.voiceLeading import VoiceLeadingQuartet  # noqa: E402

from composer import checkpoint, paths  # noqa: E402
from composer.decoding import Decoding  # noqa: E402
from composer.encoding import Chorale, tokens_to_chorale  # noqa: E402
from composer.harmonization.evaluation import validation_chorales  # noqa: E402
from composer.sample import compose_with_report  # noqa: E402
from composer.style import sounding  # noqa: E402


def music21_parallels(chorale: Chorale) -> dict[str, int]:
    """Parallel (and antiparallel) fifths and octaves/unisons, and chord changes."""
    counts = {"fifths": 0, "octaves": 0, "changes": 0, "pieces_with_any": 0}
    previous = None
    for chord in sounding(chorale):
        if previous is not None and chord != previous:
            counts["changes"] += 1
            for upper in range(4):
                for lower in range(upper + 1, 4):
                    a0, a1, b0, b1 = previous[upper], chord[upper], previous[lower], chord[lower]
                    if None in (a0, a1, b0, b1) or a0 == a1 or b0 == b1:
                        continue  # a voice that holds or rests makes no parallel
                    quartet = VoiceLeadingQuartet(
                        Note(midi=a0), Note(midi=a1), Note(midi=b0), Note(midi=b1)
                    )
                    counts["fifths"] += quartet.parallelFifth()
                    counts["octaves"] += quartet.parallelOctave() or quartet.parallelUnison()
        previous = chord
    counts["pieces_with_any"] = int(counts["fifths"] + counts["octaves"] > 0)
    return counts


def rates(chorales: list[Chorale]) -> dict[str, float]:
    totals = {"fifths": 0, "octaves": 0, "changes": 0, "pieces_with_any": 0}
    for chorale in chorales:
        for key, value in music21_parallels(chorale).items():
            totals[key] += value
    changes = max(totals["changes"], 1)
    return {
        "fifths_per_100": round(100 * totals["fifths"] / changes, 3),
        "octaves_per_100": round(100 * totals["octaves"] / changes, 3),
        "share_of_pieces_with_any": round(totals["pieces_with_any"] / len(chorales), 3),
        "pieces": len(chorales),
        "changes": totals["changes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=paths.shipped(paths.DEFAULT_COMPOSER))
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--hold-temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-voice-leading", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, vocabulary, _ = checkpoint.load(args.checkpoint)
    decoding = Decoding(args.top_p, args.hold_temperature, not args.no_voice_leading)
    began = time.perf_counter()
    draws = compose_with_report(
        model, vocabulary, args.n, temperature=args.temperature, seed=args.seed, decoding=decoding
    )
    sampled_s = time.perf_counter() - began
    bach = rates([tokens_to_chorale(t) for t in validation_chorales().values()])
    network = rates([tokens_to_chorale(t) for t in draws.pieces])
    print(f"{args.checkpoint.name}, temperature {args.temperature}, {decoding}")
    print(f"sampled {args.n} pieces in {sampled_s:.1f} s; "
          f"{draws.first_batch_valid} of {args.n} valid on the first draw")  # fmt: skip
    print(f"{'':28}{'Bach (held out)':>18}{'network':>12}{'ratio':>8}")
    ratio = {}
    for key in ("fifths_per_100", "octaves_per_100", "share_of_pieces_with_any"):
        ratio[key] = round(network[key] / bach[key], 2) if bach[key] else None
        print(f"{key:28}{bach[key]:>18}{network[key]:>12}{ratio[key]!s:>8}")
    summary = {"bach": bach, "network": network, "ratio": ratio}
    summary["settings"] = {**decoding.record(args.temperature), "checkpoint": str(args.checkpoint)}
    summary["first_draw_valid"] = draws.first_batch_valid
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
