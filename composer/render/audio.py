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
synthesis           FluidSynth, FluidR3_GM soundfont (Debian fluid-soundfont-gm), 44.1 kHz
                    float, reverb on, chorus off, default gain; its library in this process
                    (composer.render.synth), the same samples as its CLI
length              music length + 1.0 s of tail, exactly (padded or trimmed), the tail faded out
                    with a raised cosine so the release and reverb die away without a click
loudness            integrated loudness -16 LUFS (EBU R128 / BS.1770-4 gating), set by one
                    measured gain, no compression; the MP3 is decoded and measured again and
                    re-encoded if it lies more than 0.1 dB off (128 kbps coding loses ~0.44 dB,
                    which the first encode anticipates)
MP3                 libmp3lame, 44.1 kHz, stereo (the soundfont's organ and reverb are stereo),
                    128 kbps CBR, LAME quality 5; no ID3v1/ID3v2 tags, no Xing/LAME header,
                    metadata dropped; the same input gives the same bytes. LAME's library in
                    this process (composer.render.mp3), the bytes ffmpeg writes
file names          opaque and random (``opaque_name``) when the caller gives a directory
excerpts            cut in sixteenth frames (composer.render.excerpt), preferably right after a
                    fermata; equal frames give equal durations
==================  ============================================================================

The soundfont, the libraries (composer.render.synth, composer.render.mp3) and the programs that
they stand in for (composer.render.programs: the reference, and ffmpeg for independent decoding)
are found through module constants, which default to the environment variables
BACHBOT_SOUNDFONT, BACHBOT_LIBFLUIDSYNTH, BACHBOT_LIBMP3LAME, BACHBOT_FLUIDSYNTH and
BACHBOT_FFMPEG, else to the Debian locations. Every failure of theirs becomes a
:class:`RenderError` that says what to install.
"""

from __future__ import annotations

import io
import math
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

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
from composer.render import mp3, synth
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
MP3_KBPS = 128
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

T = TypeVar("T")
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


# --- MIDI -> audio ------------------------------------------------------------------------------


def find_soundfont(soundfont: str | Path) -> Path:
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


def synthesize_chorale(chorale: Chorale) -> tuple[np.ndarray, float]:
    """FluidSynth's samples (n, CHANNELS) of the chorale's MIDI, as many as finish_audio keeps,
    and the music's length in seconds (the MIDI file's, as finish_audio wants it)."""
    file = _midi_file(_chorale_to_midi(chorale), chorale.frames * SECONDS_PER_FRAME)
    buffer = io.BytesIO()
    file.save(file=buffer)
    music_s = file.length
    kept = round((music_s + TAIL_S) * SAMPLE_RATE)
    certain = max(0, int(music_s * SAMPLE_RATE) - SAMPLE_RATE)  # the player surely plays there
    try:
        samples = synth.synthesize_midi(
            buffer.getvalue(), find_soundfont(SOUNDFONT), PROGRAM, SAMPLE_RATE, certain, kept
        )
    except synth.SynthError as error:
        raise RenderError(str(error)) from None
    return samples, music_s


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


# --- audio -> MP3 --------------------------------------------------------------------------------


def encode_on_target(audio: np.ndarray) -> bytes:
    """MP3 bytes of finished ``audio`` whose loudness, measured on the MP3, is on target.

    MP3 coding at 128 kbps takes some energy away (about 0.4 dB on this organ), so the MP3 is
    decoded and measured, and encoded again with a corrected gain until it lies within
    ``LOUDNESS_TOLERANCE_DB`` of the target. Aim the audio ``MP3_LOUDNESS_LOSS_DB`` high and one
    encode is usually enough.
    """
    for _ in range(MAX_LOUDNESS_PASSES):
        try:
            data = mp3.encode(audio, SAMPLE_RATE, MP3_KBPS, LAME_QUALITY)
            error = LOUDNESS_TARGET_LUFS - integrated_loudness(mp3.decode(data), SAMPLE_RATE)
        except mp3.Mp3Error as failure:
            raise RenderError(str(failure)) from None
        if abs(error) <= LOUDNESS_TOLERANCE_DB:
            return data
        audio = audio * np.float32(10 ** (error / 20))
    raise RenderError(f"MP3 loudness stayed {error:+.2f} dB off the target")


def partial_path(target: Path) -> Path:
    """A hidden name next to ``target`` to write to first: a reader never sees half a clip."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")


def _publish(data: bytes, target: Path) -> None:
    """Write a finished file into place atomically."""
    partial = partial_path(target)
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# --- the whole path ------------------------------------------------------------------------------


def _output_path(out: str | Path, suffix: str) -> Path:
    """``out`` itself, or a fresh opaque name inside ``out`` when it is a directory."""
    out = Path(out)
    return out / opaque_name(suffix) if out.is_dir() else out


def render_wav(source: ChoraleLike, out: str | Path) -> Path:
    """Render a chorale to a finished 32-bit float WAV (length, fade and loudness fixed);
    ``out`` may be a directory (opaque name)."""
    target = _output_path(out, ".wav")
    wavfile.write(target, SAMPLE_RATE, finish_audio(*synthesize_chorale(as_chorale(source))))
    return target


def render_mp3(source: ChoraleLike, out: str | Path) -> Path:
    """Render a chorale to MP3 by the one fixed path; ``out`` may be a directory (opaque name).

    One pass in memory: frames -> MIDI -> FluidSynth -> length, fade, loudness -> MP3, checked
    on its own decode (encode_on_target); only the finished MP3 touches the disk.
    """
    return render_mp3_alongside(source, out, lambda: None)[0]


def render_mp3_alongside(
    source: ChoraleLike, out: str | Path, work: Callable[[], T]
) -> tuple[Path, T]:
    """render_mp3, with ``work`` done in this thread while another encodes: LAME's one long call
    releases the GIL, so Python work such as engraving the clip's score takes no extra time
    where a core is free. FluidSynth, asked block by block, runs before, alone."""
    target = _output_path(out, ".mp3")
    samples, music_s = synthesize_chorale(as_chorale(source))
    aim = LOUDNESS_TARGET_LUFS + MP3_LOUDNESS_LOSS_DB
    finished = finish_audio(samples, music_s, target_lufs=aim)
    with ThreadPoolExecutor(1, thread_name_prefix="mp3") as pool:
        encoded = pool.submit(encode_on_target, finished)
        done = work()
        data = encoded.result()
    _publish(data, target)
    return target, done
