"""Whole numbers from text a client sent: query strings, URL parts, link tokens."""

from __future__ import annotations

import re

# ASCII digits within a PostgreSQL bigint. str.isdigit() is also true for "²" and other
# Unicode digits that int() refuses, and int() refuses thousands of digits (Python's
# 4300-digit bound): such text must be "not a number", never an exception.
_DIGITS = re.compile(r"[0-9]{1,18}")


def parse_id(text: str) -> int | None:
    """The number `text` spells in ASCII digits (an id, a size, a page), else None."""
    return int(text) if _DIGITS.fullmatch(text) else None
