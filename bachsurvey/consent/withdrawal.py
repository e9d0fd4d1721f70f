"""Withdrawing by code, from any device: the same deletion and tombstone as the quiz page's own
withdrawal (bachsurvey.quiz.services.withdraw), found through the code's hash."""

from __future__ import annotations

from bachsurvey.consent import codes
from bachsurvey.models import Participant
from bachsurvey.quiz import clip_urls, services


class UnknownCode(Exception):
    """No participant has this code (or it is not a code at all)."""


def withdraw_by_code(typed: str) -> int:
    """Withdraw every participant with the code typed (a browser's attempts share one: played
    again, they are the same person's); the number of answers deleted (0 when withdrawn
    before). UnknownCode when no participant has it."""
    code = codes.normalize(typed)
    if code is None:
        raise UnknownCode(typed)
    attempts = list(Participant.objects.filter(withdrawal_code_hash__in=codes.digests(code)))
    if not attempts:
        raise UnknownCode(typed)
    deleted = 0
    for participant in attempts:
        deleted += services.withdraw(participant)
        clip_urls.mark_ended(participant.pk, 0)  # its clip URLs open nothing any more
    return deleted
