"""The processing pipeline: a film's source becomes renditions, a thumbnail and a poster.

`restart` starts processing a source, `steps` are the RQ jobs' work, `state` derives the
film's state and progress, `queue` enqueues jobs, `reconcile` recovers what RQ lost,
`storage` deletes objects. Other modules use only the names below.
"""

from content_app.pipeline.failures import step_label
from content_app.pipeline.images import film_image_normalize, film_images_overridden
from content_app.pipeline.queue import (
    LOWEST_RUNG,
    STEP_IMAGES,
    STEP_LADDER,
    STEP_PROBE,
    enqueue_cleanup,
    enqueue_source_saved,
    ensure_reconciler_scheduled,
    queue_available,
    reconciler_renew,
)
from content_app.pipeline.reconcile import films_reconcile
from content_app.pipeline.restart import film_processing_restart, film_source_saved
from content_app.pipeline.state import step_done
from content_app.pipeline.steps import film_make_images, film_probe, ladder_make, rendition_make
from content_app.pipeline.storage import (
    StorageUnavailable,
    film_prefix,
    film_uploads_store,
    storage_delete,
)

__all__ = [
    "LOWEST_RUNG",
    "STEP_IMAGES",
    "STEP_LADDER",
    "STEP_PROBE",
    "StorageUnavailable",
    "enqueue_cleanup",
    "enqueue_source_saved",
    "ensure_reconciler_scheduled",
    "film_image_normalize",
    "film_images_overridden",
    "film_make_images",
    "film_prefix",
    "film_probe",
    "film_processing_restart",
    "film_source_saved",
    "film_uploads_store",
    "films_reconcile",
    "ladder_make",
    "queue_available",
    "reconciler_renew",
    "rendition_make",
    "step_done",
    "step_label",
    "storage_delete",
]
