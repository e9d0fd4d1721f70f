"""What the harmonizer's task does: harmonize a request's melody and make its files.

The melody was checked when the request came in; it is read again here (a few milliseconds) from
the row, so the task needs nothing but the id. The files go to one folder per request under
MEDIA_ROOT: the score drawn as SVG with the network's voices in colour, the audio by the quiz's
own path (composer.render.audio: frames -> MIDI -> FluidSynth -> MP3), and the score as MusicXML
and MIDI to download. The model is loaded once per worker process and kept.

A melody the composer refuses after all, or any failure, leaves the row failed with a message
for the visitor (a traceback goes to the log, never to the page).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bachsurvey.generation.music import load_model
from bachsurvey.harmonize.expiry import folder_of
from bachsurvey.harmonize.payload import melody_bytes
from bachsurvey.models import Harmonization

logger = logging.getLogger(__name__)

# One page as wide as A4 portrait, as tall as the music: systems wrap, so it reads on a phone.
SVG_OPTIONS = {"pageHeight": 60000, "adjustPageHeight": True, "breaks": "auto"}
FILES = {"score": "score.svg", "audio": "audio.mp3", "midi": "harmonization.mid"}
FILES["musicxml"] = "harmonization.musicxml"
FAILED = "the harmonizer failed on this melody; please try again, or try another"


@functools.lru_cache(maxsize=2)
def _model(path: str) -> Any:
    return load_model(path, settings.GENERATION_DEVICE, settings.GENERATION_TORCH_THREADS)


def run(harmonization_id: str) -> str:
    """Harmonize one request, unless it is done, failed or gone; returns its status."""
    with transaction.atomic():
        row = Harmonization.objects.select_for_update().filter(pk=harmonization_id).first()
        if row is None or row.status in (Harmonization.Status.DONE, Harmonization.Status.FAILED):
            return "skipped"
        _progress(row, Harmonization.Status.RUNNING, "harmonizing", started_at=timezone.now())
    from composer.harmonization.masks import HarmonizationError
    from composer.melody import MelodyError
    from composer.render.audio import RenderError

    try:
        made = _make(row)
    except (MelodyError, HarmonizationError) as error:
        return _fail(row, str(error))
    except (RenderError, Exception):  # anything else is ours, not the visitor's
        logger.exception("harmonization %s failed", row.pk)
        return _fail(row, FAILED)
    _progress(row, Harmonization.Status.DONE, "", finished_at=timezone.now(), **made)
    return row.status


def _make(row: Harmonization) -> dict[str, Any]:
    from composer.harmonization.melody import harmonize_melody, marked
    from composer.harmonization.melody import write_score as write_midi_score
    from composer.melody import read_melody_data
    from composer.render.audio import render_mp3_alongside
    from composer.render.svg import musicxml_to_svg, score_to_musicxml

    melody = read_melody_data(melody_bytes(row.melody, row.format), row.format)
    loaded = _model(settings.HARMONIZATION_CHECKPOINT)
    result = harmonize_melody(
        loaded.model, loaded.vocab, melody, row.voices, row.method, row.beam_width,
        voice=row.melody_voice,
    )  # fmt: skip
    _progress(row, row.status, "writing the score and the audio")
    folder = Path(settings.MEDIA_ROOT) / folder_of(row)
    folder.mkdir(parents=True, exist_ok=True)

    def write_score() -> None:  # written once: the download, and drawn
        musicxml = score_to_musicxml(result.score)
        (folder / FILES["musicxml"]).write_text(musicxml)
        pages = musicxml_to_svg(marked(musicxml, result.voices), SVG_OPTIONS)
        (folder / FILES["score"]).write_text(pages[0])
        write_midi_score(result.score, folder / FILES["midi"])

    # The score is drawn while LAME encodes the audio in another thread (it releases the GIL).
    render_mp3_alongside(result.chorale, folder / FILES["audio"], write_score)
    return {
        "folder": folder_of(row),
        "log_prob": result.harmonization.log_prob,
        "key": str(melody.key),
    }


def _progress(row: Harmonization, status: str, stage: str, **fields: Any) -> None:
    row.status, row.stage = status, stage
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=["status", "stage", *fields])


def _fail(row: Harmonization, message: str) -> str:
    _progress(row, Harmonization.Status.FAILED, "", error=message, finished_at=timezone.now())
    return row.status
