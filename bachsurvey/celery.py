"""The Celery app, as in Celery's Django example; `celery -A bachsurvey worker` finds it here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bachsurvey.settings")

app = Celery("bachsurvey")
# Every Celery option is read from Django settings prefixed CELERY_ (e.g. CELERY_BROKER_URL).
app.config_from_object("django.conf:settings", namespace="CELERY")
# Picks up tasks.py in every installed app.
app.autodiscover_tasks()
