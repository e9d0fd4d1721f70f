"""The four voices and what the model may write of them: names only, without music21 or torch,
so the survey's models and statistics read the same ones as the composer.

A harmonization blanks one of ``MASKS`` (one voice, the inner pair, or all under the melody) and
the model fills it; free composition (``FREE``) writes all four. The survey's question
categories are these seven (``CATEGORIES``).
"""

from __future__ import annotations

VOICES = ("S", "A", "T", "B")
MASKS = ("S", "A", "T", "B", "AT", "ATB")
FREE = "SATB"
CATEGORIES = (*MASKS, FREE)
