"""Generation batches: create and queue them, run them (inside the task), review their questions.

A run is resumable by construction: it skips the indices already stored and stores each new one
in its own transaction (bachsurvey.pieces), so a retried task, a message the broker hands out
again after a worker died, or two workers on one batch all end with exactly ``count`` pieces.

Free pieces are sampled in passes of ``device_batch`` indices; pass k is seeded by (seed, k) and
draws the same pieces every time, so a rerun fills the missing indices of a pass with the pieces
the first run would have stored (on the same kind of device). Harmonizations take the held-out
chorales in an order seeded by the batch's seed, index i the i-th.

Nothing of a batch that is not done is served (services.draw_questions) or can be approved.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from bachsurvey import generation, pieces
from bachsurvey.models import MAX_BATCH_COUNT, Batch, Chorale, Question

logger = logging.getLogger(__name__)
MAX_ERROR_CHARS = 4000


class BatchError(Exception):
    """A refused batch operation; the message is for the admin and the command line."""


# --- creating, queueing, retrying ----------------------------------------------------------------


def batch_name(batch: Batch) -> str:
    what = "free" if batch.mode == Batch.Mode.FREE else f"harmonize {batch.voices}"
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M")
    tag = secrets.token_hex(2)  # names are unique; two identical requests in a minute are not
    return f"{what} ×{batch.count} T={batch.temperature:g} seed={batch.seed} {stamp} {tag}"


def prepare(batch: Batch) -> Batch:
    """Fill in what follows from the parameters: voices for free pieces, checkpoint, name."""
    if batch.mode == Batch.Mode.FREE:
        batch.voices = "SATB"
    batch.voices = batch.voices.upper()
    free = batch.mode == Batch.Mode.FREE
    default = settings.GENERATION_CHECKPOINT if free else settings.HARMONIZATION_CHECKPOINT
    batch.checkpoint = batch.checkpoint or default
    batch.name = batch.name or batch_name(batch)
    return batch


def create_batch(**parameters: Any) -> Batch:
    """A pending batch (mode, voices, count, temperature, seed, …), queued once committed."""
    batch = prepare(Batch(**parameters))
    if not 1 <= batch.count <= MAX_BATCH_COUNT:
        raise BatchError(f"count must be between 1 and {MAX_BATCH_COUNT}, got {batch.count}")
    try:
        batch.full_clean()
    except ValidationError as error:
        raise BatchError("; ".join(error.messages)) from error
    with transaction.atomic():
        batch.save()
        queue(batch)
    return batch


def queue(batch: Batch) -> None:
    """Send the batch to the gpu queue once the transaction commits (at once in autocommit)."""
    from bachsurvey import tasks

    tasks.generate_batch.delay_on_commit(batch.pk)


def retry_batch(batch_id: int) -> Batch:
    """Queue a failed batch again: it keeps what it stored and makes the rest."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.status != Batch.Status.FAILED:
            raise BatchError(f"{batch} is {batch.status}: only a failed batch can be retried")
        batch.status, batch.error, batch.stage = Batch.Status.PENDING, "", "queued again"
        batch.finished_at = None
        batch.save(update_fields=["status", "error", "stage", "finished_at"])
        queue(batch)
    return batch


# --- running (the task's body) -------------------------------------------------------------------


def run_batch(batch_id: int) -> Batch | None:
    """Make what is missing of a batch; None when there is nothing to do (gone, done, failed)."""
    batch = _start(batch_id)
    if batch is None:
        return None
    try:
        loaded = generation.load_model(
            batch.checkpoint, settings.GENERATION_DEVICE, settings.GENERATION_TORCH_THREADS
        )
        Batch.objects.filter(pk=batch.pk).update(device=loaded.device)
        tokens, split = generation.corpus()
        if batch.mode == Batch.Mode.FREE:
            _free(batch, loaded, tokens)
        else:
            _harmonize(batch, loaded, tokens, split["validation"])
        stored = _stored(batch)
        if len(stored) != batch.count:
            raise generation.GenerationError(f"{len(stored)} of {batch.count} pieces stored")
    except Exception as error:
        logger.exception("batch %s failed", batch.pk)
        return _finish(batch, Batch.Status.FAILED, f"{type(error).__name__}: {error}")
    return _finish(batch, Batch.Status.DONE)


def _start(batch_id: int) -> Batch | None:
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        runnable = (Batch.Status.PENDING, Batch.Status.RUNNING)
        if batch is None or not batch.is_generated or batch.status not in runnable:
            logger.info("batch %s: nothing to do (%s)", batch_id, batch and batch.status)
            return None
        batch.status, batch.stage = Batch.Status.RUNNING, "loading the model"
        batch.attempts += 1
        batch.started_at = batch.started_at or timezone.now()
        # Fixed at the first run: the passes, hence the pieces, must not change on a retry.
        batch.device_batch = batch.device_batch or settings.GENERATION_DEVICE_BATCH
        batch.save()
    return batch


