"""gunicorn settings for the site: `gunicorn -c deploy/gunicorn.conf.py` (serves bachsurvey.wsgi).

Everything can be overridden from the environment (a bad value stops start-up, naming the
variable), or on the command line after `-c` (gunicorn's own flags win over this file):

| variable | default | meaning |
|---|---|---|
| GUNICORN_BIND | 127.0.0.1:8000 | address, or several separated by commas |
| WEB_CONCURRENCY | CPUs + 1 | worker processes |
| GUNICORN_THREADS | 4 | threads per worker (1: the sync worker, else gthread) |
| GUNICORN_TIMEOUT | 30 | seconds a request may take before its worker is restarted |
| GUNICORN_ACCESS_LOG | `-` | `-` for stdout (the default), a path, or `off` (see below) |
| GUNICORN_MAX_REQUESTS | 20000 | requests before a worker is replaced (with jitter), 0: never |
| GUNICORN_LOG_LEVEL | info | the error log's level |
| GUNICORN_FORWARDED_ALLOW_IPS | DJANGO_TRUSTED_PROXIES or 127.0.0.1 | proxies gunicorn trusts |

Why these defaults (measured with benchmarks/load on a 2-core machine, README "Benchmarks"):
every request is short and spends its time in Python, so one process per core (plus one, to
cover the moments a process waits on PostgreSQL) is what scales; a few threads per process
overlap those waits and, above all, keep connections alive. gunicorn's sync worker closes every
connection after one request and then waits for the client to close its side: against clients
that keep connections open (browsers, the load client) that made a trivial request ~15x slower
than the gthread worker here. A slow client (a phone on a bad network) holds a thread for its
whole upload, so in front of real users put a buffering proxy (nginx, or the cloud load
balancer) before gunicorn, as gunicorn's own documentation asks, and then run the sync worker,
two per core (GUNICORN_THREADS=1 WEB_CONCURRENCY=4 on two cores; benchmarks/load/serve.sh does):
a gthread worker keeps every connection it accepted, and under the load benchmark one worker
held most of the connections while another idled.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the settings' env helpers, whatever the current folder

from bachsurvey.env import env_int, env_list, env_str  # noqa: E402

chdir = str(REPO)
wsgi_app = "bachsurvey.wsgi:application"

bind = env_list("GUNICORN_BIND", "127.0.0.1:8000")
workers = env_int("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1, minimum=1)
threads = env_int("GUNICORN_THREADS", 4, minimum=1)
# gunicorn picks gthread by itself when threads > 1; say so explicitly for the reader.
worker_class = "gthread" if threads > 1 else "sync"

# Load Django once in the master before forking: a settings error stops start-up at once instead
# of crash-looping workers, and the workers share the imported code's memory. Django opens no
# database connection at import, so no connection is shared across the fork.
preload_app = True


def when_ready(server) -> None:  # type: ignore[no-untyped-def]
    """In the master, after the preload and before the workers fork.

    Django imports the URLconf, and with it every view module, at a process's first request:
    here that is the research pages' scipy, statsmodels and matplotlib too, seconds of CPU that
    each new worker would spend while requests queue behind it (at start, and again whenever
    max_requests replaces one). Imported once here, the workers are born ready and share it.
    gc.freeze() then keeps the collector from scanning (and so copying) those objects in every
    worker.
    """
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    gc.freeze()


timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 30  # a restart lets requests in flight finish (an answer being stored)
keepalive = 5  # seconds an idle keep-alive connection stays open (gthread; sync closes at once)
# Each thread keeps its own PostgreSQL connection (DATABASE_CONN_MAX_AGE): workers x threads
# connections per machine, to keep under PostgreSQL's max_connections (100 by default) across
# all web machines, or to put behind a pooler such as PgBouncer.

# Replace each worker after this many requests (with jitter, so they do not all restart at once):
# a safety net against slow memory growth in a long-running process.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 20_000, minimum=0)
max_requests_jitter = max_requests // 10

# The access log goes to stdout, one line a request with its status, size, time and the request
# id Django sends back (the id nginx gave it: the same one in Django's log lines for the request).
# GUNICORN_ACCESS_LOG=off turns it off, or names a file. Errors always go to stderr.
_access = env_str("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access == "off" else _access
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")

# The heartbeat file in memory, not on a disk that may stall (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Trust X-Forwarded-* only from the proxies Django trusts (bachsurvey.client), else from one on
# this machine (gunicorn's default, stated).
forwarded_allow_ips = env_str(
    "GUNICORN_FORWARDED_ALLOW_IPS", env_str("DJANGO_TRUSTED_PROXIES", "127.0.0.1")
)

# gunicorn 27's control socket (for `gunicornc`) lives at one path per user, so two servers on
# one machine (the site and a test's, say) would fight over it; nothing here uses it.
control_socket_disable = True
