"""Render a chorale: score -> MIDI -> audio (FluidSynth) -> MP3 (the score itself: render.svg).

The listening test is valid only if a listener cannot tell Bach from the model by anything but the
music, so real and generated chorales take exactly this one path, with every choice fixed here:

==================  ============================================================================
MIDI                four tracks S, A, T, B, each on its own channel; no track names, no text, no
                    key signature; one tempo event and the default 4/4 time signature only
instrument          General MIDI program 19 (0-based), "Church Organ": it sustains, so held and
                    tied notes stay audible to their end and every voice keeps sounding, and it
                    is the instrument chorales were accompanied with. A piano would decay and a
                    string ensemble would smear the sixteenths with its slow attack.
tempo               120 BPM (a quarter note is 0.5 s, a sixteenth frame 0.125 s), as BachBot
velocity            80 for every note
ties                merged: a tied chain sounds as one note (via composer.encoding)
repeated notes      a voice re-striking the pitch it just held is released 30 ms early, so a
                    repeated note is heard as two notes and a tie as one
fermatas            not lengthened. Duration must depend on the number of frames alone so that
                    two clips cut to the same frames last the same time; stretching fermata
                    chords would tie duration to how many fermatas the model wrote.
synthesis           FluidSynth CLI, FluidR3_GM soundfont (Debian fluid-soundfont-gm), 44.1 kHz
                    float, reverb on, chorus off, default gain
length              music length + 1.0 s of tail, exactly (padded or trimmed), the tail faded out
                    with a raised cosine so the release and reverb die away without a click
loudness            integrated loudness -16 LUFS (EBU R128 / BS.1770-4 gating), set by one
                    measured gain, no compression; the MP3 is decoded and measured again and
                    re-encoded if it lies more than 0.1 dB off (128 kbps coding loses ~0.44 dB,
                    which the first encode anticipates)
MP3                 libmp3lame, 44.1 kHz, stereo (the soundfont's organ and reverb are stereo),
                    128 kbps CBR, LAME quality 5; no ID3v1/ID3v2 tags, no Xing/LAME header,
                    metadata dropped; the same input gives the same bytes
file names          opaque and random (``opaque_name``) when the caller gives a directory
excerpts            cut in sixteenth frames (composer.render.excerpt), preferably right after a
                    fermata; equal frames give equal durations
==================  ============================================================================

External programs and the soundfont are found through module constants, which default to the
environment variables BACHBOT_FLUIDSYNTH, BACHBOT_SOUNDFONT and BACHBOT_FFMPEG, else to the Debian
locations. Every failure of theirs becomes a :class:`RenderError` that says what to install.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mido
import numpy as np
import pretty_midi
from music21 import stream
from scipy.io import wavfile

from composer.encoding import (
    FRAMES_PER_QUARTER,
    Chorale,
    EncodingError,
    tokens_to_chorale,
    tokens_to_score,
)
from composer.paths import opaque_name
from composer.render.excerpt import read_chorale
from composer.render.loudness import integrated_loudness

PROGRAM = 19  # General MIDI "Church Organ", 0-based
TEMPO_BPM = 120.0
VELOCITY = 80
REARTICULATION_GAP_S = 0.03
MIDI_RESOLUTION = 480  # ticks per quarter note; a sixteenth is 120 ticks exactly
SECONDS_PER_FRAME = 60.0 / TEMPO_BPM / FRAMES_PER_QUARTER

SAMPLE_RATE = 44100
CHANNELS = 2
MP3_BITRATE = "128k"
LAME_QUALITY = 5  # LAME's -q: 0 slowest/best .. 9 fastest; 5 "good speed", 30 % faster than 3
LOUDNESS_TARGET_LUFS = -16.0
LOUDNESS_TOLERANCE_DB = 0.1  # the leak test allows 0.5 dB
MP3_LOUDNESS_LOSS_DB = 0.44  # measured: 128 kbps LAME takes this much away, on every clip
MAX_LOUDNESS_PASSES = 4
TAIL_S = 1.0
FADE_S = 1.0

FLUIDSYNTH = os.environ.get("BACHBOT_FLUIDSYNTH", "fluidsynth")
SOUNDFONT = os.environ.get("BACHBOT_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2")
FFMPEG = os.environ.get("BACHBOT_FFMPEG", "ffmpeg")
SUBPROCESS_TIMEOUT_S = 300

ScoreLike = stream.Score | Sequence[str]
# What can be rendered to sound: frames already (the currency of the batch path: no score is
# built for audio), a score (read into frames), or a token stream (decoded into frames).
ChoraleLike = Chorale | ScoreLike


class RenderError(Exception):
    """A chorale that cannot be rendered, or a missing or failing external tool."""


# --- inputs --------------------------------------------------------------------------------------


def as_score(source: ScoreLike) -> stream.Score:
    """A score as is, or a token stream decoded with composer.encoding.tokens_to_score."""
    if isinstance(source, stream.Score):
        return source
    if isinstance(source, str | stream.Stream):
        kind = type(source).__name__
        raise RenderError(f"expected a four-part Score or a list of tokens, got a {kind}")
    try:
        return tokens_to_score(list(source))
    except EncodingError as error:
        raise RenderError(f"cannot decode tokens: {error}") from error


def as_chorale(source: ChoraleLike) -> Chorale:
    """The frames to render: a Chorale as is, a score read (composer.render.excerpt.read_chorale),
    a token stream decoded (composer.encoding.tokens_to_chorale)."""
    if isinstance(source, Chorale):
        return source
    try:
        if isinstance(source, stream.Score):
            return read_chorale(source)
        if isinstance(source, str | stream.Stream):
            kind = type(source).__name__
            raise RenderError(f"expected a Chorale, a four-part Score or tokens, got a {kind}")
        return tokens_to_chorale(list(source))
    except EncodingError as error:
        raise RenderError(f"cannot render this chorale: {error}") from error


# --- frames -> MIDI ------------------------------------------------------------------------------


def score_to_midi(source: ChoraleLike) -> pretty_midi.PrettyMIDI:
    """Four instruments (S, A, T, B) on one program, fixed tempo and velocity, ties merged."""
    return _chorale_to_midi(as_chorale(source))


def _chorale_to_midi(chorale: Chorale) -> pretty_midi.PrettyMIDI:
    midi = pretty_midi.PrettyMIDI(resolution=MIDI_RESOLUTION, initial_tempo=TEMPO_BPM)
    for voice in chorale.voices:
        instrument = pretty_midi.Instrument(program=PROGRAM)  # no name: no track_name event
        for i, n in enumerate(voice):
            end = n.end * SECONDS_PER_FRAME
            following = voice[i + 1] if i + 1 < len(voice) else None
            if following is not None and following.start == n.end and following.midi == n.midi:
                end -= REARTICULATION_GAP_S
            instrument.notes.append(
                pretty_midi.Note(VELOCITY, n.midi, n.start * SECONDS_PER_FRAME, end)
            )
        midi.instruments.append(instrument)
    return midi


def _midi_file(midi: pretty_midi.PrettyMIDI, length_s: float) -> mido.MidiFile:
    """``midi`` as a mido file whose every track ends at ``length_s``: the file's length is the
    chorale's, trailing rests included (pretty_midi would end each track one tick after its
    last event)."""
    buffer = io.BytesIO()
    midi.write(buffer)
    buffer.seek(0)
    file = mido.MidiFile(file=buffer)
    target = midi.time_to_tick(length_s)
    for track in file.tracks:
        last = track[-1]
        position = sum(message.time for message in track) - last.time  # before end_of_track
        if last.type == "end_of_track":
            last.time = max(0, target - position)
    return file


def write_midi(source: ChoraleLike, path: str | Path) -> Path:
    """Write the MIDI of a chorale; the file's length is the chorale's, trailing rests included."""
    chorale = as_chorale(source)
    path = Path(path)
    _midi_file(_chorale_to_midi(chorale), chorale.frames * SECONDS_PER_FRAME).save(str(path))
    return path


# --- external programs ---------------------------------------------------------------------------


def _find_program(program: str, package: str, variable: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise RenderError(
            f"{program!r} was not found; install it with `apt-get install {package}` "
            f"(or point {variable} at the program)"
        )
    return found


def _find_soundfont(soundfont: str | Path) -> Path:
    path = Path(soundfont)
    if not path.is_file():
        raise RenderError(
            f"soundfont {str(path)!r} not found; install it with "
            f"`apt-get install fluid-soundfont-gm` (or point BACHBOT_SOUNDFONT at an .sf2 file)"
        )
    # FluidSynth skips a file that is not a SoundFont and quietly loads its default one instead.
    with path.open("rb") as file:
        header = file.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise RenderError(
            f"{str(path)!r} is not a SoundFont 2 file; install the General MIDI one with "
            f"`apt-get install fluid-soundfont-gm` (or point BACHBOT_SOUNDFONT at an .sf2 file)"
        )
    return path


def _run(command: list[str], what: str) -> bytes:
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


def _partial_path(target: Path) -> Path:
    """A hidden name next to ``target`` to write to first: a reader never sees half a clip."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")


