"""The Celery app, as in Celery's Django example; `celery -A bachsurvey worker` finds it here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bachsurvey.settings")

# The tasks live in the generation and harmonize rooms, not where autodiscovery looks.
app = Celery("bachsurvey", include=["bachsurvey.generation.tasks", "bachsurvey.harmonize.tasks"])
# Every Celery option is read from Django settings prefixed CELERY_ (e.g. CELERY_BROKER_URL).
app.config_from_object("django.conf:settings", namespace="CELERY")
