"""Aligned blocks of days: a range is covered exactly, by aligned blocks built so far, in few pieces."""

from __future__ import annotations

import random
from datetime import date, timedelta

from chalicelib.domain.day_blocks import BLOCK_LENGTHS, EPOCH, block_start, cover, starts_to_build

ONE = timedelta(days=1)


def _days_of(first: date, last: date) -> list[date]:
    return [first + ONE * n for n in range((last - first).days + 1)]


def test_a_cover_holds_every_day_once_in_aligned_blocks_built_so_far() -> None:
    generator = random.Random(7)
    for _ in range(2_000):
        first = EPOCH + ONE * generator.randrange(19_000, 21_000)
        last = first + ONE * generator.randrange(0, 800)
        until = first + ONE * generator.randrange(0, 900)
        pieces = cover(first, last, until)
        covered = list(pieces.days)
        for length, start in pieces.blocks:
            assert length in BLOCK_LENGTHS
            assert block_start(start, length) == start
            assert start + ONE * length <= until
            covered += _days_of(start, start + ONE * (length - 1))
        assert sorted(covered) == _days_of(first, last)
        whole = max(0, min((until - first).days, (last - first).days + 1))
        # Two blocks of each length at most on either side, one 256-day block per 256 days between.
        assert len(pieces.blocks) + len(pieces.days) <= 2 * (len(BLOCK_LENGTHS) + 1) + whole // 256 + (
            (last - first).days + 1 - whole
        )


def test_a_month_is_a_few_pieces_and_nothing_is_a_block_before_blocks_exist() -> None:
    first = date(2026, 10, 1)
    last = date(2026, 10, 30)
    pieces = cover(first, last, date(2026, 12, 1))
    assert len(pieces.days) + len(pieces.blocks) <= 8
    assert cover(first, last, None).days == _days_of(first, last)
    assert cover(first, last, first).blocks == []


def test_blocks_to_build_hold_the_days_written_and_are_whole() -> None:
    first, last, whole_until = date(2026, 11, 3), date(2026, 11, 9), date(2026, 11, 10)
    for length in BLOCK_LENGTHS:
        starts = starts_to_build(first, last, whole_until, length)
        expected = [
            start
            for start in _days_of(first - ONE * length, last)
            if block_start(start, length) == start
            and start + ONE * length <= whole_until
            and start + ONE * length > first
        ]
        if starts is None:
            assert expected == []
            continue
        low, high = starts
        assert [day for day in _days_of(low, high - ONE) if block_start(day, length) == day] == expected
