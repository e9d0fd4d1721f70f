"""Inspect rendered clips from the outside, as a curious listener's tools would.

Used by the leak test and ``benchmarks/render_leak.py`` (and handy before a survey goes live):
``probe`` reads what ffprobe reports (container, codec, rate, channels, bitrate, duration, every
tag), ``measure_loudness`` runs ffmpeg's own EBU R128 meter, independent of the one the renderer
uses to set the level, and ``leak_report`` lists every way a set of clips differs where it must
not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from composer.render import audio

FFPROBE = os.environ.get("BACHBOT_FFPROBE", "ffprobe")

# Fields that must be identical across every clip, real or generated.
FIXED_FIELDS = (
    "format_name",
    "codec_name",
    "sample_rate",
    "channels",
    "channel_layout",
    "bit_rate",
)
# Byte strings that would name a tool or carry per-file data in the first frames.
HEADER_MARKERS = (b"ID3", b"TAG", b"Xing", b"Info", b"Lavf", b"Lavc")


def probe(path: str | Path) -> dict:
    """What ffprobe says about one audio file, flattened; ``tags`` merges format and stream tags."""
    command = [
        FFPROBE, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except OSError as error:
        raise audio.RenderError(
            f"ffprobe could not be started ({error}); install it with `apt-get install ffmpeg`"
        ) from None
    if result.returncode != 0:
        raise audio.RenderError(f"ffprobe failed on {path}: {result.stderr.strip()[-500:]}")
    info = json.loads(result.stdout)
    fmt, streams = info.get("format", {}), info.get("streams", [])
    first = streams[0] if streams else {}
    tags = {**fmt.get("tags", {}), **{k: v for s in streams for k, v in s.get("tags", {}).items()}}
    return {
        "format_name": fmt.get("format_name"),
        "codec_name": first.get("codec_name"),
        "sample_rate": first.get("sample_rate"),
        "channels": first.get("channels"),
        "channel_layout": first.get("channel_layout"),
        "bit_rate": first.get("bit_rate"),
        "streams": len(streams),
        "duration": float(fmt.get("duration", "nan")),
        "size": int(fmt.get("size", 0)),
        "tags": tags,
    }


def measure_loudness(path: str | Path) -> float:
    """Integrated loudness in LUFS by ffmpeg's ``ebur128`` filter (0.1 LU resolution)."""
    command = [
        audio.FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
        # framelog=verbose keeps the per-frame lines out of the log; framelog=quiet would also
        # blank the summary in ffmpeg 5.1
        "-af", "ebur128=framelog=verbose", "-f", "null", "-",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    found = re.findall(r"^\s*I:\s+(-?[\d.]+) LUFS", result.stderr, flags=re.MULTILINE)
    if result.returncode != 0 or not found:
        raise audio.RenderError(f"ffmpeg could not measure {path}: {result.stderr[-500:]}")
    return float(found[-1])


def header_markers(path: str | Path, head_bytes: int = 4096) -> list[bytes]:
    """Which of ``HEADER_MARKERS`` start the file, plus an ID3v1 tag at its end (should be none)."""
    data = Path(path).read_bytes()
    found = [marker for marker in HEADER_MARKERS if marker in data[:head_bytes]]
    if data[-128:-125] == b"TAG":  # an ID3v1 tag sits in the last 128 bytes
        found.append(b"TAG (ID3v1)")
    return found


def leak_report(
    paths: list[Path], target_lufs: float = audio.LOUDNESS_TARGET_LUFS, tolerance_db: float = 0.5
) -> list[str]:
    """Every difference between clips that could give a source away; empty when there is none."""
    problems: list[str] = []
    infos = {path: probe(path) for path in paths}
    for field in FIXED_FIELDS:
        values = {str(info[field]) for info in infos.values()}
        if len(values) > 1:
            problems.append(f"{field} differs between clips: {sorted(values)}")
    for path, info in infos.items():
        if info["tags"]:
            problems.append(f"{path.name}: tags {info['tags']}")
        if info["streams"] != 1:
            problems.append(f"{path.name}: {info['streams']} streams")
        markers = header_markers(path)
        if markers:
            problems.append(f"{path.name}: header markers {markers}")
        loudness = measure_loudness(path)
        if abs(loudness - target_lufs) > tolerance_db:
            problems.append(f"{path.name}: loudness {loudness} LUFS, target {target_lufs}")
    return problems
