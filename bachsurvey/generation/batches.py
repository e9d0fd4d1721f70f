"""Generation batches run (the body of the generate_batch task), and their one-line summary.

Batches are created and queued by bachsurvey.generation.jobs, and their questions reviewed in
bachsurvey.generation.review.

A run samples and pairs what is missing, then hands each piece to a task of its own that renders
and stores it, and the batch is finished once they all have (bachsurvey.generation.fanout); in
one process, without a broker, the same happens in order. A run is resumable by construction:
it skips the indices already stored and each piece is stored in its own transaction
(bachsurvey.generation.pieces), so a retried task, a message the broker hands out again after a
worker died, or two workers on one batch all end with exactly ``count`` pieces.

Free pieces are sampled in passes of ``device_batch`` indices; pass k is seeded by (seed, k) and
draws the same pieces every time, so a rerun fills the missing indices of a pass with the pieces
the first run would have stored (on the same kind of device). Each piece faces a Bach window, and
a harmonization re-writes one, that no other question holds (bachsurvey.generation.validity), so
a rerun pairs its pieces among the windows still free. Harmonizations take held-out chorales in
an order seeded by the batch's seed, which a new batch draws at random unless told one.

Nothing of a batch that is not done is served (bachsurvey.quiz.sql.live_questions) or can be
approved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bachsurvey.generation import batch_judge, fanout, music, pieces, validity, warm
from bachsurvey.models import Batch, Chorale, Question

if TYPE_CHECKING:  # composer.sample loads torch: only when a batch runs
    from composer.sample import Draws

logger = logging.getLogger(__name__)


# --- running (the task's body) -------------------------------------------------------------------


def run_batch(
    batch_id: int,
    fan_out: fanout.FanOut = fanout.run_here,
    send_early: fanout.SendEarly | None = None,
) -> Batch | None:
    """Sample and pair what is missing of a batch and hand the pieces to ``fan_out`` (by
    default: render and store them here, in order, and finish the batch); None when there is
    nothing to do (gone, ended, or its pieces are out already). With ``send_early``, each piece
    is also sent the moment it is paired (or harmonized), so that render workers start on it
    while the batch still samples and judges; the plan's own task for it then finds it
    stored."""
    batch = _start(batch_id)
    if batch is None or batch.status != Batch.Status.RUNNING:
        return batch  # nothing to do, or it gave up (GENERATION_MAX_ATTEMPTS)
    fanout_id = None
    try:
        fanout_id = fanout.open_fanout(batch)
        loaded = warm.model(
            batch.checkpoint, settings.GENERATION_DEVICE, settings.GENERATION_TORCH_THREADS
        )
        Batch.objects.filter(pk=batch.pk).update(device=loaded.device)
        tokens, split = warm.corpus()
        ahead = None
        if send_early is not None:
            fence, label = fanout_id, loaded.label

            def ahead(piece: pieces.Piece) -> None:
                send_early(batch.pk, fence, piece.to_json(), label)

        if batch.mode == Batch.Mode.FREE:
            planned = _free(batch, loaded, tokens, ahead)
        else:
            planned = _harmonize(batch, loaded, tokens, split["validation"], ahead)
        # The judge runs here, while render workers start on the pieces sent already.
        _progress(batch, "judging its pairs")
        verdict = batch_judge.judge(batch, planned)
        fan_out(fanout.open_plan(batch, fanout_id, loaded.label, planned, verdict))
    except pieces.BatchStopped as stopped:
        logger.info("batch %s: %s", batch.pk, stopped)
        return fanout.stopped(batch)
    except Exception as error:
        logger.exception("batch %s failed", batch.pk)
        error_line = f"{type(error).__name__}: {error}"
        return fanout.end(batch, Batch.Status.FAILED, error_line, fanout_id)
    batch.refresh_from_db()
    return batch


def _start(batch_id: int) -> Batch | None:
    """Count the attempt and mark the batch running; None when it has ended (or is gone), or
    when its pieces were handed out already (this message came again after it sent them). A
    batch started GENERATION_MAX_ATTEMPTS times since it was queued fails here instead."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or not batch.is_generated or batch.status not in Batch.UNFINISHED:
            logger.info("batch %s: nothing to do (%s)", batch_id, batch and batch.status)
            return None
        if batch.status == Batch.Status.RUNNING and batch.fanout.get("sent"):
            logger.info("batch %s: its pieces are out already; they finish it", batch_id)
            return None
        if batch.status == Batch.Status.RUNNING:  # the attempt before never came back
            batch.error = (
                f"attempt {batch.attempts} ended without a word, its worker lost "
                f"(killed, out of memory, crashed) while {batch.stage or 'starting'}"
            )[: fanout.MAX_ERROR_CHARS]
        if batch.attempts >= settings.GENERATION_MAX_ATTEMPTS:
            logger.error("batch %s: gave up after %s attempts", batch_id, batch.attempts)
            batch.status, batch.stage = Batch.Status.FAILED, "stopped"
            batch.error = f"gave up after {batch.attempts} attempts; the last: {batch.error}"
            batch.finished_at = timezone.now()
            batch.save()
            return batch
        batch.status, batch.stage = Batch.Status.RUNNING, "loading the model"
        batch.fanout = {}  # until this attempt sends its own pieces, no piece task may store
        batch.attempts += 1
        batch.started_at = batch.started_at or timezone.now()
        batch.progressed_at = timezone.now()
        # Fixed at the first run: the passes, hence the pieces, must not change on a retry.
        batch.device_batch = batch.device_batch or settings.GENERATION_DEVICE_BATCH
        batch.save()
    return batch


