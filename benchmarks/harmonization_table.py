"""The README's harmonization table: four ways of re-harmonizing the 35 held-out chorales.

    .venv/bin/python benchmarks/harmonization_table.py [--bootstrap 2000] [--limit N] [--json F]

Rows, each scored by composer.harmonization.evaluation.evaluate on every mask (S, A, T, B, AT,
ATB) with 95% bootstrap intervals that resample chorales:

* BachBot's method: the language model alone (``bachbot.pt``), greedy, no constraints;
* ``bachbot.pt`` with beam search (width 5) and the constraints;
* the harmonizer (``harmonizer.pt``) greedy, and with beam 5.

Token error (masked voice tokens unlike Bach's), frame error (frames with any masked token
unlike Bach's) and masked nats (teacher-forced nats per masked token: the model apart from
the search; greedy and beam share it). Prints a Markdown table, then one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from composer import checkpoint, paths  # noqa: E402
from composer.harmonization.evaluation import evaluate, validation_chorales  # noqa: E402
from composer.voices import MASKS  # noqa: E402

ROWS = (
    ("BachBot's method (bachbot.pt, greedy, no constraints)", "bachbot.pt", "greedy", False),
    ("bachbot.pt, beam 5", "bachbot.pt", "beam", True),
    ("harmonizer, greedy", "harmonizer.pt", "greedy", True),
    ("harmonizer, beam 5", "harmonizer.pt", "beam", True),
)


def cell(row: dict, name: str) -> str:
    low, high = row["intervals"][name]
    return f"{row[name]:.3f} ({low:.3f}–{high:.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--bootstrap", type=int, default=2000, help="resamples (default 2000)")
    parser.add_argument("--limit", type=int, help="only the first N held-out chorales")
    parser.add_argument("--json", type=Path, help="also write the tables here")
    args = parser.parse_args()
    torch.set_num_threads(1)  # harmonization steps one token at a time: one thread is fastest
    chorales = validation_chorales(args.limit)
    tables = {}
    for label, name, method, constraints in ROWS:
        model, vocabulary, _ = checkpoint.load(paths.CHECKPOINTS_DIR / name)
        print(f"{label} ...", file=sys.stderr, flush=True)
        tables[label] = evaluate(
            model, vocabulary, chorales, MASKS, method, 5, constraints,
            voice_leading=constraints, bootstrap=args.bootstrap,
        )  # fmt: skip
    print(
        f"{len(chorales)} held-out chorales, 95% bootstrap intervals ({args.bootstrap} resamples)"
    )
    for measure, title in (
        ("token_error_rate", "token error"),
        ("frame_error_rate", "frame error"),
        ("masked_nats", "teacher-forced nats per masked token"),
    ):
        print(f"\n{title}\n\n| | {' | '.join(MASKS)} |\n|---|{'---|' * len(MASKS)}")
        for label, table in tables.items():
            if measure == "masked_nats":
                if "beam" in label:
                    continue  # the same model's figure as its greedy row: the search plays no part
                label = "bachbot.pt" if label.startswith("BachBot") else "harmonizer.pt"
            print(f"| {label} | {' | '.join(cell(table[m], measure) for m in MASKS)} |")
    if args.json:
        args.json.write_text(json.dumps(tables, indent=1))
    print(json.dumps(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
