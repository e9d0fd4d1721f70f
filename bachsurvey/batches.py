"""Generation batches: create and queue them, run them (inside the task), review their questions.

A run is resumable by construction: it skips the indices already stored and stores each new one
in its own transaction (bachsurvey.pieces), so a retried task, a message the broker hands out
again after a worker died, or two workers on one batch all end with exactly ``count`` pieces.

Free pieces are sampled in passes of ``device_batch`` indices; pass k is seeded by (seed, k) and
draws the same pieces every time, so a rerun fills the missing indices of a pass with the pieces
the first run would have stored (on the same kind of device). Each piece faces a Bach window, and
a harmonization re-writes one, that no other question holds (bachsurvey.validity), so a rerun
pairs its pieces among the windows still free. Harmonizations take held-out chorales in an order
seeded by the batch's seed, which a new batch draws at random unless told one.

Nothing of a batch that is not done is served (services.draw_questions) or can be approved.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from bachsurvey import generation, pieces, validity
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


class _PassPieces:
    """The valid pieces of one sampling pass, moved to C major / A minor, in order; when they run
    out, the pass samples more (seeded by the round), at most MAX_ROUNDS times."""

    def __init__(
        self, batch: Batch, loaded: generation.LoadedModel, number: int, size: int, vet: Any
    ) -> None:
        self.batch, self.loaded, self.number, self.size, self.vet = batch, loaded, number, size, vet
        self.draws = generation.Draws(pieces=[])
        self.queue: list[list[str]] = []
        self.rounds = 0

    def next(self) -> list[str]:
        if not self.queue:
            self._sample()
        return self.queue.pop(0)

    def reject(self, reason: str) -> None:
        self.draws.reject(reason)
        _record_pass(self.batch, self.number, self.draws)

    def _sample(self) -> None:
        if self.rounds > generation.MAX_ROUNDS:
            raise generation.GenerationError(
                f"pass {self.number}: too few pieces could be paired ({self.draws.reasons})"
            )
        extra = ("more", self.rounds) if self.rounds else ()
        seed = generation.derive_seed(self.batch.seed, "pass", self.number, *extra)
        width = self.batch.device_batch or settings.GENERATION_DEVICE_BATCH
        more = generation.sample_valid(
            self.loaded, self.size, self.batch.temperature, seed, width, vet=self.vet
        )
        self.rounds += 1
        self.draws.merge(more)
        self.queue += more.pieces
        _record_pass(self.batch, self.number, self.draws)


def _free(batch: Batch, loaded: generation.LoadedModel, tokens: dict[str, list[str]]) -> None:
    """Sample in passes; move each piece to C major / A minor, cut it after one of its own
    fermatas and face it with a Bach window of exactly that length, of the same mode, that no
    question holds (composer.pairing). A piece that no window could face, or none that is still
    free, is rejected and counted, and the pass's next valid piece takes its place."""
    windows = generation.bach_windows(tokens)
    held = validity.held_excerpts()
    normalised: dict[tuple[str, ...], generation.Normalised] = {}

    def vet(piece: list[str]) -> str | None:
        if tuple(piece) not in normalised:
            normalised[tuple(piece)] = generation.normalise(piece)
        if not generation.has_partner(windows, normalised[tuple(piece)], batch.frames):
            return "no Bach phrase of its length"
        return None

    width = batch.device_batch or settings.GENERATION_DEVICE_BATCH
    passes = range(0, batch.count, width)
    for number, start in enumerate(passes):
        indices = range(start, min(start + width, batch.count))
        missing = [i for i in indices if i not in _stored(batch)]
        if not missing:
            continue
        _progress(batch, f"sampling pass {number + 1} of {len(passes)}")
        drawn = _PassPieces(batch, loaded, number, len(indices), vet)
        # A piece an earlier run stored is not stored again under another index.
        taken = {
            tuple(t) for t in Chorale.objects.filter(batch=batch).values_list("tokens", flat=True)
        }
        for index in missing:
            piece, pair = _next_pair(drawn, normalised, taken, windows, held, batch, index)
            window = validity.Excerpt(pair.window.source, pair.window.start, pair.window.end)
            held.append(window)
            taken.add(tuple(piece.tokens))
            key = "C major" if piece.mode == "major" else "A minor"
            note = (
                f"pass {number} (device batch {width}); moved {piece.shift:+d} semitones to {key}"
            )
            piece_row = _piece(batch, index, tokens, window, piece.tokens, pair.frames, note)
            _store(batch, piece_row, loaded)


