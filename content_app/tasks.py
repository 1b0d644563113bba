"""RQ jobs of the content app: each takes ids and calls one pipeline service."""

from __future__ import annotations

from content_app import pipeline


def process_saved_source(film_id: int, source: str, version: int) -> None:
    pipeline.film_source_saved(film_id=film_id, source=source, version=version)


def probe_film(film_id: int, version: int) -> None:
    pipeline.film_probe(film_id=film_id, version=version)


def make_rendition(film_id: int, version: int, quality: str) -> None:
    pipeline.rendition_make(film_id=film_id, version=version, quality=quality)


def make_ladder(film_id: int, version: int) -> None:
    pipeline.ladder_make(film_id=film_id, version=version)


def make_images(film_id: int, version: int) -> None:
    pipeline.film_make_images(film_id=film_id, version=version)


def normalize_image(film_id: int, field: str, upload_key: str) -> None:
    pipeline.film_image_normalize(film_id=film_id, field=field, upload_key=upload_key)


def delete_objects(keys: list[str], prefixes: list[str]) -> None:
    pipeline.storage_delete(keys=keys, prefixes=prefixes)


def reconcile(token: str = "") -> list[str]:
    """Run the reconciler, then schedule its next run (the chain renews itself)."""
    try:
        return pipeline.films_reconcile()
    finally:
        if token:
            pipeline.reconciler_renew(token)
        else:
            pipeline.ensure_reconciler_scheduled()
