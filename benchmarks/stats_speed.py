"""Time and peak memory of bachsurvey.research.stats.summarize (tables + mixed model) at growing
sizes, and, with --coverage N, how well the mixed model's 95% interval for the intercept covers the
truth over N simulated experiments (the reason stats_model does not report mean-field VB's SD).

Each size runs in its own process so its peak resident memory is its own.

    .venv/bin/python benchmarks/stats_speed.py [--sizes 3605,20000,100000] [--coverage 40]
        [--blas-threads 1]

Without threadpoolctl installed, stats_model cannot limit BLAS threads itself, and on a busy
machine the fit is then many times slower; --blas-threads 1 shows the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

EXPERIENCES = ("novice", "intermediate", "advanced", "expert")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def simulate(
    answers: int,
    seed: int = 0,
    accuracy: float = 0.6,
    sd_p: float = 0.5,
    sd_i: float = 0.3,
    items: int | None = None,
):
    """Five answers per participant, one item per 50 answers (at least 20), random effects."""
    import numpy as np
    from scipy.special import expit, logit

    rng = np.random.default_rng(seed)
    participants = answers // 5
    items = items or max(20, answers // 50)
    u = rng.normal(0, sd_p, participants)
    v = rng.normal(0, sd_i, items)
    who = np.repeat(np.arange(participants), 5)
    what = rng.integers(0, items, len(who))
    correct = rng.random(len(who)) < expit(logit(accuracy) + u[who] + v[what])
    return who, what, correct


def size_case(answers: int) -> dict:
    from bachsurvey.research.stats import AnswerRecord, summarize
    from composer.voices import CATEGORIES

    who, what, correct = simulate(answers)
    experience = [EXPERIENCES[p % 4] for p in range(who.max() + 1)]
    records = [
        AnswerRecord(
            participant_id=f"p{p}",
            question_id=f"q{i}",
            item_id=f"q{i}",
            category=CATEGORIES[i % 7],
            experience=experience[p],
            correct=bool(c),
            response_ms=1000,
            heard_fully=True,
        )
        for p, i, c in zip(who.tolist(), what.tolist(), correct.tolist(), strict=True)
    ]
    start = time.perf_counter()
    tables = summarize(records, fit_model=False)
    tables_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = summarize(records)
    total_s = time.perf_counter() - start
    model = summary["model"]
    return {
        "answers": answers,
        "participants": summary["n"]["participants"],
        "items": summary["n"]["items"],
        "tables_s": round(tables_s, 3),
        "with_model_s": round(total_s, 3),
        "model_status": model["status"],
        "accuracy": model["accuracy"],
        "raw_accuracy": tables["overall"]["accuracy"],
        "peak_mb": round(peak_mb(), 1),
    }


def coverage(replications: int) -> dict:
    """Share of simulated experiments whose 95% interval for the intercept holds the truth."""
    import numpy as np
    from scipy.special import logit

    from bachsurvey.research import stats_model

    truth = float(logit(0.6))
    hits_laplace = hits_vb = 0
    estimates = []
    for seed in range(replications):
        who, what, correct = simulate(1000, seed=100 + seed, sd_p=0.5, sd_i=0.5, items=40)
        fit = stats_model.fit_mixed_model(who.tolist(), what.tolist(), correct.tolist())
        b0 = fit["intercept"]["estimate"]
        estimates.append(b0)
        hits_laplace += abs(b0 - truth) < stats_model.Z95 * fit["intercept"]["sd"]
        hits_vb += abs(b0 - truth) < stats_model.Z95 * fit["intercept"]["sd_vb"]
    return {
        "replications": replications,
        "answers_each": 1000,
        "items_each": 40,
        "intercept_spread": float(np.std(estimates, ddof=1)),
        "coverage_laplace_sd": hits_laplace / replications,
        "coverage_vb_sd": hits_vb / replications,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3605,20000,100000")
    parser.add_argument("--coverage", type=int, default=0, metavar="N")
    parser.add_argument(
        "--blas-threads", help="set OPENBLAS_NUM_THREADS for the size cases (default: unset)"
    )
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(size_case(args.case)))
        return
    env = dict(os.environ)
    if args.blas_threads:
        env["OPENBLAS_NUM_THREADS"] = args.blas_threads
    for size in (int(s) for s in args.sizes.split(",") if s):
        done = subprocess.run(
            [sys.executable, __file__, "--case", str(size)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        print(done.stdout.strip(), flush=True)
    if args.coverage:
        print(json.dumps(coverage(args.coverage)))


if __name__ == "__main__":
    main()
