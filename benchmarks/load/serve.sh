#!/usr/bin/env bash
# The production stack on loopback, for the load and fault benchmarks (and to try production
# settings by hand): PostgreSQL database bachsurvey_load, DEBUG off, plain HTTP, nginx in front
# of gunicorn (deploy/nginx.conf, deploy/gunicorn.conf.py). Runs until stopped (Ctrl-C);
# quiz_load.py starts and stops it itself.
#
#   bash benchmarks/load/serve.sh                 # http://127.0.0.1:8100/
#   FRONT=gunicorn bash benchmarks/load/serve.sh  # gunicorn alone on :8100 (gthread workers)
#
# nginx takes the public port, serves /static/ from disk, sends the clips Django allows
# (X-Accel-Redirect, MEDIA_ACCEL_REDIRECT) and passes the rest to
# gunicorn's sync workers on the next port, one request per worker at a time: the layout
# gunicorn's documentation asks for. Without nginx, gunicorn's gthread workers keep clients'
# connections alive themselves, but each worker keeps the connections it accepted: under load
# one worker could hold most of them while another sat idle (measured: a third of the CPU idle,
# half the throughput). Every setting can be overridden from the environment (DATABASE_URL,
# GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS, ...). The database gets migrated, the demo
# quiz loaded and the planner statistics refreshed; nothing is deleted.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bachsurvey_load}
export DJANGO_DEBUG=0
# Plain HTTP on loopback: with HTTPS on, every request would be redirected to https://.
export DJANGO_HTTPS=${DJANGO_HTTPS:-0}
# A throwaway key per start is fine here: sessions then do not outlive a restart of the server.
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')}
export DJANGO_MEDIA_ROOT=${DJANGO_MEDIA_ROOT:-$PWD/var/load/media}
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:8100}
# As in production: the web processes share Redis for the rate limits' counters and for reading
# sessions (its own database number, so the load leaves the other uses of Redis alone).
export CACHE_URL=${CACHE_URL:-redis://127.0.0.1:6379/3}
# The load plays hundreds of participants from one address, a few seconds each: the rate limits
# (per address per hour, per participant per minute) would refuse most of it, so the benchmark
# switches them off (0) unless told otherwise. They are measured by their own tests.
export RATE_LIMIT_PARTICIPANTS=${RATE_LIMIT_PARTICIPANTS:-0}
export RATE_LIMIT_ANSWERS=${RATE_LIMIT_ANSWERS:-0}

bash .ci/services >&2  # PostgreSQL and Redis up, the database created
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo >&2
# Fresh planner statistics, as autovacuum keeps them in production. Where it is off (this
# machine's PostgreSQL has it off), a load database that grew run after run kept the statistics
# of its first rows, and a participant's questions were joined to their answers by reading every
# answer ever stored: 7 ms a query instead of 0.3, and slower every run.
.venv/bin/python manage.py shell -c "from django.db import connection; connection.cursor().execute('ANALYZE')"
FRONT=${FRONT:-nginx}
if [[ "$FRONT" == nginx ]]; then
    # One request at a time per worker (nginx buffers the clients); two per core, so that a
    # core has work while a worker waits on PostgreSQL.
    export GUNICORN_THREADS=${GUNICORN_THREADS:-1}
    export WEB_CONCURRENCY=${WEB_CONCURRENCY:-$(( 2 * $(nproc) ))}
    # Started before the exec, nginx stays in this process group, so stopping the group
    # (quiz_load.py does) stops both, and its CPU counts as the server's.
    command -v nginx >/dev/null || { echo "FRONT=nginx: nginx is not installed (bash .ci/setup installs it; or FRONT=gunicorn)" >&2; exit 1; }
    public=$GUNICORN_BIND
    export GUNICORN_BIND=${public%:*}:$(( ${public##*:} + 1 ))
    # Behind the proxy the client address is the last X-Forwarded-For hop (bachsurvey.client).
    export DJANGO_BEHIND_PROXY=1
    # Django authorises each clip request and nginx sends the file (deploy/nginx.conf).
    export MEDIA_ACCEL_REDIRECT=/_media/
    var=$PWD/var/load/nginx
    mkdir -p "$var"
    static_root=$PWD/var/static  # settings.STATIC_ROOT
    sed -e "s|@LISTEN@|$public|" -e "s|@UPSTREAM@|$GUNICORN_BIND|" -e "s|@STATIC@|$static_root|" \
        -e "s|@MEDIA@|$DJANGO_MEDIA_ROOT|" -e "s|@VAR@|$var|g" deploy/nginx.conf >"$var/nginx.conf"
    nginx -c "$var/nginx.conf" -g 'daemon off;' &
fi
exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py
