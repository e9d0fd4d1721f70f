"""The validity audit of the live pool (issue 16, rule 10): can anything but the music tell Bach?

``audit()`` checks every live question and returns one JSON-ready report:

* ``questions``: live questions per category;
* ``shared_audio`` / ``shared_excerpts``: audio files (by name or content) and Bach excerpts
  (a chorale's frames; overlapping ones count as one) behind more than one live question;
* ``endings_differ``: pairs where one clip stops on a fermata chord and the other does not;
* ``keys_differ``: pairs whose clips were placed in different keys (the key of the piece each
  was cut from, by the corpus's own analysis, moved by the clip's transposition; a
  harmonization is placed in its Bach source's key);
* ``differences``: per pair, the Bach clip's duration, loudness, size and bitrate minus the
  network's, measured from the files, and the largest of each;
* ``judge``: a logistic regression that sees only non-musical features of the two clips
  (duration, size, loudness, bitrate, ends on a fermata, how many questions the audio backs,
  which clip was stored first, which file is older) and guesses which one is Bach. Its accuracy
  is cross-validated (each question predicted by a model fitted without it), with an exact 95%
  interval: on a fair pool the interval includes 50%.

``broken`` names the rules the pool breaks; ``audit_validity`` exits 1 when it is not empty.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from statsmodels.stats.proportion import proportion_confint

from bachsurvey.generation import music, validity
from bachsurvey.models import Category, Chorale, Clip, Question

# Beyond these a pair differs by more than the render path allows (it aims at equal lengths to
# the frame, -16 LUFS within 0.1 dB, 128 kbit/s CBR); measured differences are far smaller.
TOLERANCE = {"duration_s": 0.05, "lufs": 0.5, "bytes": 0.02, "kbps": 2.0}  # bytes: a ratio
JUDGE_FEATURES = ("duration_s", "bytes", "lufs", "kbps", "ends_on_fermata", "backs",
                  "stored_first", "older_file")  # fmt: skip
JUDGE_SEED = 16  # which clip of each pair the judge sees as A: fixed, so a report is stable
MAX_FOLDS = 10
_measured: dict[str, dict[str, float]] = {}  # per content hash, for the life of the process


class AudioMissing(Exception):
    """A live clip's audio file is not in the media storage: the pool can be neither audited nor
    played."""


@dataclass
class ClipFacts:
    """What a script could read off one clip of a pair, besides the music."""

    clip: Clip
    duration_s: float
    lufs: float
    kbps: float
    bytes: int
    ends_on_fermata: bool
    key: str
    backs: int  # live questions whose clips include this audio (by name or content)
    mtime: float


def _measure(clip: Clip) -> dict[str, float]:
    path = Path(settings.MEDIA_ROOT) / clip.audio.name
    cache_key = clip.audio_sha256 or f"{clip.audio.name}:{path.stat().st_mtime_ns}"
    if cache_key not in _measured:
        _measured[cache_key] = music.measure_audio(path)
    return _measured[cache_key]


def _facts(
    clip: Clip, key_from: Chorale, backs: int, keys: dict[tuple[int, int], str]
) -> ClipFacts:
    path = Path(settings.MEDIA_ROOT) / clip.audio.name
    if not path.is_file():
        raise AudioMissing(
            f"clip {clip.pk}: audio file {clip.audio.name} is missing from MEDIA_ROOT "
            f"({settings.MEDIA_ROOT})"
        )
    if (key_from.pk, clip.transpose) not in keys:
        keys[key_from.pk, clip.transpose] = music.placed_key(key_from.tokens, clip.transpose)
    measured = _measure(clip)
    chorale = clip.chorale
    return ClipFacts(
        clip=clip,
        duration_s=measured["duration_s"],
        lufs=measured["lufs"],
        kbps=measured["kbps"],
        bytes=clip.audio_bytes or path.stat().st_size,
        ends_on_fermata=music.ends_on_fermata(chorale.tokens, clip.frame_start, clip.frame_end),
        key=keys[key_from.pk, clip.transpose],
        backs=backs,
        mtime=path.stat().st_mtime,
    )


def _audio_identity(clip: Clip) -> list[str]:
    return [f"name:{clip.audio.name}"] + ([f"sha:{clip.audio_sha256}"] if clip.audio_sha256 else [])


def _shared(questions: list[Question]) -> tuple[list[dict], list[dict], Counter[str]]:
    """Audio files and Bach excerpts behind more than one question, and how many questions each
    audio identity backs."""
    by_audio: dict[str, set[str]] = defaultdict(set)
    for question in questions:
        for clip in (question.clip_real, question.clip_generated):
            for identity in _audio_identity(clip):
                by_audio[identity].add(str(question.pk))
    shared_audio = [
        {"audio": identity, "questions": sorted(ids)}
        for identity, ids in sorted(by_audio.items())
        if len(ids) > 1
    ]
    excerpts = [(validity.excerpt_of(q), str(q.pk)) for q in questions]
    shared_excerpts = []
    for i, (excerpt, pk) in enumerate(excerpts):
        for other, other_pk in excerpts[i + 1 :]:
            if excerpt.overlaps(other):
                shared_excerpts.append(
                    {"excerpts": [str(excerpt), str(other)], "questions": [pk, other_pk]}
                )
    backs = Counter({identity: len(ids) for identity, ids in by_audio.items()})
    return shared_audio, shared_excerpts, backs


def _pair_row(question: Question, real: ClipFacts, generated: ClipFacts) -> dict[str, Any]:
    return {
        "question": str(question.pk),
        "category": question.category,
        "keys": [real.key, generated.key],
        "ends_on_fermata": [real.ends_on_fermata, generated.ends_on_fermata],
        "duration_s": round(real.duration_s - generated.duration_s, 4),
        "lufs": round(real.lufs - generated.lufs, 3),
        "bytes": real.bytes - generated.bytes,
        "kbps": round(real.kbps - generated.kbps, 3),
        "over_tolerance": _over_tolerance(real, generated),
    }


def _over_tolerance(real: ClipFacts, generated: ClipFacts) -> list[str]:
    over = []
    for name in ("duration_s", "lufs", "kbps"):
        if abs(getattr(real, name) - getattr(generated, name)) > TOLERANCE[name]:
            over.append(name)
    if abs(real.bytes - generated.bytes) > TOLERANCE["bytes"] * max(real.bytes, generated.bytes):
        over.append("bytes")
    return over


def _features(facts: ClipFacts, other: ClipFacts) -> list[float]:
    """One clip's non-musical features, as differences from the other clip's."""
    return [
        facts.duration_s - other.duration_s,
        float(facts.bytes - other.bytes),
        facts.lufs - other.lufs,
        facts.kbps - other.kbps,
        float(facts.ends_on_fermata) - float(other.ends_on_fermata),
        float(facts.backs - other.backs),
        1.0 if facts.clip.pk < other.clip.pk else -1.0,
        1.0 if facts.mtime < other.mtime else (-1.0 if facts.mtime > other.mtime else 0.0),
    ]


def judge(pairs: list[tuple[ClipFacts, ClipFacts]], seed: int = JUDGE_SEED) -> dict[str, Any]:
    """Cross-validated accuracy of a logistic regression guessing Bach's clip from
    non-musical features alone (see the module doc).

    Each pair is shown with Bach as A or B at random; a row is A's features minus B's, the
    label whether A is Bach; the model has no intercept and its features are scaled without
    centring, so swapping A and B swaps its answer. Every question is predicted by a model fitted
    on the others (k-fold, at most MAX_FOLDS folds).

    The folds keep the pool's own balance: each holds as many pairs with Bach stored first as
    the pool does (pieces.bach_first makes that exactly half). Folds drawn without regard to it
    leave training sets tilted against whatever the test fold holds, and a judge fitted on them
    guesses systematically wrong: 39% on a fair 112-question pool, an interval that excluded 50%
    from below.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = random.Random(seed)
    rows, labels, strata = [], [], []
    for real, generated in pairs:
        bach_is_a = rng.random() < 0.5
        a, b = (real, generated) if bach_is_a else (generated, real)
        rows.append(_features(a, b))
        labels.append(int(bach_is_a))
        strata.append((int(bach_is_a), real.clip.pk < generated.clip.pk))
    n = len(labels)
    out: dict[str, Any] = {"features": list(JUDGE_FEATURES), "n": n}
    counts = Counter(strata)
    folds = min(MAX_FOLDS, min(counts.values(), default=0))
    if folds < 2 or len(counts) < 4:  # a stratum too small or absent: by the label alone
        strata = [(label, True) for label in labels]
        folds = min(MAX_FOLDS, min(Counter(labels).values(), default=0))
    if folds < 2:
        return {**out, "accuracy": None, "interval": None, "note": "too few questions to judge"}
    model = make_pipeline(
        StandardScaler(with_mean=False), LogisticRegression(fit_intercept=False, C=1.0)
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    groups = np.array([f"{label}{first}" for label, first in strata])
    folds_of = list(cv.split(np.zeros(n), groups))
    predicted = cross_val_predict(model, np.array(rows), np.array(labels), cv=folds_of)
    correct = int((predicted == np.array(labels)).sum())
    low, high = proportion_confint(correct, n, alpha=0.05, method="beta")
    return {**out, "correct": correct, "accuracy": correct / n, "interval": [low, high],
            "folds": folds}  # fmt: skip


def audit(questions: list[Question] | None = None) -> dict[str, Any]:
    """The report for ``questions`` (default: every live question); see the module doc."""
    if questions is None:
        questions = list(
            Question.objects.filter(live=True)
            .select_related("clip_real__chorale", "clip_generated__chorale")
            .order_by("created_at", "pk")
        )
    shared_audio, shared_excerpts, backs = _shared(questions)
    keys: dict[tuple[int, int], str] = {}
    pairs, rows = [], []
    for question in questions:
        real_clip, generated_clip = question.clip_real, question.clip_generated
        free = question.category == Category.SATB
        # A harmonization writes into its Bach source's key; a free piece is placed by its own.
        generated_key_from = generated_clip.chorale if free else real_clip.chorale
        real = _facts(real_clip, real_clip.chorale, _backs(real_clip, backs), keys)
        generated = _facts(generated_clip, generated_key_from, _backs(generated_clip, backs), keys)
        pairs.append((real, generated))
        rows.append(_pair_row(question, real, generated))
    report = {
        "questions": {c: sum(q.category == c for q in questions) for c in Category.values},
        "shared_audio": len(shared_audio),
        "shared_excerpts": len(shared_excerpts),
        "endings_differ": sum(r["ends_on_fermata"][0] != r["ends_on_fermata"][1] for r in rows),
        "keys_differ": sum(r["keys"][0] != r["keys"][1] for r in rows),
        "over_tolerance": sum(bool(r["over_tolerance"]) for r in rows),
        "largest_difference": {
            name: max((abs(r[name]) for r in rows), default=0.0)
            for name in ("duration_s", "lufs", "bytes", "kbps")
        },
        "judge": judge(pairs),
        "details": {
            "shared_audio": shared_audio,
            "shared_excerpts": shared_excerpts,
            "pairs": rows,
        },
    }
    report["broken"] = broken_rules(report)
    return report


def _backs(clip: Clip, backs: Counter[str]) -> int:
    return max(backs[identity] for identity in _audio_identity(clip))


def broken_rules(report: dict[str, Any]) -> list[str]:
    """The rules the report shows broken, each as a line for people."""
    broken = []
    for name in ("shared_audio", "shared_excerpts", "endings_differ", "keys_differ"):
        if report[name]:
            broken.append(f"{name.replace('_', ' ')}: {report[name]}")
    if report["over_tolerance"]:
        broken.append(f"pairs differing beyond tolerance {TOLERANCE}: {report['over_tolerance']}")
    interval = report["judge"].get("interval")
    if interval is not None and interval[0] > 0.5:
        accuracy = report["judge"]["accuracy"]
        broken.append(
            f"the non-musical judge finds Bach {accuracy:.0%} of the time, interval "
            f"{interval[0]:.2f}-{interval[1]:.2f} above 50%"
        )
    return broken


def describe(report: dict[str, Any]) -> list[str]:
    """The report as lines for people (the admin's audit page shows the same)."""
    counts = ", ".join(f"{c} {n}" for c, n in report["questions"].items())
    judge = report["judge"]
    if judge.get("accuracy") is None:
        verdict = judge.get("note", "not run")
    else:
        low, high = judge["interval"]
        verdict = (
            f"{judge['accuracy']:.1%} of {judge['n']} (95% {low:.2f}-{high:.2f}; "
            f"{judge['folds']}-fold cross-validated)"
        )
    largest = report["largest_difference"]
    lines = [
        f"live questions: {sum(report['questions'].values())} ({counts})",
        f"audio files behind more than one question: {report['shared_audio']}",
        f"Bach excerpts behind more than one question: {report['shared_excerpts']}",
        f"pairs whose endings differ (one on a fermata chord): {report['endings_differ']}",
        f"pairs whose clips are in different keys: {report['keys_differ']}",
        (
            "largest difference within a pair: "
            f"{largest['duration_s']:.3f} s, {largest['lufs']:.2f} LU, "
            f"{largest['bytes']} bytes, {largest['kbps']:.2f} kbit/s; "
            f"beyond tolerance: {report['over_tolerance']}"
        ),
        f"non-musical judge: {verdict}",
    ]
    lines += [f"BROKEN: {line}" for line in report["broken"]] or ["all rules hold"]
    return lines
