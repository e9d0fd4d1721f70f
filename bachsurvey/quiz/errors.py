"""The refusals of bachsurvey.quiz.services: typed errors the API maps to HTTP statuses
(bachsurvey.quiz.api.ERROR_STATUS), each with a stable ``code`` for clients."""

from __future__ import annotations


class SurveyError(Exception):
    """A refused request; ``code`` is stable for clients, the message is for people."""

    code = "refused"


class NotEnoughQuestions(SurveyError):
    code = "not_enough_questions"


class ParticipantWithdrawn(SurveyError):
    code = "withdrawn"


class UnknownParticipant(SurveyError):
    code = "not_found"


class NotAssigned(SurveyError):
    code = "not_assigned"


class AlreadyAnswered(SurveyError):
    code = "already_answered"


class OutOfOrder(SurveyError):
    code = "out_of_order"


class StudyChanged(SurveyError):
    code = "study_changed"


class TooYoung(SurveyError):
    code = "too_young"


class GuardianRequired(SurveyError):
    code = "guardian_required"


class NotFinished(SurveyError):
    code = "not_finished"
