"""Model output into survey material: load a checkpoint, sample, harmonize, cut, render, report.

Shared by generation batches (bachsurvey.pieces, run by the generate_batch task) and the demo
fixtures (build_demo_fixtures). Nothing here touches the database. composer, and with it torch
and music21, is imported inside the functions, so importing this module costs the web process
nothing.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# One page as wide as the music (it scales to the screen), no indentation.
SVG_OPTIONS = {"pageHeight": 60000, "adjustPageWidth": True, "svgFormatRaw": True}
MAX_ROUNDS = 20  # sampling rounds per pass before concluding that the checkpoint is too weak
MIN_DRAW = 8  # a narrow draw costs a CPU about what a wider one does; see sample_valid


class GenerationError(Exception):
    """Generation that cannot go on: no checkpoint, too few valid samples or source chorales."""


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # composer.model.ChoraleLSTM, in eval mode on `device`
    vocab: Any  # composer.encoding.Vocabulary
    label: str  # e.g. "bachbot.pt (epoch 40)": each chorale's provenance
    device: str


@dataclass
class Draws:
    """Valid pieces of one sampling pass, and what it cost."""

    pieces: list[list[str]]
    drawn: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedClip:
    audio: Path
    score: Path
    frames: int
    duration_s: float


def derive_seed(*parts: object) -> int:
    """A 56-bit seed from its parts (batch seed, pass, round…), the same on every machine."""
    text = "/".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "big")


# --- the model -----------------------------------------------------------------------------------


def load_model(path: str | Path, device: str = "auto", threads: int | None = None) -> LoadedModel:
    """The checkpoint's model on ``device`` ("auto": CUDA when present, else the CPU).

    ``threads`` caps torch's CPU threads: sampling one step at a time with more threads than free
    cores is many times slower than with one.
    """
    import torch

    from composer import checkpoint
    from composer.model import pick_device

    if threads:
        torch.set_num_threads(threads)
    path = Path(path)
    if not path.is_file():
        raise GenerationError(f"checkpoint {path} not found")
    target = pick_device(device)
    try:
        model, vocab, meta = checkpoint.load(path, target)
    except checkpoint.CheckpointError as error:
        raise GenerationError(str(error)) from error
    return LoadedModel(model, vocab, f"{path.name} (epoch {meta.get('epoch')})", str(target))


def sample_valid(
    loaded: LoadedModel,
    n: int,
    temperature: float,
    seed: int,
    width: int,
    max_rounds: int = MAX_ROUNDS,
) -> Draws:
    """``n`` valid free compositions, sampled on the device in rounds of at most ``width``.

    Each round draws twice what is still missing (at least MIN_DRAW, at most ``width``): on a GPU,
    and for small draws on a CPU, sampling more pieces at once costs about the same, and with a
    checkpoint that writes many invalid pieces it saves whole rounds. Round r is seeded by
    (seed, r), so the same arguments give the same pieces on the same device. Draws beyond the
    n-th valid piece are left unexamined and are not counted.

    Besides composer's rules, a piece must not begin with a silent frame: its clip would open
    with silence, and the real clips it is paired with do not (see :func:`begins_silent`).
    """
    from composer.sample import rejection_reason, sample_tokens

    draws = Draws(pieces=[])
    for round_number in range(max_rounds):
        missing = n - len(draws.pieces)
        size = min(width, max(2 * missing, MIN_DRAW))
        batch = sample_tokens(
            loaded.model, loaded.vocab, size, temperature, derive_seed(seed, round_number)
        )
        for tokens in batch:
            if len(draws.pieces) == n:
                break
            draws.drawn += 1
            reason = rejection_reason(tokens)
            if reason is None and begins_silent(tokens):
                reason = "begins with silence"
            if reason is None:
                draws.pieces.append(tokens)
            else:
                key = reason.split(":")[0]
                draws.reasons[key] = draws.reasons.get(key, 0) + 1
                draws.rejected += 1
        if len(draws.pieces) == n:
            return draws
    raise GenerationError(
        f"only {len(draws.pieces)} of {n} valid chorales after {draws.drawn} draws "
        f"({draws.reasons}); is the checkpoint trained?"
    )


def harmonize_tokens(
    loaded: LoadedModel, tokens: list[str], voices: str, method: str, beam_width: int = 5
) -> tuple[list[str], str]:
    """``tokens`` with ``voices`` re-written by the model; returns the stream and a note."""
    from composer.harmonize import harmonize, mask_tokens

    masked = mask_tokens(tokens, voices)
    result = harmonize(loaded.model, loaded.vocab, masked, method, beam_width)
    if frames_of(result.tokens) != frames_of(tokens):
        raise GenerationError(f"the {voices} harmonization changed the length")
    return result.tokens, f"harmonize method={method}, log_prob={result.log_prob:.2f}"


# --- the corpus ----------------------------------------------------------------------------------


def corpus() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(tokens of every prepared chorale by id, the committed train/validation split)."""
    from composer import prepare

    return prepare.load_tokens(), prepare.load_split()


