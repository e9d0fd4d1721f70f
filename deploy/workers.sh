#!/usr/bin/env bash
# The Celery workers of a deployment, by role (README.md, Production; docs/operations.md):
#
#   bash deploy/workers.sh gpu      # a machine with a GPU: samples batches (and harmonizes, trains)
#   bash deploy/workers.sh render   # a CPU machine: renders and stores batches' pieces
#   bash deploy/workers.sh all      # one machine doing everything (a small site, development)
#
# A batch is sampled by one task on `gpu`, then each of its pieces is rendered by a task of its
# own on `render`, and a chord's callback (also on `render`) finishes it: add render machines or
# processes to make batches faster; one gpu process per GPU is enough, as sampling is batched.
# Every worker needs the site's environment: DATABASE_URL, CELERY_BROKER_URL, DJANGO_MEDIA_ROOT
# (storage the web machines read), DJANGO_SECRET_KEY, and CELERY_RESULT_BACKEND unless the broker
# is Redis (chords need a result backend; by default the broker's Redis is used).
# RENDER_CONCURRENCY sets the render processes (default: one per core); CELERY the command.
set -euo pipefail
cd "$(dirname "$0")/.."

celery=${CELERY:-celery}
case "${1:-}" in
  gpu) exec "$celery" -A bachsurvey worker -Q gpu --concurrency 1 -n "gpu@%h" -l info ;;
  render)
    exec "$celery" -A bachsurvey worker -Q render,celery \
      --concurrency "${RENDER_CONCURRENCY:-$(nproc)}" -n "render@%h" -l info ;;
  all) exec "$celery" -A bachsurvey worker -Q gpu,render,celery -n "all@%h" -l info ;;
  *) echo "usage: bash deploy/workers.sh gpu|render|all" >&2; exit 2 ;;
esac
