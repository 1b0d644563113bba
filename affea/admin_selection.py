"""A change list action sent with an id that is not one: a message, not a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin import ModelAdmin, helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only
    _ModelAdmin = ModelAdmin[Any]
else:
    _ModelAdmin = ModelAdmin


class CheckedSelectionMixin(_ModelAdmin):
    """Check the ids of an action's selection before Django filters on them.

    Django passes `_selected_action` to `pk__in` as sent: a hand-made POST with `abc`
    raised ValueError, a 500. The change list's own checkboxes always send ids.
    """

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        field = self.model._meta.pk
        assert field is not None
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                field.to_python(value)
        except ValidationError:
            self.message_user(
                request, "The selection holds something that is not an id.", messages.ERROR
            )
            return None
        return super().response_action(request, queryset, *args, **kwargs)
