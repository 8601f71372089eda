"""Aligned blocks of UTC days: a range of days as few pieces as possible, for merging viewer sketches.

The union of viewers over a range of days is the merge of each day's sketch, so a range costs one
merge per day and value, which made a month of a large library's country breakdown slow (docs/benchmark.md).
The fold also keeps, per value, the sketch of each block of 2, 4, ... 256 days aligned on the
epoch (a block of ``n`` days starts on a day whose distance from 1970-01-01 is a multiple of ``n``),
each the merge of its two halves. Any range of days is then a handful of blocks and single days:
at most two blocks of each length and two single days, plus a 256-day block per 256 days in between.

A block is built once all its days are whole (the watermark is past its last midnight), and built
again when one of its days is (an erasure's or a backfill's refold): :func:`starts_to_build` says which.
It is kept only for a scope with at least ``HEAVY_BLOCK_VIEWS`` views in it (summed over the scope's
day rows, which reports read as well): merging a lighter block's days costs little (their sketches
hold at most that many registers in all), and most of a library's videos are light, so their blocks
would be most of the rows for none of the gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

EPOCH = date(1970, 1, 1)
BLOCK_LENGTHS = (2, 4, 8, 16, 32, 64, 128, 256)  # each block is the merge of two of the length before
HEAVY_BLOCK_VIEWS = 20_000


@dataclass(frozen=True)
class Cover:
    """A range of days as single days and blocks (``(length, first day)``), none overlapping."""

    days: list[date]
    blocks: list[tuple[int, date]]


def block_start(day: date, length: int) -> date:
    """The first day of the block of ``length`` days holding ``day``."""
    return day - timedelta(days=(day - EPOCH).days % length)


def cover(first: date, last: date, blocks_until: date | None) -> Cover:
    """The days ``first..last`` (inclusive) as the fewest blocks ending by ``blocks_until`` (exclusive: the
    blocks built so far; None: none) and single days."""
    days: list[date] = []
    blocks: list[tuple[int, date]] = []
    day = first
    while day <= last:
        length = _longest_block_at(day, last, blocks_until)
        if length:
            blocks.append((length, day))
            day += timedelta(days=length)
        else:
            days.append(day)
            day += timedelta(days=1)
    return Cover(days, blocks)


def _longest_block_at(day: date, last: date, blocks_until: date | None) -> int:
    if blocks_until is None:
        return 0
    for length in reversed(BLOCK_LENGTHS):
        end = day + timedelta(days=length)
        if block_start(day, length) == day and end - timedelta(days=1) <= last and end <= blocks_until:
            return length
    return 0


def starts_to_build(first: date, last: date, whole_until: date, length: int) -> tuple[date, date] | None:
    """``[low, high)``: the first days of the blocks of ``length`` days that hold a day of ``first..last``
    and whose days are all whole (before ``whole_until``); None when there is none."""
    low = block_start(first, length)
    high = min(block_start(last, length) + timedelta(days=length), block_start(whole_until, length))
    return (low, high) if low < high else None
