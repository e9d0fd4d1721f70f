"""Samples <-> MP3 with the LAME library, in this process: the bytes ffmpeg's libmp3lame writes.

``ffmpeg -c:a libmp3lame`` hands LAME planar float samples scaled to 16-bit range and sets a few
parameters; doing exactly that here (``encode``) gives the same bytes as the ffmpeg command with
the settings of composer.render.audio's table (a test checks it), without starting ffmpeg twice
per clip. ``decode`` reads an MP3 back with LAME's own decoder (mpglib, 16-bit output) for the
loudness check: the encode and its verification share one library and one in-memory decode.

The library is found through ``LAME_LIBRARY`` (environment variable BACHBOT_LIBMP3LAME, else the
Debian soname, installed with ``ffmpeg``'s codecs or ``apt-get install libmp3lame0``).
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_int, c_size_t, c_void_p
from functools import cache

import numpy as np

from composer.render.native import bind

LAME_LIBRARY = os.environ.get("BACHBOT_LIBMP3LAME", "libmp3lame.so.0")
JOINT_STEREO = 1  # MPEG_mode_e; ffmpeg's libmp3lame asks for joint stereo on two channels
FULL_SCALE = 32768.0  # ffmpeg scales float samples by this before lame_encode_buffer_float
FRAME_SAMPLES = 1152  # samples per channel in an MPEG-1 Layer III frame


class Mp3Error(Exception):
    """The LAME library is missing, or it refused to encode or decode."""


@cache
def _lame(library: str) -> dict[str, ctypes._CFuncPtr]:
    """The functions used, with their C signatures (lame.h, LAME 3.100)."""
    signatures = {
        "lame_init": (c_void_p,),
        "lame_init_params": (c_int, c_void_p),
        "lame_close": (c_int, c_void_p),
        "lame_encode_buffer_float": (c_int, c_void_p, c_void_p, c_void_p, c_int, c_void_p, c_int),
        "lame_encode_flush": (c_int, c_void_p, c_void_p, c_int),
        "hip_decode_init": (c_void_p,),
        "hip_decode_exit": (c_int, c_void_p),
        "hip_decode1": (c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_void_p),
    }
    setters = (
        "num_channels", "mode", "in_samplerate", "out_samplerate", "quality", "brate",
        "bWriteVbrTag", "disable_reservoir",
    )  # fmt: skip
    signatures |= {f"lame_set_{name}": (c_int, c_void_p, c_int) for name in setters}
    install = "with `apt-get install libmp3lame0` (or point BACHBOT_LIBMP3LAME at it)"
    return bind(library, signatures, Mp3Error, "LAME", install)


def encode(samples: np.ndarray, sample_rate: int, kbps: int, quality: int) -> bytes:
    """Stereo float32 samples (n, 2) as CBR MP3 bytes: no tags, no Xing/LAME frame.

    The calls and their order are ffmpeg 5.1's (libavcodec/libmp3lame.c) for ``-c:a libmp3lame
    -b:a {kbps}k -compression_level {quality} -write_xing 0``.
    """
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise Mp3Error(f"expected stereo samples shaped (n, 2), got {samples.shape}")
    lame = _lame(LAME_LIBRARY)
    # Planar channels scaled to 16-bit range, as ffmpeg's vector_fmul_scalar does (exact: x 2^15).
    left = np.ascontiguousarray(samples[:, 0], dtype=np.float32) * np.float32(FULL_SCALE)
    right = np.ascontiguousarray(samples[:, 1], dtype=np.float32) * np.float32(FULL_SCALE)
    n = samples.shape[0]
    out = np.empty(int(1.25 * n) + 7200, dtype=np.uint8)  # lame.h's worst case for one call
    handle = lame["lame_init"]()
    if handle is None:
        raise Mp3Error("LAME could not start an encoder")
    try:
        settings = {
            "num_channels": 2, "mode": JOINT_STEREO, "in_samplerate": sample_rate,
            "out_samplerate": sample_rate, "quality": quality, "brate": kbps,
            "bWriteVbrTag": 0, "disable_reservoir": 0,
        }  # fmt: skip
        for name, value in settings.items():
            lame[f"lame_set_{name}"](handle, value)
        if lame["lame_init_params"](handle) < 0:
            raise Mp3Error(f"LAME refused the settings {settings}")
        written = lame["lame_encode_buffer_float"](
            handle, left.ctypes.data, right.ctypes.data, n, out.ctypes.data, out.size
        )
        if written < 0:
            raise Mp3Error(f"LAME failed to encode (error {written})")
        flushed = lame["lame_encode_flush"](handle, out.ctypes.data + written, out.size - written)
        if flushed < 0:
            raise Mp3Error(f"LAME failed to finish the stream (error {flushed})")
    finally:
        lame["lame_close"](handle)
    return out[: written + flushed].tobytes()


def decode(data: bytes) -> np.ndarray:
    """Stereo MP3 bytes as float32 samples shaped (n, 2), in [-1, 1)."""
    lame = _lame(LAME_LIBRARY)
    handle = lame["hip_decode_init"]()
    if handle is None:
        raise Mp3Error("LAME could not start a decoder")
    pcm = np.empty((2, FRAME_SAMPLES), dtype=np.int16)  # (channels, samples) of one frame
    frames: list[np.ndarray] = []
    source = ctypes.create_string_buffer(bytes(data), len(data))
    size, idle = len(data), 0
    try:
        # All bytes go in with the first call; each call then returns at most one frame. 0 means
        # "need more data", except once by design: the very first header is parsed alone. So two
        # zeros in a row, with nothing left to give, end the stream; -1 is an error.
        while idle < 2:
            got = lame["hip_decode1"](handle, source, size, pcm[0].ctypes.data, pcm[1].ctypes.data)
            size = 0
            if got < 0:
                raise Mp3Error("the MP3 data could not be decoded")
            idle = idle + 1 if got == 0 else 0
            if got:
                frames.append(pcm[:, :got].T.copy())
    finally:
        lame["hip_decode_exit"](handle)
    if not frames:
        raise Mp3Error("the MP3 data holds no audio")
    return np.concatenate(frames).astype(np.float32) / np.float32(FULL_SCALE)
