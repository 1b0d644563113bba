"""Periodic jobs, for RQ's cron scheduler: `python manage.py rqcron affea.cron`.

Run exactly one such process per deployment (the Procfile's `cron`, compose's `cron`
service): each one enqueues every job on schedule, and workers run them. The jobs are
idempotent, so a second scheduler left running by mistake costs work, not correctness.
"""

from rq import cron

from content_app.pipeline.sweep import orphans_sweep
from legal_app.dmca.tasks import restore_due
from legal_app.licences.tasks import sync_licences

# Licence windows open and close within a minute of their time.
cron.register(sync_licences, queue_name="default", cron="* * * * *", job_timeout=300)
# Each restoration has its own scheduled job; this sweep restores any whose job Redis lost.
cron.register(restore_due, queue_name="default", cron="*/15 * * * *", job_timeout=300)
# Objects no row names, left in the bucket when their deletion job was lost with Redis.
cron.register(orphans_sweep, queue_name="default", cron="40 3 * * *", job_timeout=3600)
