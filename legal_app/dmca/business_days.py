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


def restoration_window(received_at: datetime) -> tuple[datetime, datetime]:
    """From the start of the 10th to the end of the 14th business day after receipt."""
    received = received_at.astimezone(ZoneInfo(settings.DMCA_TIME_ZONE)).date()
    earliest = _start_of(business_day_after(received, EARLIEST_DAY))
    latest_day = business_day_after(received, LATEST_DAY)
    return earliest, _start_of(latest_day + timedelta(days=1))


def restoration_time(received_at: datetime) -> datetime:
    """When a film countered at `received_at` is restored: the start of the configured day."""
    received = received_at.astimezone(ZoneInfo(settings.DMCA_TIME_ZONE)).date()
    return _start_of(business_day_after(received, settings.DMCA_RESTORATION_BUSINESS_DAY))
