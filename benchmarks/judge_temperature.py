"""Which sampling settings does the machine judge find hardest? Judge accuracy and validity per
setting, pooled over seeds, to choose the composer's defaults (issue 18, item 4).

For each setting and seed: ``--n`` pieces sampled with that seed, cut as the quiz cuts them,
judged against one excerpt of each held-out chorale (``python -m composer judge``'s recipe). The
accuracy is pooled over the seeds (right answers over excerpts judged, Clopper-Pearson 95%);
validity is the share of pieces valid on the first draw.

    .venv/bin/python benchmarks/judge_temperature.py [--seeds 1 2 3] [--n 35]

A setting is ``temperature[/hold][@top_p][+m]``, e.g. ``0.8``, ``0.8/1.0``, ``1.0@0.9``; ``+m``
adds the metre rules (fermatas begin on beat 1 or 3, no note held over a bar line). The last line
is one JSON object: {"settings": [{"setting", "accuracy", "interval", "n", "valid"}...],
"hardest": setting}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from composer import checkpoint, paths  # noqa: E402
from composer.decoding import Decoding  # noqa: E402
from composer.harmonization.evaluation import validation_chorales  # noqa: E402
from composer.judge.excerpts import bach_excerpts, network_excerpts  # noqa: E402
from composer.judge.verdict import judge  # noqa: E402
from composer.sample import compose_with_report  # noqa: E402

DEFAULT_SETTINGS = ("0.7", "0.8", "0.9", "1.0", "0.7/1.0", "0.8/1.0", "0.9/1.1", "1.0@0.95")


def parse_setting(text: str, voice_leading: bool = True) -> tuple[float, Decoding]:
    text, metre, _ = text.partition("+m")
    rest, _, top_p = text.partition("@")
    temperature, _, hold = rest.partition("/")
    decoding = Decoding(
        float(top_p or 1.0), float(hold) if hold else None, voice_leading, metre_rules=bool(metre)
    )
    return float(temperature), decoding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=paths.shipped(paths.DEFAULT_COMPOSER))
    parser.add_argument("--settings", nargs="+", default=list(DEFAULT_SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--n", type=int, default=35)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument(
        "--no-voice-leading", action="store_true", help="allow parallels (the setting before)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, vocabulary, _ = checkpoint.load(args.checkpoint)
    held_out = validation_chorales()
    bach = {seed: bach_excerpts(held_out, args.frames, seed) for seed in args.seeds}
    rows = []
    print(f"{args.checkpoint.name}: {args.n} pieces a seed, seeds {args.seeds}; 50% is chance")
    print(f"{'setting':>10} {'judge':>7} {'95% interval':>14} {'per seed':>22} {'valid':>6}")
    for setting in args.settings:
        temperature, decoding = parse_setting(setting, not args.no_voice_leading)
        right = total = valid = 0
        per_seed = []
        for seed in args.seeds:
            draws = compose_with_report(
                model, vocabulary, args.n, temperature=temperature, seed=seed, decoding=decoding
            )
            verdict = judge(bach[seed], network_excerpts(draws.pieces, args.frames), seed=seed)
            right += verdict.right
            total += verdict.n
            valid += draws.first_batch_valid
            per_seed.append(verdict.accuracy)
        ci = binomtest(right, total).proportion_ci(confidence_level=0.95)
        row = {
            "setting": setting,
            "accuracy": round(right / total, 4),
            "interval": [round(ci.low, 4), round(ci.high, 4)],
            "n": total,
            "per_seed": [round(a, 4) for a in per_seed],
            "valid": round(valid / (args.n * len(args.seeds)), 3),
        }
        rows.append(row)
        seeds = " ".join(f"{a:.2f}" for a in per_seed)
        print(f"{setting:>10} {row['accuracy']:>7.1%} {ci.low:>6.2f}-{ci.high:<6.2f} "
              f"{seeds:>22} {row['valid']:>6.1%}", flush=True)  # fmt: skip
    usable = [r for r in rows if r["valid"] >= 0.9] or rows
    hardest = min(usable, key=lambda r: r["accuracy"])["setting"]
    print(f"hardest for the judge with at least 90% valid: {hardest}")
    print(json.dumps({"settings": rows, "hardest": hardest}))


if __name__ == "__main__":
    main()
