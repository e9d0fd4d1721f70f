"""``python -m composer prepare``: encode the whole corpus once and report on it.

Writes, under ``var/corpus/`` (git-ignored): ``tokens.json`` (chorale id -> token list),
``exclusions.json``, ``stats.json`` and two PNG plots (pitch classes and pitches, before and
after preprocessing). The vocabulary and the split are committed under ``composer/data/``: they
are created on the first run and only checked afterwards, so ids and held-out chorales never
change between machines. A second run with unchanged code and music21 reads the cache.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import music21
from tqdm import tqdm

from composer import corpus, encoding
from composer.metre import BAR_PHASE_PATH
from composer.paths import REPO_ROOT
from composer.vocabulary import VOCABULARY_PATH, Vocabulary, load_vocabulary

CORPUS_DIR = REPO_ROOT / "var" / "corpus"
SPLIT_PATH = encoding.DATA_DIR / "split.json"
SPLIT_SEED = 2016
VALIDATION_FRACTION = 0.1


@dataclass
class PreparedCorpus:
    tokens: dict[str, list[str]]
    exclusions: list[dict[str, str]]
    stats: dict


def cache_key() -> str:
    """Changes whenever the recipe or music21 does, so a stale cache is never read."""
    digest = hashlib.sha256(music21.__version__.encode())
    for module in (corpus, encoding):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def make_split(ids: list[str], seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """90/10 by chorale, seeded: the same ids give the same split everywhere."""
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    n_validation = max(1, round(len(shuffled) * VALIDATION_FRACTION))
    return {"train": sorted(shuffled[n_validation:]), "validation": sorted(shuffled[:n_validation])}


def load_split(path: Path = SPLIT_PATH) -> dict[str, list[str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m composer prepare`")
    return json.loads(path.read_text())


def load_tokens(directory: Path = CORPUS_DIR) -> dict[str, list[str]]:
    """The encoded corpus written by ``prepare``, running ``prepare`` first if it is missing."""
    path = directory / "tokens.json"
    if not path.exists():
        prepare(directory)
    return json.loads(path.read_text())


def corpus_ids(split_name: str) -> list[list[int]]:
    """The committed split's chorales (``"train"`` or ``"validation"``), as vocabulary ids."""
    vocabulary = load_vocabulary()
    tokens = load_tokens()
    return [vocabulary.encode(tokens[cid]) for cid in load_split()[split_name]]


