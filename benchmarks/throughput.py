"""Generation throughput, side by side: each figure is a ratio of two paths timed back to back in
this run, because absolute times on a shared 2-core machine are noise.

    .venv/bin/python benchmarks/throughput.py [--before REV] [--count 16] [--skip batch]

Cases (each in its own process, from ``benchmarks/throughput_cases/``, so that thread settings
and peak memory are its own):

* ``batch``: a ``--count``-piece free batch end to end through a real broker and real workers,
  one worker and then two (``workers_2_over_1``), and one worker's per-piece time against the
  same batch on ``--before``'s code (``per_piece_vs_before``);
* ``sampling``: one chorale sampled by the project against a bare ``torch`` step loop on the same
  checkpoint (``sample_vs_bare``, tokens/s);
* ``training``: training tokens/s against a bare loop on the same batches (``train_vs_bare``);
* ``render``: one clip by the project's path against FluidSynth plus the encoder called directly
  on the same MIDI (``render_vs_tools``).

The ratios are the CPU's (one thread, CPU time: see each case). On a machine with a GPU,
``benchmarks/model_speed.py`` gives the CUDA figures of sampling and training. The last line is one
JSON object of the five ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "benchmarks" / "throughput_cases"
RATIOS = {
    "batch": ("workers_2_over_1", "per_piece_vs_before"),
    "sampling": ("sample_vs_bare",),
    "training": ("train_vs_bare",),
    "render": ("render_vs_tools",),
}


def run_case(name: str, arguments: list[str]) -> dict:
    """Run one case's script; its last stdout line is its JSON figures."""
    command = [sys.executable, str(CASES / f"{name}.py"), *arguments]
    print(f"# {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"case {name} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"case {name} printed nothing")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=None, help="git revision of 'before' (batch case)")
    parser.add_argument("--count", type=int, default=16, help="pieces in the batch case")
    parser.add_argument("--skip", action="append", default=[], choices=sorted(RATIOS))
    args = parser.parse_args()

    arguments = {
        "batch": ["--count", str(args.count)] + (["--before", args.before] if args.before else []),
        "sampling": [],
        "training": [],
        "render": [],
    }
    ratios: dict[str, float | None] = {}
    for name, keys in RATIOS.items():
        if name in args.skip:
            ratios.update(dict.fromkeys(keys))
            continue
        figures = run_case(name, arguments[name])
        print(json.dumps({"case": name, **figures}), flush=True)
        for key in keys:
            ratios[key] = figures.get(key)
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
