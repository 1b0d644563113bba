"""Film signals: they only enqueue, after commit — processing of a saved source, clean-up."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from content_app.models import Film
from content_app.pipeline import enqueue_cleanup, enqueue_source_saved, film_prefix

_CHANGED = "_affea_source_changed_from"


@receiver(pre_save, sender=Film, dispatch_uid="content_film_source_watch")
def film_source_watch(sender: type[Film], instance: Film, raw: bool, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and "source" not in update_fields):
        return
    previous = (
        Film.objects.filter(pk=instance.pk).values_list("source", flat=True).first()
        if instance.pk
        else None
    ) or ""
    # An uncommitted file is a fresh upload, even if it happens to carry the old name.
    uploading = bool(instance.source) and not getattr(instance.source, "_committed", True)
    if uploading or (instance.source.name or "") != previous:
        setattr(instance, _CHANGED, previous)


@receiver(post_save, sender=Film, dispatch_uid="content_film_source_process")
def film_source_process(sender: type[Film], instance: Film, raw: bool, **kwargs: Any) -> None:
    if raw or not hasattr(instance, _CHANGED):
        return
    previous = getattr(instance, _CHANGED)
    delattr(instance, _CHANGED)
    if previous != instance.source.name:
        enqueue_cleanup([previous])
    # The job starts processing unless the saver (the admin) already did.
    enqueue_source_saved(instance)


@receiver(post_delete, sender=Film, dispatch_uid="content_film_storage_cleanup")
def film_storage_cleanup(sender: type[Film], instance: Film, **kwargs: Any) -> None:
    # Every object of a film lives under its prefix: sources, renditions, images.
    enqueue_cleanup(
        keys=[instance.source.name, instance.thumbnail.name, instance.poster.name],
        prefixes=[film_prefix(instance)],
    )
