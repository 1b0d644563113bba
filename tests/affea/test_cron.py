"""RQ's cron scheduler (`manage.py rqcron affea.cron`) enqueues every periodic job."""

from __future__ import annotations

import django_rq
from rq.cron import CronScheduler


def test_cron_config_schedules_licences_and_the_restoration_sweep() -> None:
    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("affea.cron")

    schedules = {job.func_name: job.cron for job in scheduler.get_jobs()}

    assert schedules == {
        "legal_app.licences.tasks.sync_licences": "* * * * *",
        "legal_app.dmca.tasks.restore_due": "*/15 * * * *",
        "content_app.pipeline.sweep.orphans_sweep": "40 3 * * *",
    }
