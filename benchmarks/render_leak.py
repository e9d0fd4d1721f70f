"""Render real and generated chorales the same way and show the files do not give the source away.

    .venv/bin/python benchmarks/render_leak.py [--count 10] [--pair-frames 96] [--keep DIR]

Renders ``count`` real chorales (through the corpus recipe) and ``count`` generated ones
(``model_samples`` of tests/composer/render/stand_ins.py) to MP3, whole; prints the
distributions (min / median / max) of duration, loudness (ffmpeg's own EBU R128 meter) and file
size side by side, and the median time to render one chorale to MP3 (target: under 1 s). Then it
cuts each real/generated pair to the same number of frames and prints the largest duration gap
(limit: 50 ms), and lists every container, codec, tag or loudness difference (should be none).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from composer.render import audio, excerpt  # noqa: E402
from tests.composer.render import clip_probe, stand_ins  # noqa: E402


def spread(values: list[float], fmt: str) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{format(low, fmt):>8} {format(mid, fmt):>8} {format(high, fmt):>8}"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (FluidSynth, ffmpeg)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def render_set(scores, out: Path) -> tuple[list[Path], list[float], list[float]]:
    """Render each score to MP3: the paths, wall-clock seconds and CPU seconds of each."""
    paths, wall, cpu = [], [], []
    for score in scores:
        started, started_cpu = time.perf_counter(), cpu_seconds()
        paths.append(audio.render_mp3(score, out))
        wall.append(time.perf_counter() - started)
        cpu.append(cpu_seconds() - started_cpu)
    return paths, wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10, help="chorales per set (default 10)")
    parser.add_argument(
        "--pair-frames", type=int, default=96, help="frames to cut each pair to (default 96)"
    )
    parser.add_argument("--keep", type=Path, help="write the MP3s here instead of a temp dir")
    args = parser.parse_args(argv)

    real = stand_ins.real_chorales(args.count)
    generated = stand_ins.model_samples(args.count)
    with tempfile.TemporaryDirectory(prefix="render-leak-") as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        audio.render_mp3(real[0], out).unlink()  # warm the page cache: the soundfont is 148 MB

        sets = {"real": render_set(real, out), "generated": render_set(generated, out)}
        print(f"{'':24}{'real: min':>10} {'median':>8} {'max':>8}   {'generated: min':>14}"
              f" {'median':>8} {'max':>8}")  # fmt: skip
        rows = {
            "duration (s)": (lambda p: clip_probe.probe(p)["duration"], ".2f"),
            "loudness (LUFS)": (clip_probe.measure_loudness, ".1f"),
            "size (kB)": (lambda p: p.stat().st_size / 1000, ".0f"),
        }
        for label, (measure, fmt) in rows.items():
            columns = [spread([measure(p) for p in paths], fmt) for paths, _, _ in sets.values()]
            print(f"{label:24}{columns[0]}   {'':6}{columns[1]}")
        for label, column in (("render time (s)", 1), ("render CPU time (s)", 2)):
            print(f"{label:24}{spread(sets['real'][column], '.2f')}   {'':6}"
                  f"{spread(sets['generated'][column], '.2f')}")  # fmt: skip
        wall = statistics.median([t for _, seconds, _ in sets.values() for t in seconds])
        cpu = statistics.median([t for _, _, seconds in sets.values() for t in seconds])
        print(f"\nmedian time to render one chorale to MP3: {wall:.2f} s (target < 1 s); "
              f"CPU time {cpu:.2f} s")  # fmt: skip

        gaps = []
        pair_paths = []
        for real_score, generated_score in zip(real, generated, strict=True):
            a, b, frames = excerpt.excerpt_pair(
                excerpt.read_chorale(real_score),
                excerpt.read_chorale(generated_score),
                args.pair_frames,
            )
            pa, pb = audio.render_mp3(a, out), audio.render_mp3(b, out)
            pair_paths += [pa, pb]
            da, db = clip_probe.probe(pa)["duration"], clip_probe.probe(pb)["duration"]
            gaps.append(abs(da - db))
        print(f"pairs cut to <= {args.pair_frames} frames: largest duration gap "
              f"{max(gaps) * 1000:.1f} ms (limit 50 ms)")  # fmt: skip

        whole = [p for paths, _, _ in sets.values() for p in paths]
        problems = clip_probe.leak_report(whole + pair_paths)
        print("leak check:", "no differences" if not problems else "")
        for problem in problems:
            print("  -", problem)
        return 1 if problems or max(gaps) > 0.05 else 0


if __name__ == "__main__":
    sys.exit(main())