def _next_pair(
    drawn: _PassPieces,
    normalised: dict[tuple[str, ...], generation.Normalised],
    taken: set[tuple[str, ...]],
    windows: Any,
    held: list[validity.Excerpt],
    batch: Batch,
    index: int,
) -> tuple[generation.Normalised, Any]:
    """The pass's next piece not stored yet that a free Bach window can face, and the pair."""
    while True:
        piece = normalised[tuple(drawn.next())]
        if tuple(piece.tokens) in taken:
            continue
        seed = generation.derive_seed(batch.seed, "pair", index)
        pair = generation.pair_free(windows, piece, batch.frames, held, seed)
        if pair is not None:
            return piece, pair
        drawn.reject("no free Bach window of its length")


def _piece(
    batch: Batch,
    index: int,
    tokens: dict[str, list[str]],
    window: validity.Excerpt,
    generated: list[str],
    frames: int,
    note: str,
) -> pieces.Piece:
    """Piece ``index``: Bach's ``window`` facing ``generated``'s first ``frames``, both moved to
    one key (drawn at random unless the batch says otherwise)."""
    real = tokens[window.source]
    real_window, generated_window = (window.start, window.end), (0, frames)
    shift = 0
    if batch.random_key:
        excerpts = [
            generation.window_tokens(real, *real_window),
            generation.window_tokens(generated, *generated_window),
        ]
        shift = generation.draw_shift(excerpts, generation.derive_seed(batch.seed, "key", index))
    return pieces.Piece(
        index, window.source, real, real_window, generated, generated_window, shift, note
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
    """Re-harmonize windows of held-out chorales that no question holds, one chorale after
    another (composer.pairing.harmonization_windows); both sides are the same window."""
    held = validity.held_excerpts()
    candidates = []
    for window in generation.harmonization_windows(tokens, validation, batch.frames, batch.seed):
        excerpt = validity.Excerpt(window.source, window.start, window.end)
        if validity.is_unused(excerpt, held):
            candidates.append(excerpt)
            held.append(excerpt)  # windows of one chorale may overlap each other
    stored = _stored(batch)
    missing = [i for i in range(batch.count) if i not in stored]
    if len(candidates) < len(missing):
        raise generation.GenerationError(
            f"only {len(candidates)} windows of {batch.frames} frames or fewer of held-out "
            f"chorales are not held by other questions: ask for at most {len(candidates)}, "
            "or reject unused drafts to free theirs"
        )
    for index, excerpt in zip(missing, candidates, strict=False):
        _progress(batch, f"harmonizing piece {index + 1} of {batch.count}")
        cut = generation.window_tokens(tokens[excerpt.source], excerpt.start, excerpt.end)
        generated, note = generation.harmonize_tokens(
            loaded, cut, batch.voices, batch.method, batch.beam_width
        )
        frames = generation.frames_of(generated)
        _store(batch, _piece(batch, index, tokens, excerpt, generated, frames, note), loaded)


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


@dataclass(frozen=True)
class Approval:
    """What an approval did: questions put live, and those refused, with the reason."""

    approved: int
    unfinished: int  # of a batch that is not done
    conflicts: list[validity.Conflict]

    def messages(self) -> list[str]:
        """One line per refusal, for the admin and the command line."""
        lines = [f"refused: {c}" for c in self.conflicts]
        if self.unfinished:
            lines.append(f"refused: {self.unfinished} of a batch that is not done")
        return lines


def approve(questions: QuerySet[Question]) -> Approval:
    """Approve and put live. Refused: questions of an unfinished batch, and any that would share
    an audio file or a Bach excerpt with a live question or with one approved before it here
    (validity). The others go live; nothing is half done."""
    with transaction.atomic():
        wanted = list(questions.values_list("pk", flat=True))
        # One approval at a time: two admins approving two clashing drafts at once would each
        # see the other's still off the quiz.
        list(Batch.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        finished = list(Question.objects.filter(reviewable(), pk__in=wanted))
        conflicts = validity.approval_conflicts(finished)
        refused = {conflict.question.pk for conflict in conflicts}
        approved = Question.objects.filter(
            pk__in=[q.pk for q in finished if q.pk not in refused]
        ).update(status=Question.Status.APPROVED, live=True)
    return Approval(approved, len(wanted) - len(finished), conflicts)


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