def _progress(batch: Batch, stage: str) -> None:
    """Show the stage; stop (pieces.BatchStopped) once the batch is no longer running, so a
    cancelled batch's task stops before sampling or harmonizing more."""
    running = Batch.objects.filter(pk=batch.pk, status=Batch.Status.RUNNING)
    if not running.update(done=len(fanout.stored(batch)), stage=stage[:120]):
        raise pieces.BatchStopped(f"stopped before {stage}: the batch is no longer running")


def _still_running(batch: Batch) -> None:
    if not Batch.objects.filter(pk=batch.pk, status=Batch.Status.RUNNING).exists():
        raise pieces.BatchStopped("stopped while sampling: the batch is no longer running")


class _Pass:
    """One sampling pass's missing indices, filled with pieces in the order the device batch
    finishes them (composer.sample.sample_each): each piece is checked, moved to C major / A
    minor and paired the moment it ends, and sampling stops once every index has its piece,
    without waiting for the batch's longest piece. When a round runs out of pieces the pass
    samples another (seeded by the round), at most MAX_ROUNDS times. Every round draws as many
    as the pass's first (twice its indices, at least MIN_DRAW, at most the device batch), so a
    rerun draws the same pieces as the first run and skips those stored already."""

    def __init__(
        self,
        batch: Batch,
        loaded: music.LoadedModel,
        number: int,
        indices: range,
        tokens: dict[str, list[str]],
        windows: Any,
        held: list[validity.Excerpt],
        taken: set[tuple[str, ...]],
        ahead: Callable[[pieces.Piece], None] | None,
    ) -> None:
        self.batch, self.loaded, self.number, self.indices = batch, loaded, number, indices
        self.ahead = ahead
        self.tokens, self.windows, self.held, self.taken = tokens, windows, held, taken
        from composer.sample import Draws

        self.draws = Draws()
        self.width = batch.device_batch or settings.GENERATION_DEVICE_BATCH

    def fill(self, missing: list[int]) -> list[pieces.Piece]:
        planned: list[pieces.Piece] = []

        def take(tokens: list[str]) -> bool:
            piece = self._accept(tokens, missing[len(planned)])
            if piece is not None:
                planned.append(piece)
                if self.ahead is not None:
                    _still_running(self.batch)  # a cancel stops the sampling too
                    self.ahead(piece)
            return len(planned) == len(missing)

        size = min(self.width, max(2 * len(self.indices), music.MIN_DRAW))
        for round_number in range(music.MAX_ROUNDS + 1):
            extra = ("more", round_number) if round_number else ()
            seed = music.derive_seed(self.batch.seed, "pass", self.number, *extra)
            music.sample_each(self.loaded, size, self.batch.temperature, seed, take)
            _record_pass(self.batch, self.number, self.draws)
            if len(planned) == len(missing):
                return planned
        raise music.GenerationError(
            f"pass {self.number}: too few pieces could be paired ({self.draws.reasons})"
        )

    def _accept(self, tokens: list[str], index: int) -> pieces.Piece | None:
        """Piece ``index`` made of ``tokens`` and its Bach window, or None (counted when it is
        rejected; a piece stored by an earlier run is passed over uncounted)."""
        self.draws.drawn += 1
        reason = music.rejection_reason(tokens)
        normalised = None if reason else music.normalise(tokens)
        if normalised is not None and not music.has_partner(
            self.windows, normalised, self.batch.frames
        ):
            reason = "no Bach phrase of its length"
        if reason or normalised is None:
            self.draws.reject(reason or "")
            return None
        if tuple(normalised.tokens) in self.taken:
            return None
        seed = music.derive_seed(self.batch.seed, "pair", index)
        pair = music.pair_free(self.windows, normalised, self.batch.frames, self.held, seed)
        if pair is None:
            self.draws.reject("no free Bach window of its length")
            return None
        window = validity.Excerpt(pair.window.source, pair.window.start, pair.window.end)
        self.held.append(window)
        self.taken.add(tuple(normalised.tokens))
        key = "C major" if normalised.mode == "major" else "A minor"
        note = (
            f"pass {self.number} (device batch {self.width}); "
            f"moved {normalised.shift:+d} semitones to {key}"
        )
        return _piece(self.batch, index, self.tokens, window, normalised.tokens, pair.frames, note)


