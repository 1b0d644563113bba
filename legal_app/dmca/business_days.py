"""Business days for §512(g)(2)(C): weekends and US federal holidays do not count."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

EARLIEST_DAY = 10
LATEST_DAY = 14


@lru_cache(maxsize=8)
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def business_day_after(day: date, count: int) -> date:
    """The `count`-th business day after `day` (which itself never counts)."""
    found = 0
    while found < count:
        day += timedelta(days=1)
        if is_business_day(day):
            found += 1
    return day


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.DMCA_TIME_ZONE))


def _end_of(day: date) -> datetime:
    return _start_of(day + timedelta(days=1))


def received_day(received_at: datetime) -> date:
    """The day a counter-notice was received where business days are counted."""
    return received_at.astimezone(ZoneInfo(settings.DMCA_TIME_ZONE)).date()


def restoration_window(received_at: datetime) -> tuple[datetime, datetime]:
    """ "Not less than 10, nor more than 14, business days following receipt": from the end of
    the 10th business day after receipt (ten whole days have passed) to the end of the 14th."""
    received = received_day(received_at)
    earliest = _end_of(business_day_after(received, EARLIEST_DAY))
    return earliest, _end_of(business_day_after(received, LATEST_DAY))


def restoration_time(received_at: datetime) -> datetime:
    """When a film countered at `received_at` is restored: once the configured number of
    business days after receipt have passed, at the end of the last of them."""
    received = received_day(received_at)
    return _end_of(business_day_after(received, settings.DMCA_RESTORATION_BUSINESS_DAY))