def _publish(source: Path, target: Path) -> None:
    """Move a finished file into place atomically (possibly across file systems)."""
    partial = _partial_path(target)
    try:
        shutil.move(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# --- MIDI -> audio -------------------------------------------------------------------------------


def synthesize(
    midi_path: str | Path, fluidsynth: str | None = None, soundfont: str | Path | None = None
) -> np.ndarray:
    """Raw FluidSynth output of a MIDI file: float32 samples shaped (n, CHANNELS)."""
    program = _find_program(fluidsynth or FLUIDSYNTH, "fluidsynth", "BACHBOT_FLUIDSYNTH")
    font = _find_soundfont(soundfont or SOUNDFONT)
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        raw = Path(tmp) / "out.raw"
        command = [
            program, "-n", "-i", "-q",  # no MIDI input, no shell, no banner
            "-R", "1", "-C", "0",  # reverb on, chorus off
            "-r", str(SAMPLE_RATE),
            "-o", "synth.dynamic-sample-loading=1",  # load only the organ's samples: ~0.2 s saved
            "-T", "raw", "-O", "float", "-E", "little",
            "-F", str(raw), str(font), str(midi_path),
        ]  # fmt: skip
        _run(command, "FluidSynth")
        if not raw.is_file():
            raise RenderError("FluidSynth wrote no audio")
        samples = np.fromfile(raw, dtype="<f4")
    return samples[: samples.size - samples.size % CHANNELS].reshape(-1, CHANNELS)


def finish_audio(
    samples: np.ndarray, music_s: float, target_lufs: float = LOUDNESS_TARGET_LUFS
) -> np.ndarray:
    """Fixed length, fade-out and loudness: float32 samples ready to encode."""
    total = round((music_s + TAIL_S) * SAMPLE_RATE)
    audio = np.zeros((total, CHANNELS), dtype=np.float32)
    kept = min(total, samples.shape[0])
    audio[:kept] = samples[:kept]
    fade = round(FADE_S * SAMPLE_RATE)
    ramp = 0.5 + 0.5 * np.cos(np.linspace(0, math.pi, fade, dtype=np.float32))
    audio[total - fade :] *= ramp[:, None]
    loudness = integrated_loudness(audio, SAMPLE_RATE)
    if not math.isfinite(loudness):
        raise RenderError(
            "the synthesized audio is silent; is the soundfont a General MIDI .sf2 "
            "(`apt-get install fluid-soundfont-gm`)?"
        )
    audio *= np.float32(10 ** ((target_lufs - loudness) / 20))
    return audio


def _music_seconds(midi_path: str | Path) -> float:
    try:
        return mido.MidiFile(str(midi_path)).length
    except (OSError, ValueError, EOFError) as error:
        raise RenderError(f"cannot read MIDI file {str(midi_path)!r}: {error}") from error


def midi_to_wav(
    midi_path: str | Path,
    wav_path: str | Path,
    fluidsynth: str | None = None,
    soundfont: str | Path | None = None,
) -> Path:
    """Synthesize a MIDI file to a finished 32-bit float WAV (length, fade and loudness fixed)."""
    audio = finish_audio(synthesize(midi_path, fluidsynth, soundfont), _music_seconds(midi_path))
    wav_path = Path(wav_path)
    wavfile.write(wav_path, SAMPLE_RATE, audio)
    return wav_path


# --- audio -> MP3 --------------------------------------------------------------------------------


def wav_to_mp3(wav_path: str | Path, mp3_path: str | Path, ffmpeg: str | None = None) -> Path:
    """Encode a WAV as it is (no level change) to the one MP3 format, with no metadata at all."""
    program = _find_program(ffmpeg or FFMPEG, "ffmpeg", "BACHBOT_FFMPEG")
    mp3_path = Path(mp3_path)
    partial = _partial_path(mp3_path)
    command = [
        program, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", str(wav_path),
        "-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1",
        "-c:a", "libmp3lame", "-b:a", MP3_BITRATE, "-compression_level", str(LAME_QUALITY),
        "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS),
        "-write_xing", "0",  # the Xing/LAME frame names the encoder and carries per-file fields
        "-id3v2_version", "0", "-write_id3v1", "0",  # no tags, hence no "encoder" tag
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(partial),
    ]  # fmt: skip
    try:
        _run(command, "ffmpeg")
        os.replace(partial, mp3_path)
    finally:
        partial.unlink(missing_ok=True)
    return mp3_path


# --- the whole path ------------------------------------------------------------------------------


def _output_path(out: str | Path, suffix: str) -> Path:
    """``out`` itself, or a fresh opaque name inside ``out`` when it is a directory."""
    out = Path(out)
    return out / opaque_name(suffix) if out.is_dir() else out


def render_wav(source: ChoraleLike, out: str | Path) -> Path:
    """Render a chorale to a finished WAV; ``out`` may be a directory (opaque name)."""
    target = _output_path(out, ".wav")
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        midi_path = write_midi(source, Path(tmp) / "clip.mid")
        return midi_to_wav(midi_path, target)


def decode_mp3(path: str | Path, ffmpeg: str | None = None) -> np.ndarray:
    """Decode an audio file with ffmpeg to float32 samples shaped (n, CHANNELS)."""
    program = _find_program(ffmpeg or FFMPEG, "ffmpeg", "BACHBOT_FFMPEG")
    command = [
        program, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
        "-f", "f32le", "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip
    raw = _run(command, "ffmpeg (decoding)")
    samples = np.frombuffer(raw, dtype="<f4")
    return samples[: samples.size - samples.size % CHANNELS].reshape(-1, CHANNELS)


def render_mp3(source: ChoraleLike, out: str | Path) -> Path:
    """Render a chorale to MP3 by the one fixed path; ``out`` may be a directory (opaque name).

    MP3 coding at 128 kbps takes some energy away (about 0.4 dB on this organ), so the finished
    MP3 is decoded and measured, and re-encoded with a corrected gain until it lies within
    ``LOUDNESS_TOLERANCE_DB`` of the target. The first encode aims ``MP3_LOUDNESS_LOSS_DB`` high,
    so one encode is usually enough.
    """
    target = _output_path(out, ".mp3")
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        midi_path = write_midi(source, Path(tmp) / "clip.mid")
        music_s = _music_seconds(midi_path)
        aim = LOUDNESS_TARGET_LUFS + MP3_LOUDNESS_LOSS_DB
        audio = finish_audio(synthesize(midi_path), music_s, target_lufs=aim)
        wav_path, mp3_path = Path(tmp) / "clip.wav", Path(tmp) / "clip.mp3"
        for _ in range(MAX_LOUDNESS_PASSES):
            wavfile.write(wav_path, SAMPLE_RATE, audio)
            wav_to_mp3(wav_path, mp3_path)
            error = LOUDNESS_TARGET_LUFS - integrated_loudness(decode_mp3(mp3_path), SAMPLE_RATE)
            if abs(error) <= LOUDNESS_TOLERANCE_DB:
                break
            audio *= np.float32(10 ** (error / 20))
        else:
            raise RenderError(f"MP3 loudness stayed {error:+.2f} dB off the target")
        _publish(mp3_path, target)
    return target
