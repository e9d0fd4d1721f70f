"""Which voices a harmonization blanks, and where they sit in a token stream.

``MASKS`` (from composer.voices, where the survey reads them too) are the six masks that
``eval-harmonization`` scores and the harmonizer is validated on (S, A, T, B, AT, ATB: one voice,
the inner pair, all under the melody). Fine-tuning also trains on the other proper subsets
(``ALL_MASKS``).
"""

from __future__ import annotations

from collections.abc import Sequence

from composer.encoding import BLANK, END, FERMATA, FRAME_END, START, is_voice_token
from composer.voices import VOICES

# Every non-empty proper subset of the four voices, as voice indices.
ALL_MASKS = [[v for v in range(4) if bits >> v & 1] for bits in range(1, 15)]  # 14 masks


class HarmonizationError(ValueError):
    """A harmonization input that cannot be filled (bad mask, malformed stream, bad settings)."""


def voice_indices(voices: str) -> list[int]:
    """``"AT" -> [1, 2]``; refuses an empty mask, all four voices, and unknown letters."""
    letters = voices.upper()
    unknown = sorted(set(letters) - set(VOICES))
    if unknown:
        raise HarmonizationError(f"unknown voice(s) {unknown}: use letters from S, A, T, B")
    if len(set(letters)) != len(letters):
        raise HarmonizationError(f"voice mask {voices!r} names a voice twice")
    if not letters:
        raise HarmonizationError("the mask names no voice: there is nothing to fill")
    if len(letters) == 4:
        raise HarmonizationError(
            "masking all four voices leaves nothing to harmonize against "
            "(that is free composition: python -m composer sample)"
        )
    return sorted(VOICES.index(v) for v in letters)


def frame_layout(tokens: Sequence[str]) -> list[list[int]]:
    """Per frame, the stream positions of its four voice slots (S, A, T, B).

    Strict, unlike decoding: a harmonization input must be ``START``, whole frames, ``END``.
    """
    if len(tokens) < 2 or tokens[0] != START or tokens[-1] != END:
        raise HarmonizationError("the stream must begin with START and end with END")
    frames: list[list[int]] = []
    slots: list[int] = []
    fermata = False  # this frame opened with (.)
    for position in range(1, len(tokens) - 1):
        token = tokens[position]
        if token == FERMATA and not slots and not fermata:
            fermata = True
        elif token == FRAME_END and len(slots) == 4:
            frames.append(slots)
            slots, fermata = [], False
        elif (token == BLANK or is_voice_token(token)) and len(slots) < 4:
            slots.append(position)
        else:
            raise HarmonizationError(f"frame {len(frames)}: unexpected token {token!r}")
    if slots or not frames:
        raise HarmonizationError("the stream must hold whole frames, at least one")
    return frames


def mask_tokens(tokens: Sequence[str], voices: str = "ATB") -> list[str]:
    """``tokens`` with the named voices replaced by ``BLANK`` in every frame."""
    indices = voice_indices(voices)
    masked = list(tokens)
    for slots in frame_layout(tokens):
        for v in indices:
            masked[slots[v]] = BLANK
    return masked
