"""The Django admin, where Django looks for it: each room registers its own pages on import."""

from bachsurvey.consent import admin as consent_admin  # noqa: F401
from bachsurvey.generation import admin as generation_admin  # noqa: F401
from bachsurvey.logins import admin as logins_admin  # noqa: F401
from bachsurvey.quiz import admin as quiz_admin  # noqa: F401
