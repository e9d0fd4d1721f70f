"""The listening test's data, where Django looks for the app's models: the content of the quiz
(models.content: batches, chorales, clips, questions, grid runs), its participants
(models.participants: participants, assignments, answers, clip deliveries), the study they
agree to (models.study: its versions), and the public harmonizer's requests
(models.harmonizations).

Every model and choice is imported from here (``from bachsurvey.models import Question``); the
migrations name ``bachsurvey.models.new_seed`` and ``bachsurvey.models.new_media_key`` too.
"""

from bachsurvey.models.content import (
    MAX_BATCH_COUNT,
    MAX_SEED,
    SINGLE_VOICE,
    Batch,
    Category,
    Chorale,
    Clip,
    GridRun,
    Question,
    new_seed,
)
from bachsurvey.models.harmonizations import Harmonization
from bachsurvey.models.participants import (
    AGE_GROUP_YOUNGEST,
    AgeGroup,
    Answer,
    Assignment,
    ClipDelivery,
    Experience,
    Participant,
    Side,
    new_media_key,
)
from bachsurvey.models.study import MINIMUM_AGES, MinorsPolicy, Study

__all__ = [
    "AGE_GROUP_YOUNGEST",
    "MINIMUM_AGES",
    "MAX_BATCH_COUNT",
    "MAX_SEED",
    "SINGLE_VOICE",
    "AgeGroup",
    "Answer",
    "Assignment",
    "Batch",
    "Category",
    "Chorale",
    "Clip",
    "ClipDelivery",
    "Experience",
    "GridRun",
    "Harmonization",
    "MinorsPolicy",
    "Participant",
    "Question",
    "Side",
    "Study",
    "new_media_key",
    "new_seed",
]
