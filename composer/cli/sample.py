"""Command line of ``python -m composer sample``: write new chorales as MusicXML, MIDI, tokens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from composer import checkpoint, paths
from composer.cli.decoding_flags import add_decoding_arguments, decoding_from
from composer.encoding import tokens_to_score
from composer.model import pick_device
from composer.sample import MAX_FRAMES, MIN_FRAMES, compose_with_report


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--n", type=int, default=4, help="how many chorales (default 4)")
    parser.add_argument("--temperature", type=float, default=0.8, help="default 0.8 (BachBot's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="folder for the chorales")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=paths.shipped(paths.DEFAULT_COMPOSER),
        help="default: the length-aware composer, composer/checkpoints/bachbot_length.pt",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch CPU threads (default 2; 1 on a busy machine)"
    )
    parser.add_argument("--min-frames", type=int, default=MIN_FRAMES)
    parser.add_argument("--max-frames", type=int, default=MAX_FRAMES)
    add_decoding_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise SystemExit("--n must be at least 1")
    decoding = decoding_from(args)
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    model, vocabulary, _ = checkpoint.load(args.checkpoint, device)
    report = compose_with_report(
        model,
        vocabulary,
        args.n,
        temperature=args.temperature,
        seed=args.seed,
        min_frames=args.min_frames,
        max_frames=args.max_frames,
        decoding=decoding,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for index, tokens in enumerate(report.pieces):
        stem = args.out / f"chorale_{args.seed}_{index:03d}"
        stem.with_suffix(".tokens").write_text("\n".join(tokens) + "\n")
        score = tokens_to_score(tokens)
        score.write("musicxml", fp=stem.with_suffix(".musicxml"))
        _write_midi(score, stem.with_suffix(".mid"))
    summary = {
        "written": len(report.pieces),
        "drawn": report.drawn,
        "rejected": report.rejected,
        "valid_before_replacement": round(report.first_batch_valid / args.n, 3),
        "reasons": report.reasons,
        "settings": decoding.record(args.temperature),
        "out": str(args.out),
    }
    print(json.dumps(summary))
    return 0


def _write_midi(score, path: Path) -> None:
    """The project's one MIDI path (composer.render.audio) so files match what listeners hear."""
    from composer.render.audio import write_midi

    write_midi(score, path)