def _finish(batch: Batch, status: str, error: str = "") -> Batch:
    done = len(_stored(batch))
    Batch.objects.filter(pk=batch.pk).update(
        status=status,
        error=error[:MAX_ERROR_CHARS],
        done=done,
        stage="" if status == Batch.Status.DONE else "stopped",
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    return batch


def _stored(batch: Batch) -> set[int]:
    return set(Chorale.objects.filter(batch=batch).values_list("index", flat=True))


def _progress(batch: Batch, stage: str) -> None:
    Batch.objects.filter(pk=batch.pk).update(done=len(_stored(batch)), stage=stage[:120])


def _store(batch: Batch, piece: pieces.Piece, loaded: generation.LoadedModel) -> None:
    _progress(batch, f"rendering piece {piece.index + 1} of {batch.count}")
    pieces.store_piece(batch, piece, loaded.label)
    _progress(batch, f"stored piece {piece.index + 1} of {batch.count}")


def _free(batch: Batch, loaded: generation.LoadedModel, tokens: dict[str, list[str]]) -> None:
    partners = generation.long_enough(tokens, batch.frames)
    width = batch.device_batch or settings.GENERATION_DEVICE_BATCH
    passes = range(0, batch.count, width)
    for number, start in enumerate(passes):
        indices = range(start, min(start + width, batch.count))
        stored = _stored(batch)
        missing = [i for i in indices if i not in stored]
        if not missing:
            continue
        _progress(batch, f"sampling pass {number + 1} of {len(passes)}")
        seed = generation.derive_seed(batch.seed, "pass", number)
        draws = generation.sample_valid(loaded, len(indices), batch.temperature, seed, width)
        _record_pass(batch, number, draws)
        for index in missing:
            piece = draws.pieces[index - start]
            source = generation.partner(partners, batch.seed, index)
            real_cut, cut, kept = generation.free_excerpts(tokens[source], piece, batch.frames)
            note = f"piece {index - start} of pass {number} (device batch {width})"
            _store(
                batch,
                pieces.Piece(index, source, tokens[source], real_cut, piece, cut, kept, note),
                loaded,
            )


def _record_pass(batch: Batch, number: int, draws: generation.Draws) -> None:
    """Keep each pass's rejection count once, however often the pass is rerun."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        locked.chunks[str(number)] = {
            "drawn": draws.drawn,
            "rejected": draws.rejected,
            "reasons": draws.reasons,
        }
        locked.rejected = sum(chunk["rejected"] for chunk in locked.chunks.values())
        locked.save(update_fields=["chunks", "rejected"])


def _harmonize(
    batch: Batch,
    loaded: generation.LoadedModel,
    tokens: dict[str, list[str]],
    validation: list[str],
) -> None:
    sources = generation.held_out_sources(tokens, validation, batch.frames, batch.seed)
    sources = [s for s in sources if not generation.begins_silent(tokens[s])]
    if len(sources) < batch.count:
        raise generation.GenerationError(
            f"only {len(sources)} held-out chorales have {batch.frames} frames or more: "
            f"ask for at most {len(sources)}"
        )
    stored = _stored(batch)
    for index, source in enumerate(sources[: batch.count]):
        if index in stored:
            continue
        _progress(batch, f"harmonizing piece {index + 1} of {batch.count}")
        real_cut, cut_tokens, kept = generation.real_excerpt(tokens[source], batch.frames)
        generated, note = generation.harmonize_tokens(
            loaded, cut_tokens, batch.voices, batch.method, batch.beam_width
        )
        piece = pieces.Piece(
            index, source, tokens[source], real_cut, generated, generated, kept, note
        )
        _store(batch, piece, loaded)


# --- reporting and review ------------------------------------------------------------------------


def summary(batch: Batch) -> dict[str, Any]:
    """The one JSON line `generate_batch --wait` ends with."""
    return {
        "batch": batch.pk,
        "status": batch.status,
        "chorales": batch.chorales.filter(kind=Chorale.Kind.GENERATED).count(),
        "rejected": batch.rejected,
        "questions": Question.objects.filter(clip_generated__chorale__batch=batch).count(),
        "error": batch.error or None,
    }


def reviewable() -> Q:
    """Questions an admin may approve: from a finished batch, or from no batch at all."""
    return Q(clip_generated__chorale__batch__isnull=True) | Q(
        clip_generated__chorale__batch__status=Batch.Status.DONE
    )


def approve(questions: QuerySet[Question]) -> tuple[int, int]:
    """Approve and put live; questions of an unfinished batch are refused. (approved, refused)"""
    with transaction.atomic():
        total = questions.count()
        approved = Question.objects.filter(reviewable(), pk__in=questions.values("pk")).update(
            status=Question.Status.APPROVED, live=True
        )
    return approved, total - approved


def reject(questions: QuerySet[Question]) -> int:
    """Reject: off the quiz for good (kept, as answers may refer to it)."""
    return Question.objects.filter(pk__in=questions.values("pk")).update(
        status=Question.Status.REJECTED, live=False
    )


def next_draft(question: Question) -> Question | None:
    """The next question of the same batch still waiting for review, in piece order."""
    batch_id = question.clip_generated.chorale.batch_id
    if batch_id is None:
        return None
    return (
        Question.objects.filter(
            clip_generated__chorale__batch_id=batch_id, status=Question.Status.DRAFT
        )
        .exclude(pk=question.pk)
        .order_by("clip_generated__chorale__index")
        .first()
    )
