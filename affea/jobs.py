"""The RQ queue class: every job carries the enqueuing request's id and reports its outcome.

Set as django-rq's QUEUE_CLASS, so every `django_rq.get_queue()` enqueue goes through it.
Outcomes are recorded by job callbacks, which run in whatever worker runs the job (the
forked work horse of `rqworker`, or a SimpleWorker) and write to the metrics in Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django_rq.queues import DjangoRQ
from redis import Redis
from rq.callbacks import Callback
from rq.job import Job, JobStatus, Retry
from rq.repeat import Repeat
from rq.timeouts import JobTimeoutException
from rq.types import FunctionReferenceType, JobDependencyType

from affea import metrics
from affea.logging import current_request_id
from content_app.pipeline.metrics import film_failed, step_of

_ON_SUCCESS = Callback("affea.jobs.job_succeeded")
_ON_FAILURE = Callback("affea.jobs.job_failed")


class Queue(DjangoRQ):
    def create_job(  # the one point every enqueue, delayed or scheduled, goes through
        self,
        func: FunctionReferenceType,
        args: tuple[Any, ...] | list[Any] | None = None,
        kwargs: dict[Any, Any] | None = None,
        timeout: int | None = None,
        result_ttl: int | None = None,
        ttl: int | None = None,
        failure_ttl: int | None = None,
        description: str | None = None,
        depends_on: JobDependencyType | None = None,
        job_id: str | None = None,
        meta: dict[Any, Any] | None = None,
        status: JobStatus = JobStatus.QUEUED,
        retry: Retry | None = None,
        repeat: Repeat | None = None,
        *,
        on_success: Callback | Callable[..., Any] | None = None,
        on_failure: Callback | Callable[..., Any] | None = None,
        **options: Any,
    ) -> Job:
        meta = dict(meta or {})
        request_id = current_request_id()
        if request_id is not None:
            meta.setdefault("request_id", request_id)
        func_name = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
        step = step_of(func_name, args or ())
        if step is not None:
            meta.setdefault("film_id", step[0])
            meta.setdefault("step", step[1])
        return super().create_job(
            func, args, kwargs, timeout, result_ttl, ttl, failure_ttl, description,
            depends_on, job_id, meta, status, retry, repeat,
            on_success=on_success or _ON_SUCCESS, on_failure=on_failure or _ON_FAILURE,
            **options,
        )  # fmt: skip


def _seconds(job: Job) -> float:
    if job.started_at is None:
        return 0.0
    started = job.started_at.replace(tzinfo=job.started_at.tzinfo or UTC)
    return max(0.0, (datetime.now(UTC) - started).total_seconds())


def _observe(job: Job, *, outcome: str, failure_kind: str) -> None:
    metrics.record(metrics.JOBS, (job.func_name or "", outcome))
    step = job.meta.get("step")
    if isinstance(step, str):
        metrics.record(metrics.STEP_SECONDS, (step, outcome, failure_kind), _seconds(job))


def job_succeeded(job: Job, connection: Redis, result: Any) -> None:
    film_id = job.meta.get("film_id")
    # A step that meets a bad source records the film's error and returns normally.
    if isinstance(film_id, int) and film_failed(film_id):
        _observe(job, outcome="error", failure_kind="media")
    else:
        _observe(job, outcome="ok", failure_kind="")


def job_failed(job: Job, connection: Redis, exc_type: type, exc: BaseException, tb: Any) -> None:
    kind = "timeout" if isinstance(exc, JobTimeoutException) else exc_type.__name__
    _observe(job, outcome="error", failure_kind=kind)
