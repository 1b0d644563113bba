#!/bin/sh
# Container entry point: prepare, then `exec` the role named by the first argument.
#   web        wait for the database, check --deploy, migrate, superuser, collectstatic, gunicorn
#   worker     wait for the database, check --deploy, RQ worker (scales: --scale worker=N)
#   scheduler  wait for the database, check --deploy, RQ worker that also runs the scheduler
# Anything else runs as a command (e.g. `entrypoint.sh python manage.py shell`).
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web | worker | scheduler) ;;
  *) exec "$role" "$@" ;;
esac

python manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
python manage.py check --deploy --fail-level WARNING

case "$role" in
  web)
    # One web container migrates; set RUN_MIGRATIONS=0 on extra web replicas.
    if [ "${RUN_MIGRATIONS:-1}" = "1" ]; then
      python manage.py migrate --noinput
    fi
    python manage.py ensure_superuser
    # STATIC_ROOT is a volume nginx serves from: refresh it from this image's files.
    python manage.py collectstatic --noinput --verbosity 0
    exec gunicorn affea.wsgi:application "$@"
    ;;
  worker)
    # Workers only run jobs; the scheduler service runs retries and periodic jobs.
    exec python manage.py rqworker default "$@"
    ;;
  scheduler)
    exec python manage.py rqworker default --with-scheduler "$@"
    ;;
esac