def frames_of(tokens: Sequence[str]) -> int:
    from composer.encoding import tokens_to_chorale

    return tokens_to_chorale(tokens).frames


def held_out_sources(
    tokens: dict[str, list[str]], validation: list[str], frames: int, seed: int
) -> list[str]:
    """Held-out chorales (never trained on) of at least ``frames`` frames, in a seeded order."""
    ids = sorted(i for i in validation if i in tokens)
    ids = [i for i in ids if frames_of(tokens[i]) >= frames]
    random.Random(seed).shuffle(ids)
    return ids


def begins_silent(tokens: Sequence[str]) -> bool:
    """Whether all four voices rest in the first frame (a notated pickup rest, an interlude).

    A clip that opens with silence would stand out beside one that does not; a few chorales
    (e.g. BWV 248.64-6, whose voices rest through an instrumental opening) would even give a
    silent clip.
    """
    from composer.encoding import REST, split_frames

    return all(token == REST for token in split_frames(tokens)[0][1])


def long_enough(tokens: dict[str, list[str]], frames: int) -> list[str]:
    """Corpus chorales of at least ``frames`` frames that begin with sound, sorted: the real
    partners of free pieces."""
    return sorted(
        i for i in tokens if frames_of(tokens[i]) >= frames and not begins_silent(tokens[i])
    )


def partner(candidates: list[str], seed: int, index: int) -> str:
    """The real chorale that free piece ``index`` of a batch is paired with (seeded per index)."""
    return candidates[random.Random(derive_seed(seed, "partner", index)).randrange(len(candidates))]


# --- excerpts and rendering ----------------------------------------------------------------------


def real_excerpt(tokens: list[str], frames: int) -> tuple[Any, list[str], int]:
    """A real chorale cut to at most ``frames`` (after a fermata where possible).

    Returns (the excerpt's score, its tokens, the frames it keeps).
    """
    from composer import render
    from composer.encoding import score_to_tokens, tokens_to_score

    cut, kept = render.excerpt(tokens_to_score(tokens), frames)
    return cut, score_to_tokens(cut), kept


def free_excerpts(real: list[str], piece: list[str], frames: int) -> tuple[Any, Any, int]:
    """A real chorale and a free piece cut to the same frames, at a shared fermata if any."""
    from composer import render
    from composer.encoding import tokens_to_score

    return render.excerpt_pair(tokens_to_score(real), tokens_to_score(piece), frames)


def render_clip(source: Any, frames: int, clips_dir: Path, scores_dir: Path) -> RenderedClip:
    """MP3 and one-page SVG of a score (or token stream) by the one render path, opaque names."""
    from composer import render

    pages = render.score_to_svg(source, SVG_OPTIONS)
    if len(pages) != 1:
        raise GenerationError(f"the score of a {frames}-frame clip took {len(pages)} pages")
    audio = render.render_mp3(source, clips_dir)
    svg = scores_dir / render.opaque_name(".svg")
    svg.write_text(pages[0])
    return RenderedClip(audio, svg, frames, frames * render.SECONDS_PER_FRAME + render.TAIL_S)


def style(tokens: list[str]) -> dict:
    """composer.style's report: each measure with Bach's mean and 10th-90th percentiles."""
    from composer.style import style_report

    return style_report(tokens)