def _free(
    batch: Batch,
    loaded: music.LoadedModel,
    tokens: dict[str, list[str]],
    ahead: Callable[[pieces.Piece], None] | None = None,
) -> list[pieces.Piece]:
    """The missing pieces, sampled in passes of the device batch (_Pass): each moved to C major
    / A minor, cut after one of its own fermatas and faced with a Bach window of exactly that
    length, of the same mode, that no question holds (composer.pairing). A piece that no window
    could face, or none that is still free, is rejected and counted, and the next piece the
    pass finishes takes its place. ``ahead`` hears of each piece the moment it is paired."""
    windows = warm.bach_windows()
    held = validity.held_excerpts()
    width = batch.device_batch or settings.GENERATION_DEVICE_BATCH
    passes = range(0, batch.count, width)
    stored = fanout.stored(batch)
    # A piece an earlier run stored is not stored again under another index.
    taken = {tuple(t) for t in Chorale.objects.filter(batch=batch).values_list("tokens", flat=True)}
    planned = []
    for number, start in enumerate(passes):
        indices = range(start, min(start + width, batch.count))
        missing = [i for i in indices if i not in stored]
        if not missing:
            continue
        _progress(batch, f"sampling pass {number + 1} of {len(passes)}")
        one_pass = _Pass(batch, loaded, number, indices, tokens, windows, held, taken, ahead)
        planned += one_pass.fill(missing)
    return planned


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
            music.window_tokens(real, *real_window),
            music.window_tokens(generated, *generated_window),
        ]
        shift = music.draw_shift(excerpts, music.derive_seed(batch.seed, "key", index))
    return pieces.Piece(
        index, window.source, real, real_window, generated, generated_window, shift, note
    )


def _record_pass(batch: Batch, number: int, draws: Draws) -> None:
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
    loaded: music.LoadedModel,
    tokens: dict[str, list[str]],
    validation: list[str],
    ahead: Callable[[pieces.Piece], None] | None = None,
) -> list[pieces.Piece]:
    """The missing pieces: windows of held-out chorales that no question holds, one chorale
    after another (composer.pairing.harmonization_windows), re-harmonized; both sides of a
    piece are the same window."""
    held = validity.held_excerpts()
    candidates = []
    for window in music.harmonization_windows(tokens, validation, batch.frames, batch.seed):
        excerpt = validity.Excerpt(window.source, window.start, window.end)
        if validity.is_unused(excerpt, held):
            candidates.append(excerpt)
            held.append(excerpt)  # windows of one chorale may overlap each other
    stored = fanout.stored(batch)
    missing = [i for i in range(batch.count) if i not in stored]
    if len(candidates) < len(missing):
        raise music.GenerationError(
            f"only {len(candidates)} windows of {batch.frames} frames or fewer of held-out "
            f"chorales are not held by other questions: ask for at most {len(candidates)}, "
            "or reject unused drafts to free theirs"
        )
    planned = []
    for index, excerpt in zip(missing, candidates, strict=False):
        _progress(batch, f"harmonizing piece {index + 1} of {batch.count}")
        cut = music.window_tokens(tokens[excerpt.source], excerpt.start, excerpt.end)
        generated, note = music.harmonize_tokens(
            loaded, cut, batch.voices, batch.method, batch.beam_width
        )
        frames = music.frames_of(generated)
        planned.append(_piece(batch, index, tokens, excerpt, generated, frames, note))
        if ahead is not None:
            ahead(planned[-1])
    return planned


# --- reporting -----------------------------------------------------------------------------------


def summary(batch: Batch) -> dict[str, Any]:
    """The one JSON line `generate_batch --wait` ends with."""
    return {
        "batch": batch.pk,
        "status": batch.status,
        "chorales": batch.chorales.filter(kind=Chorale.Kind.GENERATED).count(),
        "rejected": batch.rejected,
        "questions": Question.objects.filter(clip_generated__chorale__batch=batch).count(),
        "error": batch.error or None,
        "judge": batch.judge,
    }
