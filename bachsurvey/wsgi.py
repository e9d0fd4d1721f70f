"""WSGI entry point, e.g. `gunicorn bachsurvey.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bachsurvey.settings")

django_application = get_wsgi_application()

# A participant's audio is decided before Django's handler when it can be
# (bachsurvey.quiz.clip_fast); imported once Django is set up, as it reads the models.
from bachsurvey.quiz import clip_fast  # noqa: E402

application = clip_fast.wrap(django_application)
