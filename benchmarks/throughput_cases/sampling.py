"""Sampling speed: the project's sampler against a bare torch step loop on the same checkpoint.

The bare loop is what the network alone costs: embedding -> one multi-layer ``nn.LSTM`` step
with the state kept -> linear head -> softmax at the temperature -> ``torch.multinomial``; no
grammar, no conditioning, no END rule. It runs twice: as torch runs it by default (``bare``:
oneDNN's LSTM kernel on the CPU, which reorders the weights at every call) and with oneDNN off
(``bare_native``: ATen's kernel, several times faster one step at a time, the kernel the project
steps with). The project is ``sample_tokens`` as free composition calls it (the shipped composer,
its conditioning, the grammar and voice leading, default decoding). All run on the CPU on one
thread, the same number of steps, back to back, the order rotating between repetitions; figures
are medians, and ``sample_vs_bare`` is the median of the ratios of the project's tokens per CPU
second to the faster bare loop's in the same repetition (:class:`Clock`; the wall clock's ratio
is reported too; ``project_vs_default_bare``: against torch's default kernel).

    .venv/bin/python benchmarks/throughput_cases/sampling.py [--repetitions 5] [--batch 64]

prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from composer import checkpoint, paths  # noqa: E402
from composer.encoding import START  # noqa: E402
from composer.model import ChoraleLSTM  # noqa: E402
from composer.sample import sample_tokens  # noqa: E402
from composer.vocabulary import Vocabulary  # noqa: E402

TEMPERATURE = 0.8


class BareSampler:
    """The checkpoint's embedding, LSTM stack and head as plain torch modules, stepped alone."""

    def __init__(self, model: ChoraleLSTM) -> None:
        config = model.config
        self.embedding = model.embedding
        self.head = model.head
        # One multi-layer nn.LSTM holding the checkpoint's weights (the first layer's weights for
        # the token's embedding only: the bare loop reads no condition).
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, config.num_layers)
        with torch.no_grad():
            for i, layer in enumerate(model.layers):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(self.lstm, f"{name}_l{i}").copy_(getattr(layer, f"{name}_l0"))
        self.lstm.eval()

    @torch.no_grad()
    def run(self, n: int, steps: int, start: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        current = torch.full((1, n), start, dtype=torch.long)  # [1, n]: time first
        state = None
        for _ in range(steps):
            out, state = self.lstm(self.embedding(current), state)  # out: [1, n, H]
            probs = torch.softmax(self.head(out[0]) / TEMPERATURE, dim=-1)  # [n, V]
            current = torch.multinomial(probs, 1, generator=generator).T  # [1, n]


class Clock:
    """CPU and wall seconds of a block. One thread does the work, so the process's CPU time is
    the work's own, which other processes on a shared machine disturb much less than the wall
    clock: ratios are taken on it, the wall clock's figures are reported beside them."""

    def __enter__(self) -> Clock:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def compare(
    model: ChoraleLSTM, vocabulary: Vocabulary, n: int, repetitions: int, **options
) -> dict:
    """Project and both bare loops sampling ``n`` rows, the order rotating between repetitions;
    tokens counted as steps x rows, a bare loop running as many steps as the project's latest
    run. The ratio is the project's against the faster bare loop of the same repetition."""
    bare = BareSampler(model)
    start = vocabulary.id(START)

    def project(seed: int) -> tuple[Clock, int]:
        with Clock() as clock:
            streams = sample_tokens(
                model, vocabulary, n, temperature=TEMPERATURE, seed=seed, **options
            )
        # Steps: the loop stops when every row is done, the longest stream is START + steps.
        return clock, max(len(s) for s in streams) - 1

    def bare_run(steps: int, seed: int, onednn: bool) -> Clock:
        before = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = onednn
        try:
            with Clock() as clock:
                bare.run(n, steps, start, seed)
            return clock
        finally:
            torch.backends.mkldnn.enabled = before

    _, steps = project(10_000)  # warm-up: allocator, kernels
    for onednn in (True, False):
        bare_run(20, 10_000, onednn)
    names = ["project", "bare", "bare_native"]
    cpu: dict[str, list[float]] = {name: [] for name in names}  # tokens per CPU second
    wall: dict[str, list[float]] = {name: [] for name in names}  # tokens per wall second
    for seed in range(repetitions):
        for name in names[seed % 3 :] + names[: seed % 3]:
            if name == "project":
                clock, steps = project(seed)
            else:
                clock = bare_run(steps, seed, onednn=name == "bare")
            cpu[name].append(steps * n / clock.cpu)
            wall[name].append(steps * n / clock.wall)

    def ratios(rates: dict[str, list[float]]) -> list[float]:
        paired = zip(rates["project"], rates["bare"], rates["bare_native"], strict=True)
        return [p / max(b, native) for p, b, native in paired]

    default = [p / b for p, b in zip(cpu["project"], cpu["bare"], strict=True)]
    return {
        "rows": n,
        **{f"{name}_tokens_per_cpu_second": round(statistics.median(cpu[name])) for name in names},
        **{f"{name}_tokens_per_second": round(statistics.median(wall[name])) for name in names},
        "project_vs_bare": round(statistics.median(ratios(cpu)), 3),
        "project_vs_bare_wall_clock": round(statistics.median(ratios(wall)), 3),
        "project_vs_default_bare": round(statistics.median(default), 3),
        "ratios": [round(r, 3) for r in ratios(cpu)],
    }


def measure(
    checkpoint_path: Path | None = None,
    repetitions: int = 5,
    batch: int = 64,
    batch_repetitions: int = 2,
) -> dict:
    """One chorale alone and a batch of ``batch``, each against the bare loop: figures and
    ``sample_vs_bare`` (alone) and ``batch_vs_bare``."""
    torch.set_num_threads(1)
    path = checkpoint_path or paths.shipped(paths.DEFAULT_COMPOSER)
    model, vocabulary, _ = checkpoint.load(path)
    alone = compare(model, vocabulary, 1, repetitions)
    batched = compare(model, vocabulary, batch, batch_repetitions) if batch else None
    return {
        "checkpoint": Path(path).name,
        "threads": torch.get_num_threads(),
        "alone": alone,
        "batched": batched,
        "sample_vs_bare": alone["project_vs_bare"],
        "batch_vs_bare": batched["project_vs_bare"] if batched else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64, help="rows of the batched case (0: none)")
    parser.add_argument("--batch-repetitions", type=int, default=2)
    args = parser.parse_args()
    print(
        json.dumps(measure(args.checkpoint, args.repetitions, args.batch, args.batch_repetitions))
    )


if __name__ == "__main__":
    main()
