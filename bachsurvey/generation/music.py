"""Model output into survey material: load a checkpoint, sample, harmonize, cut, render, report.

Shared by generation batches (bachsurvey.generation.pieces, run by the generate_batch task) and
the demo fixtures (build_demo_fixtures). Nothing here touches the database. composer, and with it
torch and music21, is imported inside the functions, so importing this module costs the web
process nothing.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One page as wide as the music (it scales to the screen), no indentation.
SVG_OPTIONS = {"pageHeight": 60000, "adjustPageWidth": True, "svgFormatRaw": True}
MAX_ROUNDS = 20  # sampling rounds per pass before concluding that the checkpoint is too weak
MIN_DRAW = 8  # a narrow draw costs a CPU about what a wider one does; see sample_each


class GenerationError(Exception):
    """Generation that cannot go on: no checkpoint, too few valid samples or source chorales."""


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # composer.model.ChoraleLSTM, in eval mode on `device`
    vocab: Any  # composer.vocabulary.Vocabulary
    label: str  # e.g. "bachbot.pt (epoch 40)": each chorale's provenance
    device: str


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


def sample_each(
    loaded: LoadedModel, n: int, temperature: float, seed: int, take: Callable[[list[str]], bool]
) -> int:
    """Sample ``n`` free compositions as one device batch, handing each to ``take`` the moment
    it ends, until ``take`` says it has enough (composer.sample.sample_each; unvalidated: see
    :func:`rejection_reason`). Returns how many it was handed. The same arguments give the same
    pieces in the same order on the same kind of device.

    A batch asks for about twice what it needs (at least MIN_DRAW): on a GPU, and for small
    draws on a CPU, sampling more pieces at once costs about the same, and it stops as soon as
    it has enough, so the extra pieces cost nothing once the last needed one has ended.
    """
    from composer.decoding import DEFAULT_DECODING
    from composer.sample import sample_each as sample

    return sample(
        loaded.model,
        loaded.vocab,
        n,
        take,
        temperature=temperature,
        seed=seed,
        decoding=DEFAULT_DECODING,  # what decoding_record records
    )


def rejection_reason(tokens: list[str]) -> str | None:
    """Why a sampled piece cannot be used, or None: composer's rules (END within the frame
    limit, a length of 100-400 frames, every voice sings), and it must not begin with a silent
    frame: its clip would open with silence, and the real clips it is paired with do not (see
    :func:`begins_silent`)."""
    from composer.sample import rejection_reason as composers

    reason = composers(tokens)
    if reason is None and begins_silent(tokens):
        return "begins with silence"
    return reason


def decoding_record(free: bool, temperature: float, method: str, beam_width: int) -> dict:
    """How a batch's pieces are decoded, rule set included: what each generated chorale stores.

    Free pieces use composer's default decoding (sample_each) at the batch's temperature;
    harmonizations the batch's search with composer's default constraints.
    """
    from composer.decoding import DEFAULT_DECODING
    from composer.voice_leading import RULES

    if free:
        return DEFAULT_DECODING.record(temperature)
    return {"method": method, "beam_width": beam_width, "rules": dict(RULES)}


def harmonize_tokens(
    loaded: LoadedModel, tokens: list[str], voices: str, method: str, beam_width: int = 5
) -> tuple[list[str], str]:
    """``tokens`` with ``voices`` re-written by the model; returns the stream and a note."""
    from composer.harmonization.masks import mask_tokens
    from composer.harmonization.search import harmonize

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


def chorale_title(source: str) -> str:
    """The title music21 lists for corpus chorale ``source`` ("" when none; composer.titles)."""
    from composer.titles import chorale_title as title

    return title(source)


def frames_of(tokens: Sequence[str]) -> int:
    from composer.encoding import tokens_to_chorale

    return tokens_to_chorale(tokens).frames


def begins_silent(tokens: Sequence[str]) -> bool:
    """Whether all four voices rest in the first frame (a notated pickup rest, an interlude).

    A clip that opens with silence would stand out beside one that does not; a few chorales
    (e.g. BWV 248.64-6, whose voices rest through an instrumental opening) would even give a
    silent clip. No window of such a chorale's opening is used (composer.pairing), and a
    free piece that opens so is rejected (rejection_reason).
    """
    from composer.encoding import REST, split_frames

    return all(token == REST for token in split_frames(tokens)[0][1])


# --- pairs (composer.pairing): windows, keys ---------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """A free piece moved to C major or A minor by the corpus's key analysis."""

    tokens: list[str]
    shift: int  # semitones it was moved
    mode: str  # "major" or "minor"


