#!/usr/bin/env bash
# The production stack on loopback, for the load and fault benchmarks (and to try production
# settings by hand): PostgreSQL database bachsurvey_load, DEBUG off, plain HTTP, gunicorn with
# deploy/gunicorn.conf.py. Runs until stopped (Ctrl-C); quiz_load.py starts and stops it itself.
#
#   bash benchmarks/load/serve.sh            # http://127.0.0.1:8100/
#   FRONT=nginx bash benchmarks/load/serve.sh   # nginx on :8100 serves the files, gunicorn on :8101
#
# Every setting can be overridden from the environment (DATABASE_URL, GUNICORN_BIND,
# WEB_CONCURRENCY, ...). The database gets migrated and the demo quiz loaded; nothing is deleted.
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
# The load plays hundreds of participants from one address, a few seconds each: the rate limits
# (per address per hour, per participant per minute) would refuse most of it, so the benchmark
# switches them off (0) unless told otherwise. They are measured by their own tests.
export RATE_LIMIT_PARTICIPANTS=${RATE_LIMIT_PARTICIPANTS:-0}
export RATE_LIMIT_ANSWERS=${RATE_LIMIT_ANSWERS:-0}

bash .ci/services >&2  # PostgreSQL and Redis up, the database created
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo >&2
if [[ "${FRONT:-}" == nginx ]]; then
    # nginx takes the public address and serves /static/ and /media/ from disk; gunicorn moves to
    # the next port and answers the rest. Started before the exec, nginx stays in this process
    # group, so stopping the group (quiz_load.py does) stops both, and its CPU counts as server's.
    command -v nginx >/dev/null || { echo "FRONT=nginx: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
    public=$GUNICORN_BIND
    export GUNICORN_BIND=${public%:*}:$(( ${public##*:} + 1 ))
    # Behind the proxy the client address is the last X-Forwarded-For hop (bachsurvey.client).
    export DJANGO_BEHIND_PROXY=1
    var=$PWD/var/load/nginx
    mkdir -p "$var"
    static_root=$PWD/var/static  # settings.STATIC_ROOT
    sed -e "s|@LISTEN@|$public|" -e "s|@UPSTREAM@|$GUNICORN_BIND|" -e "s|@STATIC@|$static_root|" \
        -e "s|@MEDIA@|$DJANGO_MEDIA_ROOT|" -e "s|@VAR@|$var|g" deploy/nginx.conf >"$var/nginx.conf"
    nginx -c "$var/nginx.conf" -g 'daemon off;' &
fi
exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py
