"""Speed and memory of the model on this machine: training tokens/s (CPU 1 and 2 threads, GPU when
present), the time of one epoch, sampling chorales/s alone and batched (64), and each case's peak
memory. Each case runs in its own process so its peak resident memory is its own.

    .venv/bin/python benchmarks/model_speed.py [--checkpoint composer/checkpoints/bachbot.pt]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def train_case(threads: int, device: str, steps: int) -> dict:
    """Training throughput of the default 3x256 model, batch 50 x 128 tokens."""
    import torch

    from composer.model import ChoraleLSTM
    from composer.prepare import corpus_ids
    from composer.training.dataset import batchify, epoch_stream, windows
    from composer.training.train import TrainConfig
    from composer.vocabulary import load_vocabulary

    torch.set_num_threads(threads)
    config = TrainConfig()
    vocabulary = load_vocabulary()
    import random

    chorales = corpus_ids("train")
    rows = batchify(epoch_stream(chorales, vocabulary, random.Random(0)), config.batch_size).to(
        device
    )
    model = ChoraleLSTM(config.model_config(len(vocabulary))).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    batches = list(windows(rows, config.seq_len))
    hidden, tokens = None, 0
    started = None
    for step, (inputs, targets) in enumerate(batches[: steps + 2]):
        if step == 2:  # two warm-up steps
            if device == "cuda":
                torch.cuda.synchronize()
            started, tokens = time.perf_counter(), 0
        logits, hidden = model(inputs, hidden)
        hidden = ChoraleLSTM.detach(hidden)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), targets.reshape(-1)
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        tokens += targets.numel()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    per_second = tokens / seconds
    epoch_tokens = sum(len(c) for c in chorales)
    return {
        "case": f"train {device}" + (f" {threads} threads" if device == "cpu" else ""),
        "tokens_per_second": round(per_second),
        "epoch_seconds_estimate": round(epoch_tokens / per_second, 1),
        "epoch_tokens": epoch_tokens,
        "peak_memory_mb": round(peak_mb()),
    }


def sample_case(batch: int, checkpoint_path: str, threads: int, device: str) -> dict:
    import torch

    from composer import checkpoint
    from composer.sample import sample_tokens

    torch.set_num_threads(threads)
    model, vocabulary, _ = checkpoint.load(Path(checkpoint_path), device)
    sample_tokens(model, vocabulary, 1, temperature=0.8, seed=123, max_frames=20)  # warm-up
    started = time.perf_counter()
    streams = sample_tokens(model, vocabulary, batch, temperature=0.8, seed=0)
    seconds = time.perf_counter() - started
    return {
        "case": f"sample {device} batch {batch}",
        "chorales_per_second": round(batch / seconds, 2),
        "seconds_per_chorale": round(seconds / batch, 3),
        "mean_tokens": round(sum(len(s) for s in streams) / batch),
        "peak_memory_mb": round(peak_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--checkpoint", default=str(REPO / "composer" / "checkpoints" / "bachbot.pt")
    )
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per case")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case.split(":")
        if kind == "train":
            print(json.dumps(train_case(int(rest[0]), rest[1], args.steps)))
        else:
            print(json.dumps(sample_case(int(rest[0]), args.checkpoint, int(rest[1]), rest[2])))
        return
    import torch

    cases = ["train:1:cpu", "train:2:cpu", "sample:1:1:cpu", "sample:64:2:cpu"]
    if torch.cuda.is_available():
        cases += ["train:1:cuda", "sample:1:1:cuda", "sample:64:1:cuda"]
    for case in cases:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--case",
                case,
                "--checkpoint",
                args.checkpoint,
                "--steps",
                str(args.steps),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