def normalise(tokens: list[str]) -> Normalised:
    from composer.encoding import chorale_to_tokens, tokens_to_chorale
    from composer.pairing import normalise_key

    moved, shift, mode = normalise_key(tokens_to_chorale(tokens))
    return Normalised(chorale_to_tokens(moved), shift, mode)


def bach_windows(tokens: dict[str, list[str]]) -> Any:
    """composer.pairing.BachWindows over every prepared chorale: the free pieces' partners."""
    from composer.encoding import tokens_to_chorale
    from composer.pairing import BachWindows

    return BachWindows({source: tokens_to_chorale(t) for source, t in tokens.items()})


def has_partner(windows: Any, piece: Normalised, frames: int) -> bool:
    """Whether any Bach window of the corpus, held or not, could face ``piece``."""
    from composer.encoding import tokens_to_chorale

    return windows.has_partner(tokens_to_chorale(piece.tokens), piece.mode, frames)


def pair_free(
    windows: Any, piece: Normalised, frames: int, held: Sequence[Any], seed: int
) -> Any | None:
    """A Bach window (composer.pairing.FreePair) for ``piece`` avoiding ``held``, or None."""
    from composer.encoding import tokens_to_chorale

    chorale = tokens_to_chorale(piece.tokens)
    return windows.pair(chorale, piece.mode, frames, held, random.Random(seed))


def harmonization_windows(
    tokens: dict[str, list[str]], validation: list[str], frames: int, seed: int
) -> list[Any]:
    """Every window a harmonization may use (composer.pairing.harmonization_windows) of the
    held-out chorales (never trained on), in a seeded order that takes one window of each
    chorale before a second of any, so that a batch spreads over as many chorales as it can."""
    from composer.encoding import tokens_to_chorale
    from composer.pairing import harmonization_windows as windows_of

    rng = random.Random(seed)
    sources = sorted(i for i in validation if i in tokens)
    rng.shuffle(sources)
    per_source = []
    for source in sources:
        windows = windows_of(tokens_to_chorale(tokens[source]), source, frames)
        rng.shuffle(windows)
        per_source.append(windows)
    rounds = max((len(w) for w in per_source), default=0)
    return [w[r] for r in range(rounds) for w in per_source if r < len(w)]


def window_tokens(tokens: list[str], start: int, end: int) -> list[str]:
    """Frames ``start .. end-1`` of a token stream, as a stream of their own."""
    from composer.encoding import chorale_to_tokens, tokens_to_chorale
    from composer.pairing import window_chorale

    return chorale_to_tokens(window_chorale(tokens_to_chorale(tokens), start, end))


def draw_shift(excerpts: Sequence[list[str]], seed: int) -> int:
    """One key for both clips of a pair, drawn at random (composer.pairing.common_shifts)."""
    from composer.encoding import tokens_to_chorale
    from composer.pairing import draw_shift as draw

    return draw([tokens_to_chorale(t) for t in excerpts], random.Random(seed))


# --- what a clip is, as an audit sees it --------------------------------------------------------


def ends_on_fermata(tokens: list[str], start: int, end: int) -> bool:
    """Whether frames ``start .. end-1`` of ``tokens`` end under a fermata (on a cadence)."""
    from composer.encoding import tokens_to_chorale
    from composer.pairing import ends_on_fermata as ends
    from composer.pairing import window_chorale

    return ends(window_chorale(tokens_to_chorale(tokens), start, end))


