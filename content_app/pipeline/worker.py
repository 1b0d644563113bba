"""The RQ worker Affea runs (`rqworker --worker-class`): RQ's own, made to heal by itself.

RQ alone restarts a dead scheduler and notices a dead sibling's job only at maintenance,
every 10 minutes, and keeps a running job's registry entry a minute past its last
heartbeat. This worker does maintenance every few seconds, checks its scheduler during
long jobs too, re-arms the reconciler (whose chain Redis may have lost), registers again
if Redis forgot it (the health check reads that), removes temp dirs of killed steps and
the source copy its steps share once unused (pipeline.workspaces), and
on a warm stop (SIGTERM) puts the running step back at the head of its queue at once,
instead of finishing it past the container's grace period or losing it, and outlives
Redis dropping while a job ends (RQ's own worker quits then).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from django.conf import settings
from rq import Worker
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus
from rq.worker_registration import REDIS_WORKER_KEYS

from affea.storage import s3_client
from content_app.pipeline.queue import ensure_reconciler_scheduled
from content_app.pipeline.workspaces import (
    keep_sources_for_this_process,
    sources_expire,
    workspaces_clean,
)

logger = logging.getLogger(__name__)

# Seconds a running job's registry entry outlives the last heartbeat of its worker.
HEARTBEAT_GRACE = 15


class PipelineWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", settings.PIPELINE_WORKER_MAINTENANCE_INTERVAL)
        kwargs.setdefault("job_monitoring_interval", settings.PIPELINE_JOB_HEARTBEAT_INTERVAL)
        super().__init__(*args, **kwargs)
        self._requeue_on_stop: str | None = None
        keep_sources_for_this_process()

    @property
    def dequeue_timeout(self) -> int:
        # Wake up from an empty queue in time for the next maintenance.
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return min(
            super().get_heartbeat_ttl(job, working_time),
            self.job_monitoring_interval + HEARTBEAT_GRACE,
        )

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)
        if settings.STORAGE_BACKEND == "s3":
            # Built once here, the S3 client is inherited by every job process this worker
            # forks instead of being built again by each (loading botocore's S3 model is
            # most of a short step's overhead). This process itself never sends a request,
            # so its forks share no connection.
            s3_client()
        for path in workspaces_clean():
            logger.info("removed the temp dir of a killed step: %s", path)
        self._heal()

    def teardown(self) -> None:
        if not self.is_horse:
            sources_expire(unused_for=0)  # a stopped worker's copy serves no one
        super().teardown()

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        sources_expire()
        self._heal()

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        super().maintain_heartbeats(job, execution)
        self._restart_scheduler()

    def _restart_scheduler(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None and not (scheduler._process and scheduler._process.is_alive()):
            logger.warning("scheduler process is gone; starting it again")
            scheduler.acquire_locks(auto_start=True)

    def _heal(self) -> None:
        try:
            if not self.connection.sismember(REDIS_WORKER_KEYS, self.key):
                # Redis restarted empty (heartbeats left a bare hash): without a full
                # registration the health check fails.
                self.connection.delete(self.key)
                self.register_birth()
                self.set_state(WorkerStatus.IDLE)
            if self.last_cleaned_at:
                self._restart_scheduler()
            if ensure_reconciler_scheduled():
                logger.info("reconciler chain started")
        except redis.exceptions.RedisError as exc:
            logger.warning("maintenance skipped, Redis unreachable: %s", exc)

    def execute_job(self, job: Job, queue: Queue) -> None:
        # Redis going away as a job ends makes RQ's worker quit (here, or at the heartbeat
        # that follows). What became of the job is RQ's to find again (its started-job
        # registry, or the reconciler if Redis came back empty); this worker waits for
        # Redis and goes on.
        try:
            super().execute_job(job, queue)
            if self._redis_answers():
                return
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            logger.warning("Redis unreachable as %s ended: %s", job.id, exc)
        logger.warning("waiting for Redis to answer again")
        while not self._stop_requested:
            time.sleep(1)
            if self._redis_answers():
                self.set_state(WorkerStatus.IDLE)
                return

    def _redis_answers(self) -> bool:
        try:
            return bool(self.connection.ping())
        except redis.exceptions.RedisError:
            return False

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        workspaces_clean()

    def request_stop(self, signum: int, frame: Any) -> None:
        """Warm stop: the running step goes back to the head of its queue, then the worker exits."""
        if self.get_state() == WorkerStatus.BUSY and self.horse_pid:
            self._requeue_on_stop = self.get_current_job_id()
            self.kill_horse()
        super().request_stop(signum, frame)

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Any = None,
    ) -> None:
        if job.id != self._requeue_on_stop:
            super().handle_job_failure(
                job, queue, started_job_registry, exc_string=exc_string, execution=execution
            )
            return
        self._requeue_on_stop = None
        with self.connection.pipeline() as pipeline:
            self.cleanup_execution(job, pipeline=pipeline, execution=execution)
            pipeline.execute()
        queue.enqueue_job(job, at_front=True)
        logger.info("worker stopping: %s put back at the head of %s", job.id, queue.name)
