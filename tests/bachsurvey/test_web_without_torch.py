"""A whole quiz served and answered by a web process that never imports torch or music21: the
web tier runs on deploy/requirements-web.txt (issue 19, item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.test_dependencies import WEB, normal, pins

REPO = Path(settings.BASE_DIR)
QUIZ = """
import json, sys, django
django.setup()
from django.test import Client
client = Client()
assert client.get("/").status_code == 200
body = {"consent": True, "age_group": "26-45", "experience": "intermediate"}
started = client.post("/api/participants/", body, content_type="application/json")
assert started.status_code == 201, started.content
participant = started.json()
for question in participant["questions"]:
    assert client.get(question["clips"][0]["audio_url"]).status_code == 200
    answer = {"question": question["id"], "choice": "A", "response_ms": 4000,
              "plays": {"A": 1, "B": 1}, "heard_fully": {"A": True, "B": True}}
    reply = client.post(f"/api/participants/{participant['id']}/answers/", answer,
                        content_type="application/json")
    assert reply.status_code == 201, reply.content
progress = client.get(f"/api/participants/{participant['id']}/").json()
from importlib.metadata import packages_distributions
owners = packages_distributions()
loaded = sorted({d for m in list(sys.modules) for d in owners.get(m.split(".")[0], [])})
print(json.dumps({"answered": len(participant["questions"]), "progress": progress,
                  "heavy": [m for m in ("torch", "music21") if m in sys.modules],
                  "distributions": loaded}))
"""


def test_a_whole_quiz_never_imports_torch_or_music21(live_quiz: list) -> None:
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    if connection.vendor != "postgresql":
        url = f"sqlite:///{database['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bachsurvey.settings",
        "DATABASE_URL": url,
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", QUIZ], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["answered"] == 5
    assert report["heavy"] == [], report["heavy"]
    assert report["progress"]["status"] == "finished" and report["progress"]["results"]
    # What it loaded that requirements.txt pins, the web server's own set pins too.
    pinned = set(pins(REPO / "requirements.txt"))
    loaded = {normal(name) for name in report["distributions"]} & pinned
    assert loaded <= set(pins(WEB)), sorted(loaded - set(pins(WEB)))