def placed_key(tokens: list[str], shift: int) -> str:
    """The key of a whole piece by the corpus's analysis, moved by ``shift``: e.g. "D major"."""
    from composer.encoding import tokens_to_chorale
    from composer.keys import key_of
    from composer.pairing import key_name

    found = key_of(tokens_to_chorale(tokens))
    tonic_from_c = found.tonic - (0 if found.mode == "major" else 9)
    return key_name(str(found.mode), tonic_from_c + shift)


def measure_audio(path: Path) -> dict[str, float]:
    """What a listener's software could read off an MP3 without the music: its decoded length
    (s), integrated loudness (LUFS) and bitrate (kbit/s over the decoded length)."""
    from composer.render.audio import SAMPLE_RATE
    from composer.render.loudness import integrated_loudness
    from composer.render.programs import decode_mp3  # ffmpeg's decoder: not the encoder's own

    samples = decode_mp3(path)
    seconds = len(samples) / SAMPLE_RATE
    return {
        "duration_s": seconds,
        "lufs": float(integrated_loudness(samples, SAMPLE_RATE)),
        "kbps": path.stat().st_size * 8 / 1000 / seconds if seconds else 0.0,
    }


# --- the machine judge (composer.judge) ----------------------------------------------------------


@dataclass(frozen=True)
class Excerpt:
    """Frames ``start .. end-1`` of a token stream: one side of a question, as it is heard."""

    tokens: list[str]
    start: int
    end: int


def judge_pairs(pairs: Sequence[tuple[Excerpt, Excerpt]], paired: bool, seed: int = 0) -> dict:
    """composer.judge's verdict on (Bach, generated) pairs: accuracy, interval, n (excerpts
    judged), right, tells. ``paired``: each generated excerpt re-writes the Bach one beside it
    (a harmonization), so both halves of a pair fall in one fold. Both sides are taken in C
    major / A minor, untransposed, as the batches store them. ValueError with too few pairs."""
    from composer.encoding import tokens_to_chorale
    from composer.judge.verdict import judge
    from composer.pairing import window_chorale

    whole: dict[tuple[str, ...], Any] = {}

    def cut(excerpt: Excerpt) -> Any:
        key = tuple(excerpt.tokens)
        if key not in whole:  # windows of one real chorale face several pieces
            whole[key] = tokens_to_chorale(excerpt.tokens)
        return window_chorale(whole[key], excerpt.start, excerpt.end)

    bach = [cut(real) for real, _ in pairs]
    network = [cut(generated) for _, generated in pairs]
    verdict = judge(bach, network, seed=seed, paired=paired)
    return verdict.as_dict()


# --- rendering -----------------------------------------------------------------------------------


def render_clip(tokens: list[str], shift: int, clips_dir: Path, scores_dir: Path) -> RenderedClip:
    """MP3 and one-page SVG of an excerpt (a token stream) moved by ``shift`` semitones, by the
    one render path, under opaque names."""
    from composer.encoding import tokens_to_chorale, transpose_chorale
    from composer.pairing import key_signature
    from composer.paths import opaque_name
    from composer.render.audio import SECONDS_PER_FRAME, TAIL_S, render_mp3_alongside
    from composer.render.svg import chorale_to_svg

    chorale = transpose_chorale(tokens_to_chorale(tokens), shift)

    def engrave() -> list[str]:
        return chorale_to_svg(chorale, key_signature(shift), options=SVG_OPTIONS)

    # Frames straight to MIDI, no score read back; the score's MusicXML is written from the same
    # frames (no music21 score) and engraved while the MP3 encodes (render_mp3_alongside).
    audio, pages = render_mp3_alongside(chorale, clips_dir, engrave)
    if len(pages) != 1:
        audio.unlink(missing_ok=True)
        raise GenerationError(f"the score of a {chorale.frames}-frame clip took {len(pages)} pages")
    svg = scores_dir / opaque_name(".svg")
    svg.write_text(pages[0])
    duration = chorale.frames * SECONDS_PER_FRAME + TAIL_S
    return RenderedClip(audio, svg, chorale.frames, duration)


def style(tokens: list[str]) -> dict:
    """composer.style's report: each measure with Bach's mean and 10th-90th percentiles."""
    from composer.style import style_report

    return style_report(tokens)
