"""Which source ids an import's copy step still has to copy, whatever order its chunks committed in."""

from __future__ import annotations

from chalicelib.services.importing.run import _chunks_to_copy


def test_a_fresh_step_is_cut_in_chunks_up_to_the_last_id() -> None:
    assert _chunks_to_copy(0, 240, 100, []) == [(0, 100), (100, 200), (200, 240)]


def test_chunks_committed_beyond_the_position_are_not_copied_again() -> None:
    assert _chunks_to_copy(100, 300, 50, [[150, 200], [250, 300]]) == [(100, 150), (200, 250)]


def test_the_gaps_are_cut_at_the_chunk_size_even_when_it_changed_between_runs() -> None:
    assert _chunks_to_copy(0, 400, 150, [[100, 200]]) == [(0, 100), (200, 350), (350, 400)]


def test_nothing_is_left_when_everything_after_the_position_was_copied() -> None:
    assert _chunks_to_copy(100, 200, 50, [[100, 150], [150, 200]]) == []
    assert _chunks_to_copy(200, 200, 50, []) == []
