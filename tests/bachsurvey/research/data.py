"""Seeded synthetic answers in the database, and the figures they should give, computed here
independently of bachsurvey.research.stats (closed-form Wilson, beta quantiles, binomial tails).

Shared by the researcher API, export and dashboard tests (tests/browser imports it too).
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token
from scipy.stats import beta, binom, norm

from bachsurvey.models import (
    AgeGroup,
    Answer,
    Assignment,
    Batch,
    Chorale,
    Clip,
    Participant,
    Question,
)
from bachsurvey.research.role import researcher_group
from composer.voices import CATEGORIES

EXPERIENCES = ["novice", "intermediate", "advanced", "expert"]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Z = norm.ppf(0.975)


@dataclass
class Seeded:
    questions: list[Question]
    answers: list[dict[str, Any]]  # the answers that count: one dict per answer, all its facts
    withdrawn_answers: int
    batch: Batch
    by_question: dict[str, Question] = field(default_factory=dict)


def _question(rng: random.Random, batch: Batch, category: str, number: int) -> Question:
    frames = rng.choice([32, 48, 64])
    seconds = round(rng.uniform(6, 14), 3)
    source = f"synthetic-bwv{number}"  # apart from conftest's make_question sources
    real = Chorale.objects.create(kind="real", tokens=[], frames=frames, source=source)
    generated = Chorale.objects.create(
        kind="generated",
        tokens=[],
        frames=frames,
        source="" if category == "SATB" else source,
        mask=category,
        checkpoint=f"runs/grid/{number % 3}/best.pt",
        temperature=round(0.5 + number / 20, 3),
        seed=1000 + number,
        batch=batch,
    )
    clips = [
        Clip.objects.create(
            chorale=chorale,
            frame_end=frames,
            audio=f"clips/{uuid.uuid4().hex}.mp3",
            score=f"scores/{uuid.uuid4().hex}.svg",
            duration_s=seconds,
        )
        for chorale in (real, generated)
    ]
    return Question.objects.create(
        category=category, clip_real=clips[0], clip_generated=clips[1], status="approved", live=True
    )


def seed_answers(participants: int = 60, seed: int = 8, days: int = 6) -> Seeded:
    """Questions (two per category), participants with up to five answers each over ``days``
    days, and one withdrawn participant whose leftover answers must never count."""
    rng = random.Random(seed)
    batch = Batch.objects.create(name=f"synthetic {seed}")
    questions = [
        _question(rng, batch, category, 10 * k + i)
        for k, category in enumerate(CATEGORIES)
        for i in range(2)
    ]
    skill = {e: 0.5 + 0.08 * i for i, e in enumerate(EXPERIENCES)}
    facts: list[dict[str, Any]] = []
    answers: list[Answer] = []
    withdrawn = 0
    for number in range(participants + 1):
        is_withdrawn = number == participants
        experience = rng.choice(EXPERIENCES)
        participant = Participant.objects.create(
            consented_at=START,
            age_group=rng.choice(AgeGroup.values),
            experience=experience,
            attempt=2 if rng.random() < 0.12 else 1,
            withdrawn_at=START if is_withdrawn else None,
        )
        count = 5 if rng.random() < 0.85 else rng.randint(1, 4)
        chosen = rng.sample(questions, count)
        assignments = Assignment.objects.bulk_create(
            Assignment(participant=participant, question=q, position=i, bach_side=rng.choice("AB"))
            for i, q in enumerate(chosen)
        )
        day = rng.randrange(days)
        for assignment, question in zip(assignments, chosen, strict=True):
            correct = rng.random() < skill[experience] + (0.1 if question.category == "S" else 0)
            other = "B" if assignment.bach_side == "A" else "A"
            durations = (
                round(question.clip_real.duration_s * 1000),
                round(question.clip_generated.duration_s * 1000),
            )
            heard = {"A": True, "B": rng.random() > 0.1}
            elapsed = None if rng.random() < 0.06 else sum(durations) + rng.randint(-4000, 30000)
            answer = Answer(
                assignment=assignment,
                choice=assignment.bach_side if correct else other,
                correct=correct,
                response_ms=rng.randint(400, 25000),
                elapsed_ms=elapsed,
                plays={"A": rng.randint(1, 3), "B": rng.randint(1, 2)},
                heard_fully=heard,
            )
            answers.append(answer)
            if is_withdrawn:
                withdrawn += 1
                continue
            facts.append(
                {
                    "answer": answer,
                    "participant_id": str(participant.pk),
                    "experience": experience,
                    "attempt": participant.attempt,
                    "question_id": str(question.pk),
                    "category": question.category,
                    "bach_side": assignment.bach_side,
                    "correct": correct,
                    "heard_fully": all(heard.values()),
                    "faster": None if elapsed is None else elapsed < sum(durations),
                    "day": day,
                    "question": question,
                }
            )
    Answer.objects.bulk_create(answers)
    days_of: dict[int, list[int]] = defaultdict(list)
    for fact in facts:
        days_of[fact["day"]].append(fact["answer"].pk)
    for day, pks in days_of.items():  # created_at is auto_now_add: spread the days afterwards
        Answer.objects.filter(pk__in=pks).update(created_at=START + timedelta(days=day))
    return Seeded(questions, facts, withdrawn, batch, {str(q.pk): q for q in questions})


def make_user(username: str, researcher: bool, password: str | None = None) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username, password=password)
    if researcher:
        user.groups.add(researcher_group())
    return user


def token_for(user: AbstractBaseUser) -> str:
    return Token.objects.get_or_create(user=user)[0].key


# --- the figures, computed independently ---------------------------------------------------------


def wilson(k: int, n: int) -> list[float]:
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return [centre - half, centre + half]


def clopper_pearson(k: int, n: int) -> list[float]:
    lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return [float(lo), float(hi)]


def expected_cell(answers: list[dict[str, Any]]) -> dict[str, Any]:
    n, k = len(answers), sum(a["correct"] for a in answers)
    if n == 0:
        return {"n": 0, "correct": 0, "accuracy": None, "wilson": None, "p_value": None}
    p = min(max(k / n, 1 / (2 * n)), 1 - 1 / (2 * n))
    return {
        "n": n,
        "correct": k,
        "accuracy": k / n,
        "wilson": wilson(k, n),
        "clopper_pearson": clopper_pearson(k, n),
        "p_value": float(binom.sf(k - 1, n, 0.5)),
        "d_prime": math.sqrt(2) * norm.ppf(p),
    }


def in_cell(answer: dict[str, Any], category: str, experience: str) -> bool:
    return category in ("all", answer["category"]) and experience in ("all", answer["experience"])


def kept(answers: list[dict[str, Any]], **rules: bool) -> list[dict[str, Any]]:
    """The answers left when the named rules are on (an undetermined answer is kept)."""
    out = answers
    if rules.get("not_heard_fully"):
        out = [a for a in out if a["heard_fully"]]
    if rules.get("faster_than_clips"):
        out = [a for a in out if a["faster"] is not True]
    if rules.get("repeat_attempts"):
        out = [a for a in out if a["attempt"] == 1]
    return out
