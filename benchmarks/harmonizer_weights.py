"""How much the harmonizer's reader should count against the language model, per voice.

    .venv/bin/python benchmarks/harmonizer_weights.py CHECKPOINT [--limit 10] [--weights 1,2,3]

Greedy token error of the harmonizer (composer.harmonization.reader) on the first --limit validation
chorales, with each voice filled alone (masks S, A, T, B) and the reader's weight for that
voice set to each of --weights. The weights `finetune --kind harmonizer --fusion-weights`
ships are read off this table (a choice of four numbers on ten of the 35 validation chorales,
which eval-harmonization then scores in full). Greedy, because it is what the weight changes
most directly and takes a fraction of beam search's time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a harmonizer checkpoint")
    parser.add_argument("--limit", type=int, default=10, help="validation chorales (default 10)")
    parser.add_argument("--weights", default="1,2,3", help="candidates (default 1,2,3)")
    args = parser.parse_args()

    from composer import checkpoint
    from composer.harmonization.evaluation import evaluate, validation_chorales
    from composer.harmonization.reader import Harmonizer

    model, vocabulary, _ = checkpoint.load(args.checkpoint)
    if not isinstance(model, Harmonizer):
        print(f"{args.checkpoint} is not a harmonizer")
        return 1
    chorales = validation_chorales(args.limit)
    shipped = list(model.config.fusion_weights)
    table: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for voice, mask in enumerate("SATB"):
        table[mask] = {}
        for weight in (float(w) for w in args.weights.split(",")):
            weights = list(shipped)
            weights[voice] = weight
            model.set_fusion_weights(weights)
            row = evaluate(model, vocabulary, chorales, [mask], "greedy", progress=False)[mask]
            table[mask][f"{weight:g}"] = round(row["token_error_rate"], 4)
    model.set_fusion_weights(shipped)
    print(json.dumps({"checkpoint": str(args.checkpoint), "chorales": len(chorales),
                      "greedy_token_error": table,
                      "seconds": round(time.perf_counter() - started, 1)}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
