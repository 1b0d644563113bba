#!/bin/sh
# Container entry point: prepare, then `exec` the role named by the first argument.
#   web        wait for the database, check --deploy, migrate, superuser, collectstatic, gunicorn
#   worker     wait for the database, check --deploy, RQ worker (scales: --scale worker=N)
#   scheduler  wait for the database, check --deploy, RQ worker that also runs the scheduler
#   cron       wait for the database, check --deploy, RQ's cron scheduler (affea/cron.py; one only)
# Anything else runs as a command (e.g. `entrypoint.sh python manage.py shell`).
set -eu

role="${1:-web}"
# Heals after Redis loss, a dead scheduler or a killed sibling (content_app.pipeline.worker).
WORKER_CLASS="content_app.pipeline.worker.PipelineWorker"
[ "$#" -gt 0 ] && shift

case "$role" in
  web | worker | scheduler | cron) ;;
  *) exec "$role" "$@" ;;
esac

python manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
python manage.py check --deploy --fail-level WARNING

case "$role" in
  web)
    # Replicas starting together migrate one after another (a database lock); the
    # others then find nothing to apply. RUN_MIGRATIONS=0 skips it (migrations run elsewhere).
    if [ "${RUN_MIGRATIONS:-1}" = "1" ]; then
      python manage.py migrate_locked
    fi
    python manage.py ensure_superuser
    # STATIC_ROOT is a volume nginx serves from: refresh it from this image's files.
    python manage.py collectstatic --noinput --verbosity 0
    # gunicorn itself reads WEB_CONCURRENCY as it starts, as int(): an empty value
    # (`WEB_CONCURRENCY=` in an env file) would stop it, so it means the default here.
    if [ -z "${WEB_CONCURRENCY:-}" ]; then unset WEB_CONCURRENCY; fi
    exec gunicorn affea.wsgi:application "$@"
    ;;
  worker)
    # Workers only run jobs; the scheduler service runs retries and periodic jobs.
    exec python manage.py rqworker high default --worker-class "$WORKER_CLASS" "$@"
    ;;
  scheduler)
    exec python manage.py rqworker high default --with-scheduler --worker-class "$WORKER_CLASS" "$@"
    ;;
  cron)
    exec python manage.py rqcron affea.cron "$@"
    ;;
esac
