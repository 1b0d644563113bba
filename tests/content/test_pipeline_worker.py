"""The pipeline's worker: what its job processes inherit from it."""

from __future__ import annotations

import django_rq
import pytest

from affea import storage

pytestmark = [pytest.mark.django_db(transaction=True)]


def clients_built_before_this_job() -> int:
    """Run as a job: how many S3 clients the job process holds without building one."""
    return storage._client.cache_info().currsize


def test_job_processes_inherit_the_workers_s3_client(settings):
    settings.STORAGE_BACKEND = "s3"
    storage.s3_client_reset()
    queue = django_rq.get_queue("default")
    job = queue.enqueue(clients_built_before_this_job)
    # RQ's forking worker: each job runs in a process forked from the worker.
    worker = django_rq.get_worker(
        "default", worker_class="content_app.pipeline.worker.PipelineWorker"
    )
    worker.work(burst=True, with_scheduler=False)
    assert job.return_value() == 1
