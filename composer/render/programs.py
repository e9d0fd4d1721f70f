"""The external programs: FluidSynth's CLI and ffmpeg, with the settings of composer.render.audio.

Clips are rendered in process (composer.render.synth, composer.render.mp3); these commands are
what that path reproduces sample for sample and byte for byte, so the tests and the render
benchmark run them to check it and to measure it against them. ffmpeg also decodes MP3s for the
audits and the leak check: a decoder independent of the encoder.

The programs are found through composer.render.audio's ``FLUIDSYNTH`` and ``FFMPEG``. Every
failure of theirs becomes a RenderError that says what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from composer.render import audio
from composer.render.audio import RenderError

SUBPROCESS_TIMEOUT_S = 300


def find_program(program: str, package: str, variable: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise RenderError(
            f"{program!r} was not found; install it with `apt-get install {package}` "
            f"(or point {variable} at the program)"
        )
    return found


def run(command: list[str], what: str) -> bytes:
    """Run an external program; its stdout, or a RenderError with the tail of its stderr."""
    try:
        result = subprocess.run(
            command, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{what} took longer than {SUBPROCESS_TIMEOUT_S} s") from None
    except OSError as error:
        raise RenderError(f"{what} could not be started: {error}") from None
    if result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace").strip()[-1500:]
        raise RenderError(f"{what} failed (exit status {result.returncode}):\n{tail}")
    return result.stdout


def fluidsynth_command(midi_path: str | Path, raw_path: str | Path) -> list[str]:
    """FluidSynth rendering a MIDI file to raw little-endian float samples, as the table says."""
    program = find_program(audio.FLUIDSYNTH, "fluidsynth", "BACHBOT_FLUIDSYNTH")
    font = audio.find_soundfont(audio.SOUNDFONT)
    return [
        program, "-n", "-i", "-q",  # no MIDI input, no shell, no banner
        "-R", "1", "-C", "0",  # reverb on, chorus off
        "-r", str(audio.SAMPLE_RATE),
        "-o", "synth.dynamic-sample-loading=1",  # load only the organ's samples
        "-T", "raw", "-O", "float", "-E", "little",
        "-F", str(raw_path), str(font), str(midi_path),
    ]  # fmt: skip


def synthesize(midi_path: str | Path) -> np.ndarray:
    """Raw output of the FluidSynth program for a MIDI file: float32 samples (n, CHANNELS)."""
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        raw = Path(tmp) / "out.raw"
        run(fluidsynth_command(midi_path, raw), "FluidSynth")
        if not raw.is_file():
            raise RenderError("FluidSynth wrote no audio")
        samples = np.fromfile(raw, dtype="<f4")
    channels = audio.CHANNELS
    return samples[: samples.size - samples.size % channels].reshape(-1, channels)


def mp3_command(wav_path: str | Path, mp3_path: str | Path) -> list[str]:
    """ffmpeg encoding a WAV as it is (no level change) to the one MP3 format, no metadata."""
    program = find_program(audio.FFMPEG, "ffmpeg", "BACHBOT_FFMPEG")
    return [
        program, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", str(wav_path),
        "-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1",
        "-c:a", "libmp3lame", "-b:a", f"{audio.MP3_KBPS}k",
        "-compression_level", str(audio.LAME_QUALITY),
        "-ar", str(audio.SAMPLE_RATE), "-ac", str(audio.CHANNELS),
        "-write_xing", "0",  # the Xing/LAME frame names the encoder and carries per-file fields
        "-id3v2_version", "0", "-write_id3v1", "0",  # no tags, hence no "encoder" tag
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(mp3_path),
    ]  # fmt: skip


def wav_to_mp3(wav_path: str | Path, mp3_path: str | Path) -> Path:
    """Encode a WAV with ffmpeg to the one MP3 format; a reader never sees half a file."""
    mp3_path = Path(mp3_path)
    partial = audio.partial_path(mp3_path)
    try:
        run(mp3_command(wav_path, partial), "ffmpeg")
        os.replace(partial, mp3_path)
    finally:
        partial.unlink(missing_ok=True)
    return mp3_path


def decode_mp3(path: str | Path) -> np.ndarray:
    """Decode an audio file with ffmpeg to float32 samples shaped (n, CHANNELS)."""
    program = find_program(audio.FFMPEG, "ffmpeg", "BACHBOT_FFMPEG")
    command = [
        program, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
        "-f", "f32le", "-ac", str(audio.CHANNELS), "-ar", str(audio.SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip
    samples = np.frombuffer(run(command, "ffmpeg (decoding)"), dtype="<f4")
    channels = audio.CHANNELS
    return samples[: samples.size - samples.size % channels].reshape(-1, channels)
