"""MIDI -> audio with FluidSynth's library, in this process: the same samples as the CLI.

``fluidsynth -F out.raw`` (the path composer.render.audio used to take) spends most of its time
starting up and reading the soundfont, for every clip. Here the soundfont is read once per process
and every clip gets a fresh synthesizer, configured as the CLI configures its fast renderer
(``-R 1 -C 0 -r 44100``, dynamic sample loading, the player timed by the samples), driven by the
same loop: render while the player plays. The samples are bit-identical to the CLI's (a test
checks it), so what a listener hears does not change.

A fresh synthesizer per clip, rather than one reset between clips, keeps the output independent of
what was rendered before (reverb state): the same MIDI always gives the same samples.

The library is found through ``FLUIDSYNTH_LIBRARY`` (environment variable BACHBOT_LIBFLUIDSYNTH,
else the Debian soname, installed with the ``fluidsynth`` package).
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import c_char_p, c_double, c_int, c_size_t, c_void_p
from pathlib import Path

import numpy as np

from composer.render.native import bind

FLUIDSYNTH_LIBRARY = os.environ.get("BACHBOT_LIBFLUIDSYNTH", "libfluidsynth.so.3")
BLOCK = 64  # FluidSynth's internal block (FLUID_BUFSIZE), and the CLI renderer's period
PLAYER_PLAYING = 1  # FLUID_PLAYER_PLAYING
LOG_LEVELS_SILENCED = (2, 3, 4)  # FLUID_WARN, FLUID_INFO, FLUID_DBG: the CLI ran with -q
FLUID_FAILED = -1


class SynthError(Exception):
    """The FluidSynth library or the soundfont cannot be used."""


def _bind(library: str) -> dict[str, ctypes._CFuncPtr]:
    """The few functions used, with their C signatures (fluidsynth/*.h, API 2.x)."""
    signatures = {
        "new_fluid_settings": (c_void_p,),
        "delete_fluid_settings": (None, c_void_p),
        "fluid_settings_setint": (c_int, c_void_p, c_char_p, c_int),
        "fluid_settings_setnum": (c_int, c_void_p, c_char_p, c_double),
        "fluid_settings_setstr": (c_int, c_void_p, c_char_p, c_char_p),
        "new_fluid_synth": (c_void_p, c_void_p),
        "delete_fluid_synth": (None, c_void_p),
        "fluid_synth_sfload": (c_int, c_void_p, c_char_p, c_int),
        "fluid_synth_get_sfont_by_id": (c_void_p, c_void_p, c_int),
        "fluid_synth_add_sfont": (c_int, c_void_p, c_void_p),
        "fluid_synth_remove_sfont": (c_int, c_void_p, c_void_p),
        "fluid_synth_program_change": (c_int, c_void_p, c_int, c_int),
        "fluid_synth_write_float": (
            c_int,
            c_void_p,
            c_int,
            c_void_p,
            c_int,
            c_int,
            c_void_p,
            c_int,
            c_int,
        ),
        "new_fluid_player": (c_void_p, c_void_p),
        "delete_fluid_player": (None, c_void_p),
        "fluid_player_add_mem": (c_int, c_void_p, c_void_p, c_size_t),
        "fluid_player_play": (c_int, c_void_p),
        "fluid_player_get_status": (c_int, c_void_p),
        "fluid_set_log_function": (c_void_p, c_int, c_void_p, c_void_p),
    }
    install = "with `apt-get install fluidsynth` (or point BACHBOT_LIBFLUIDSYNTH at it)"
    return bind(library, signatures, SynthError, "FluidSynth", install)


class _Soundfont:
    """One process's FluidSynth: the bound library and the soundfont, loaded once.

    The soundfont is loaded by a synthesizer kept for that purpose, with the organ selected so that
    its samples (loaded on demand) stay in memory; each clip's synthesizer borrows the soundfont.
    """

    def __init__(self, library: str, soundfont: Path, program: int, sample_rate: int) -> None:
        self.fs = _bind(library)
        for level in LOG_LEVELS_SILENCED:
            self.fs["fluid_set_log_function"](level, None, None)
        self.sample_rate = sample_rate
        self.pid = os.getpid()
        self.settings = self.new_settings()
        self.loader = self.fs["new_fluid_synth"](self.settings)
        if self.loader is None:
            raise SynthError("FluidSynth could not start a synthesizer")
        font_id = self.fs["fluid_synth_sfload"](self.loader, str(soundfont).encode(), 1)
        if font_id == FLUID_FAILED:
            raise SynthError(f"FluidSynth could not load the soundfont {str(soundfont)!r}")
        self.font = self.fs["fluid_synth_get_sfont_by_id"](self.loader, font_id)
        self.fs["fluid_synth_program_change"](self.loader, 0, program)  # keeps its samples loaded

    def new_settings(self) -> int:
        """The CLI's settings for ``-n -i -q -R 1 -C 0 -r RATE -o
        synth.dynamic-sample-loading=1 -F FILE`` (fast rendering sets the last two)."""
        settings = self.fs["new_fluid_settings"]()
        self.fs["fluid_settings_setnum"](settings, b"synth.sample-rate", float(self.sample_rate))
        self.fs["fluid_settings_setint"](settings, b"synth.reverb.active", 1)
        self.fs["fluid_settings_setint"](settings, b"synth.chorus.active", 0)
        self.fs["fluid_settings_setint"](settings, b"synth.dynamic-sample-loading", 1)
        self.fs["fluid_settings_setstr"](settings, b"player.timing-source", b"sample")
        self.fs["fluid_settings_setint"](settings, b"synth.lock-memory", 0)
        return settings

    def render(self, midi: bytes, certain: int, limit: int) -> np.ndarray:
        """Samples (n, 2) float32 of ``midi``, n <= ``limit``: rendered while the player plays.
        The first ``certain`` samples lie before the MIDI's end, where it surely does."""
        fs = self.fs
        settings = self.new_settings()
        synth = fs["new_fluid_synth"](settings)
        player = None
        try:
            if synth is None or fs["fluid_synth_add_sfont"](synth, self.font) == FLUID_FAILED:
                raise SynthError("FluidSynth could not start a synthesizer")
            player = fs["new_fluid_player"](synth)
            data = ctypes.create_string_buffer(midi, len(midi))
            if fs["fluid_player_add_mem"](player, data, len(midi)) == FLUID_FAILED:
                raise SynthError("FluidSynth could not read the MIDI data")
            fs["fluid_player_play"](player)
            out = np.zeros((limit, 2), dtype=np.float32)  # (samples, channels), interleaved
            write, status = fs["fluid_synth_write_float"], fs["fluid_player_get_status"]
            # Asked for more than one block per call, FluidSynth gives slightly different samples
            # (events land on other block boundaries), so it is asked block by block as the CLI
            # asks; the player's status only where it may have stopped (past ``certain``).
            base, row = out.ctypes.data, out.strides[0]
            done = 0
            while done + BLOCK <= min(certain, limit):
                address = base + done * row
                write(synth, BLOCK, address, 0, 2, address, 1, 2)
                done += BLOCK
            while done < limit and status(player) == PLAYER_PLAYING:
                step = min(BLOCK, limit - done)
                address = base + done * row
                write(synth, step, address, 0, 2, address, 1, 2)
                done += step
            return out[:done]
        finally:
            if player is not None:
                fs["delete_fluid_player"](player)
            if synth is not None:
                fs["fluid_synth_remove_sfont"](synth, self.font)  # borrowed: not freed with it
                fs["delete_fluid_synth"](synth)
            fs["delete_fluid_settings"](settings)


_lock = threading.Lock()  # one clip at a time per process: the soundfont is shared
_loaded: dict[tuple, _Soundfont] = {}


def synthesize_midi(
    midi: bytes,
    soundfont: Path,
    program: int,
    sample_rate: int,
    certain: int,
    limit: int,
) -> np.ndarray:
    """Raw FluidSynth output of MIDI file bytes, float32 samples shaped (n, 2), n <= ``limit``.

    ``certain``: samples before the MIDI's last event (the player cannot stop before it).
    """
    key = (FLUIDSYNTH_LIBRARY, str(soundfont), program, sample_rate)
    with _lock:
        loaded = _loaded.get(key)
        if loaded is None or loaded.pid != os.getpid():  # a forked worker loads its own
            loaded = _loaded[key] = _Soundfont(FLUIDSYNTH_LIBRARY, soundfont, program, sample_rate)
        return loaded.render(midi, certain, limit)
