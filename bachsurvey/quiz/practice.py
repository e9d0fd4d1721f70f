"""The practice pair and the sound check: static files every participant hears before the quiz.

The practice pair is one harmonization question (the network's alto, tenor and bass under
Bach's soprano of PRACTICE_CHORALE) rendered once by ``python manage.py build_practice`` into
static/quiz/practice/. It is marked as practice on the page and never stored: no participant,
assignment or answer is written for it, so no statistic or export can count it. Its answer is
public (it is in this file), so its chorale is kept out of every quiz (services.draw_from): a
participant who learnt Bach's version here must not meet it again as a question.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static

from bachsurvey.models import Side

PRACTICE_CHORALE = "bwv253"  # a corpus id, as Chorale.source and Drawable.chorales hold it
PRACTICE_TITLE = "Ach bleib bei uns, Herr Jesu Christ"  # music21's title for it (composer.titles)
PRACTICE_CATEGORY = "ATB"
PRACTICE_BACH_SIDE = "B"
PRACTICE_DIR = "quiz/practice"  # under static/
SOUND_CHECK = "quiz/sound-check.mp3"  # a C major chord, two seconds, on the quiz's organ


def practice_payload() -> dict[str, Any]:
    """What the page needs to play the practice pair and reveal its answer locally."""
    return {
        "category": PRACTICE_CATEGORY,
        "bach": PRACTICE_BACH_SIDE,
        "chorale": {"bwv": PRACTICE_CHORALE[3:], "title": PRACTICE_TITLE},
        "clips": [
            {"label": side, "audio_url": static(f"{PRACTICE_DIR}/{side.lower()}.mp3")}
            for side in Side.values
        ],
        "scores": [
            {"label": side, "score_url": static(f"{PRACTICE_DIR}/{side.lower()}.svg")}
            for side in Side.values
        ],
        "sound_check": static(SOUND_CHECK),
    }
