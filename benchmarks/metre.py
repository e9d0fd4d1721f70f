"""Metre of held-out Bach against a composer's samples: ties over the bar line, where fermatas
end, and how long phrases are (issue 18, item 3).

    .venv/bin/python benchmarks/metre.py [--checkpoint composer/checkpoints/bachbot_length.pt]
        [--temperature 0.8] [--n 64] [--seed 1] [--metre-rules]

Bach: the validation chorales, each with its true bar phase (composer/data/bar_phase.json).
Samples: the first round ``python -m composer sample --seed S`` draws (sample_tokens with seed
1000·S), valid pieces only. A metre-aware model's pieces are measured at the phase it was given
(drawn with its length); a model that was told no metre has no phase, so its pieces are measured
at phase 0 (as frame 0 = downbeat) and at the phase its notes suggest (composer.metre.
inferred_phase: the beat-aligned phase putting most note length on downbeats; on Bach it is
checked against the true phase). Prints a table and a final JSON line; no timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from composer import checkpoint, metre  # noqa: E402
from composer.decoding import Decoding  # noqa: E402
from composer.encoding import Chorale, tokens_to_chorale  # noqa: E402
from composer.sample import (  # noqa: E402
    MAX_FRAMES,
    MIN_FRAMES,
    is_metre_aware,
    rejection_reason,
    sample_tokens,
)


def measures(pieces: list[tuple[Chorale, int]]) -> dict:
    """The metrical counts over (chorale, phase) pairs, pooled over pieces."""
    held = notes = majority = on_half = ends = 0
    phrases: list[int] = []
    for chorale, phase in pieces:
        h, n = metre.ties_over_bar_lines(chorale, phase)
        m, o, e = metre.fermata_grid(chorale, phase)
        held, notes, majority, on_half, ends = (
            held + h,
            notes + n,
            majority + m,
            on_half + o,
            ends + e,
        )
        phrases += metre.phrase_lengths(chorale)
    return {
        "pieces": len(pieces),
        "ties_over_bar_per_100_notes": round(100 * held / max(notes, 1), 2),
        "fermata_ends_on_majority_half_bar_grid": round(majority / max(ends, 1), 3),
        "fermatas_starting_on_beat_1_or_3": round(on_half / max(ends, 1), 3),
        "phrases_per_piece": round(len(phrases) / max(len(pieces), 1), 2),
        "median_phrase_frames": statistics.median(phrases) if phrases else None,
    }


def bach() -> dict[str, dict]:
    from composer.harmonization.evaluation import validation_chorales

    chorales = {cid: tokens_to_chorale(t) for cid, t in validation_chorales().items()}
    true = dict(zip(chorales, metre.phases_of(list(chorales)), strict=True))
    inferred = {cid: metre.inferred_phase(c) for cid, c in chorales.items()}
    agree = sum(inferred[cid] == true[cid] for cid in chorales) / len(chorales)
    return {
        "true phase": {**measures([(c, true[cid]) for cid, c in chorales.items()])},
        "inferred phase": {
            **measures([(c, inferred[cid]) for cid, c in chorales.items()]),
            "inferred_equals_true": round(agree, 3),
        },
    }


def samples(
    path: Path, n: int, temperature: float, seed: int, metre_rules: bool = False
) -> tuple[dict[str, dict], int]:
    """Rows for the model's valid first-round pieces, and how many of ``n`` were valid."""
    model, vocabulary, _ = checkpoint.load(path)
    round_seed = seed * 1000  # round 0 of compose_with_report, as `composer sample` draws it
    decoding = Decoding(metre_rules=metre_rules)
    streams = sample_tokens(
        model, vocabulary, n, temperature=temperature, seed=round_seed, decoding=decoding
    )
    aware = is_metre_aware(model) or metre_rules  # the rules hold each piece to a drawn phase
    given = metre.draw_phases(n, round_seed, MIN_FRAMES, MAX_FRAMES) if aware else [0] * n
    valid = [
        (tokens_to_chorale(t), p)
        for t, p in zip(streams, given, strict=True)
        if rejection_reason(t) is None
    ]
    inferred = [(c, metre.inferred_phase(c)) for c, _ in valid]
    rows = {
        ("drawn phase" if aware else "phase 0"): measures(valid),
        "inferred phase": measures(inferred),
    }
    if aware:
        agree = sum(i == p for (_, i), (_, p) in zip(inferred, valid, strict=True))
        rows["inferred phase"]["inferred_equals_true"] = round(agree / max(len(valid), 1), 3)
    return rows, len(valid)


def table(results: dict[str, dict[str, dict]]) -> str:
    keys = [
        "pieces",
        "ties_over_bar_per_100_notes",
        "fermata_ends_on_majority_half_bar_grid",
        "fermatas_starting_on_beat_1_or_3",
        "phrases_per_piece",
        "median_phrase_frames",
        "inferred_equals_true",
    ]
    header = ["source", "measured at", *keys]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for source, rows in results.items():
        for label, row in rows.items():
            lines.append(" | ".join([source, label, *(str(row.get(k, "")) for k in keys)]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint", type=Path, default=REPO / "composer/checkpoints/bachbot_length.pt"
    )
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--metre-rules",
        action="store_true",
        help="sample with the metre rules (fermatas begin on beat 1 or 3, no tie over a bar line)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    model_rows, valid = samples(
        args.checkpoint, args.n, args.temperature, args.seed, args.metre_rules
    )
    results = {"bach (validation)": bach(), args.checkpoint.stem: model_rows}
    print(table(results))
    print(f"{args.checkpoint.stem}: {valid}/{args.n} valid on the first draw (seed {args.seed})")
    summary = {
        "checkpoint": str(args.checkpoint),
        "temperature": args.temperature,
        "n": args.n,
        "seed": args.seed,
        "valid_first_draw": valid,
        "results": results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
