"""affea.db.CompiledLookup: a queryset compiled once, run with new ids."""

from __future__ import annotations

import threading

import pytest

from affea.db import CompiledLookup
from users_app.models import User

pytestmark = pytest.mark.django_db


def _make(email: str) -> User:
    return User.objects.create_user(email=email, password="pw")


def test_rows_follow_the_ids_given_to_each_call() -> None:
    first, second = _make("a@example.com"), _make("b@example.com")
    lookup = CompiledLookup(lambda pk: User.objects.filter(pk=pk).values_list("email"))

    assert lookup.rows(first.pk) == [["a@example.com"]]
    assert lookup.rows(second.pk) == [["b@example.com"]]
    assert lookup.rows(second.pk + 1000) == []


def test_rows_come_through_the_orms_converters() -> None:
    user = _make("c@example.com")
    lookup = CompiledLookup(
        lambda pk: User.objects.filter(pk=pk).values_list("date_joined", "is_active")
    )

    [[joined, active]] = lookup.rows(user.pk)

    assert (joined, active) == (user.date_joined, True)
    assert joined.tzinfo is not None


def test_several_ids_each_find_their_place() -> None:
    first, second = _make("d@example.com"), _make("e@example.com")
    lookup = CompiledLookup(
        lambda low, high: (
            User.objects.filter(pk__gte=low, pk__lte=high).order_by("pk").values_list("email")
        ),
        ids=2,
    )

    assert lookup.rows(first.pk, second.pk) == [["d@example.com"], ["e@example.com"]]
    assert lookup.rows(second.pk, second.pk) == [["e@example.com"]]


@pytest.mark.parametrize("pk", [0, -5, 2**63])
def test_ids_no_bigint_key_can_hold_find_nothing(pk: int) -> None:
    lookup = CompiledLookup(lambda pk: User.objects.filter(pk=pk))

    assert lookup.rows(pk) == []


def test_the_wrong_number_of_ids_is_a_programming_error() -> None:
    lookup = CompiledLookup(lambda low, high: User.objects.filter(pk__in=[low, high]), ids=2)

    with pytest.raises(TypeError, match="takes 2 ids"):
        lookup.rows(1)


def test_a_queryset_that_ignores_its_id_is_refused() -> None:
    lookup = CompiledLookup(lambda pk: User.objects.filter(is_active=True))

    with pytest.raises(ValueError, match="does not use every id"):
        lookup.rows(1)


def test_each_thread_compiles_against_its_own_connection() -> None:
    user = _make("f@example.com")
    lookup = CompiledLookup(lambda pk: User.objects.filter(pk=pk).values_list("email"))
    assert lookup.rows(user.pk) == [["f@example.com"]]
    mine = lookup._local.compiled[0].connection
    seen: list[object] = []

    def other_thread() -> None:
        from django.db import connections

        try:
            lookup._compiled()
            seen.append(lookup._local.compiled[0].connection)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()

    assert len(seen) == 1
    assert seen[0] is not mine