def _statistics(tokens: dict[str, list[str]], vocabulary_size: int, frames: dict[str, int]) -> dict:
    lengths = sorted(len(t) for t in tokens.values())
    frame_counts = sorted(frames.values())
    return {
        "chorales": len(tokens),
        "tokens": sum(lengths),
        "vocabulary_size": vocabulary_size,
        "distinct_tokens_in_corpus": len({t for ts in tokens.values() for t in ts}),
        "tokens_per_chorale": {
            "min": lengths[0],
            "median": lengths[len(lengths) // 2],
            "mean": round(sum(lengths) / len(lengths), 1),
            "max": lengths[-1],
        },
        "frames_per_chorale": {
            "min": frame_counts[0],
            "median": frame_counts[len(frame_counts) // 2],
            "max": frame_counts[-1],
        },
    }


def _plot(before: Counter, after: Counter, directory: Path) -> None:
    """Pitch-class histogram and pitch distribution, before and after (as in the article)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, counts, title in ((axes[0], before, "before"), (axes[1], after, "after")):
        classes = Counter()
        for midi, n in counts.items():
            classes[midi % 12] += n
        ax.bar(
            names,
            [classes[i] for i in range(12)],
            color="tab:blue" if title == "before" else "tab:green",
        )
        ax.set_title(f"Pitch classes {title} preprocessing")
        ax.set_xlabel("pitch class")
    axes[0].set_ylabel("notes")
    fig.tight_layout()
    fig.savefig(directory / "pitch_class_histogram.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 4))
    low = min(min(before), min(after))
    high = max(max(before), max(after))
    xs = list(range(low, high + 1))
    ax.step(xs, [before[x] for x in xs], where="mid", label="before (original keys)")
    ax.step(xs, [after[x] for x in xs], where="mid", label="after (C major / A minor)")
    ax.set_xlabel("MIDI pitch")
    ax.set_ylabel("notes")
    ax.set_title("Pitch distribution before and after preprocessing")
    ax.legend()
    fig.tight_layout()
    fig.savefig(directory / "pitch_distribution.png", dpi=100)
    plt.close(fig)


def _frozen_vocabulary(tokens: dict[str, list[str]]) -> Vocabulary:
    """The committed vocabulary; built and written only if none is committed yet."""
    observed = {t for ts in tokens.values() for t in ts}
    if VOCABULARY_PATH.exists():
        vocabulary = load_vocabulary()
        missing = sorted(observed - set(vocabulary.tokens))
        if missing:
            raise encoding.EncodingError(
                f"the corpus has tokens the committed vocabulary lacks: {missing[:10]}"
            )
        return vocabulary
    vocabulary = Vocabulary.build(observed)
    VOCABULARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    VOCABULARY_PATH.write_text(vocabulary.to_json())
    return vocabulary


def _frozen_split(ids: list[str]) -> dict[str, list[str]]:
    if SPLIT_PATH.exists():
        split = load_split()
        unknown = set(split["train"] + split["validation"]) - set(ids)
        if unknown:
            raise ValueError(
                f"{SPLIT_PATH} names chorales the corpus no longer yields: {sorted(unknown)[:5]}"
            )
        return split
    split = make_split(ids)
    SPLIT_PATH.write_text(json.dumps(split, indent=1) + "\n")
    return split


def prepare(
    directory: Path = CORPUS_DIR, force: bool = False, quiet: bool = False
) -> PreparedCorpus:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / "manifest.json"
    key = cache_key()
    if not force and manifest.exists() and json.loads(manifest.read_text()).get("cache_key") == key:
        return PreparedCorpus(
            json.loads((directory / "tokens.json").read_text()),
            json.loads((directory / "exclusions.json").read_text()),
            json.loads((directory / "stats.json").read_text()),
        )
    started = time.monotonic()
    tokens: dict[str, list[str]] = {}
    frames: dict[str, int] = {}
    phases: dict[str, int] = {}
    exclusions: list[dict[str, str]] = []
    before: Counter = Counter()
    after: Counter = Counter()
    keys: Counter = Counter()
    sources = corpus.chorale_sources()
    for result in tqdm(
        corpus.scan_corpus(), total=len(sources), desc="prepare", unit="chorale", disable=quiet
    ):
        if isinstance(result, corpus.Exclusion):
            exclusions.append({"chorale_id": result.chorale_id, "reason": result.reason})
            continue
        tokens[result.chorale_id] = encoding.score_to_tokens(result.score)
        frames[result.chorale_id] = result.chorale.frames
        phases[result.chorale_id] = result.bar_phase
        before.update(result.original_pitches)
        after.update(n.midi for voice in result.chorale.voices for n in voice)
        keys[result.original_key] += 1
    vocabulary = _frozen_vocabulary(tokens)
    split = _frozen_split(sorted(tokens))
    stats = _statistics(tokens, len(vocabulary), frames)
    stats["excluded"] = len(exclusions)
    stats["split"] = {name: len(ids) for name, ids in split.items()}
    stats["original_keys"] = dict(keys.most_common())
    stats["bar_phase"] = {str(p): n for p, n in sorted(Counter(phases.values()).items())}
    stats["seconds"] = round(time.monotonic() - started, 1)
    (directory / "tokens.json").write_text(json.dumps(tokens))
    (directory / "exclusions.json").write_text(json.dumps(exclusions, indent=1) + "\n")
    (directory / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    # Committed, like the split: the metre-aware composer reads it in training and sampling.
    BAR_PHASE_PATH.write_text(json.dumps(phases, indent=0, sort_keys=True) + "\n")
    _plot(before, after, directory)
    manifest.write_text(json.dumps({"cache_key": key}) + "\n")
    return PreparedCorpus(tokens, exclusions, stats)


def report(prepared: PreparedCorpus, directory: Path = CORPUS_DIR) -> str:
    stats = prepared.stats
    lines = [
        f"kept {stats['chorales']} chorales, excluded {len(prepared.exclusions)}:",
        *(f"  {e['chorale_id']}: {e['reason']}" for e in prepared.exclusions),
        f"tokens: {stats['tokens']}  vocabulary: {stats['vocabulary_size']} "
        f"({stats['distinct_tokens_in_corpus']} seen)",
        f"tokens per chorale: {stats['tokens_per_chorale']}",
        f"split: {stats['split']}",
        f"frame 0's place in its bar (sixteenths: chorales): {stats.get('bar_phase')}",
        f"written to {directory} (tokens.json, exclusions.json, stats.json, "
        "pitch_class_histogram.png, pitch_distribution.png)",
    ]
    return "\n".join(lines)
