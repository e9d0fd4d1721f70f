"""A participant belongs to the browser session that created them.

The session stores the participant's id; the database stores no session key, cookie or IP
address. (Binding by session key would break whenever Django rotates the key.) The session also
counts how many participants this browser has started: that count is the new participant's
``Participant.attempt``, which the statistics' repeat-attempts rule reads (research.stats); it
keeps the ids of this browser's earlier attempts, so that a new attempt is drawn away from what
was heard and a withdrawal deletes them all; and it keeps the withdrawal code (one for all the
browser's attempts) to show it on the results page.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from bachsurvey.models import Participant

PARTICIPANT_KEY = "bachsurvey_participant"
ATTEMPTS_KEY = "bachsurvey_attempts"
# The participant's withdrawal code as shown ("ABCD-2345"); the database holds only its hash
# (bachsurvey.consent.codes), so this session is what shows it again after a reload.
CODE_KEY = "bachsurvey_withdrawal_code"
EARLIER_KEY = "bachsurvey_earlier"  # this browser's earlier participants' ids, oldest first
MAX_EARLIER = 50  # a bound on the session's size; attempts beyond it are rare and harmless


def bound_participant_id(request: HttpRequest) -> str | None:
    return request.session.get(PARTICIPANT_KEY)


def next_attempt(request: HttpRequest) -> int:
    return int(request.session.get(ATTEMPTS_KEY, 0)) + 1


def earlier_participant_ids(request: HttpRequest) -> list[str]:
    return list(request.session.get(EARLIER_KEY, []))


def bind(request: HttpRequest, participant: Participant, withdrawal_code: str) -> None:
    """Make ``participant`` this browser's own; the one it replaces joins the earlier ones."""
    previous = bound_participant_id(request)
    if previous and previous != str(participant.pk):
        earlier = [*earlier_participant_ids(request), previous][-MAX_EARLIER:]
        request.session[EARLIER_KEY] = earlier
    request.session[PARTICIPANT_KEY] = str(participant.pk)
    request.session[ATTEMPTS_KEY] = participant.attempt
    request.session[CODE_KEY] = withdrawal_code


def withdrawal_code(request: HttpRequest) -> str | None:
    return request.session.get(CODE_KEY)


def own_participant_id(request: HttpRequest, participant_id: object) -> str:
    """The id, if it is this browser's participant's (not read from the database), or 404."""
    if str(participant_id) != bound_participant_id(request):
        raise Http404(_("No such participant in this browser."))
    return str(participant_id)


def own_participant(request: HttpRequest, participant_id: object) -> Participant:
    """This browser's participant, or 404: another participant's id is treated as unknown."""
    own_participant_id(request, participant_id)
    try:
        return Participant.objects.get(pk=participant_id)
    except Participant.DoesNotExist:
        raise Http404(_("No such participant.")) from None
