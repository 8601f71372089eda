"""Distinct viewers over any range at constant cost: a HyperLogLog sketch per hour and per day.

Counting distinct viewers exactly means reading every view; a sketch summarises the
viewers of a period in a few kilobytes, and the sketch of a union of periods is the
register-wise maximum of theirs, so a range of days costs one merge per day however
many views it holds.

* Two precisions. A video's or the library's sketches (hours, days, all-time) have 14 bits:
  16,384 one-byte registers, a standard error of 1.04/√16384 ≈ 0.81% (within 2% of the truth
  about 98.7% of the time), 16 KB at most, which keeps a report merging one per day fast. A
  breakdown's (each value of a dimension) have 16 bits: 65,536 registers, 0.41%, so that every
  value of a breakdown, compared side by side, is within 2% (4.9 standard errors); those are
  merged once per value, not once per point.
* Estimated with Ertl's improved estimator ("New cardinality estimation algorithms for
  HyperLogLog sketches", 2017; Redis uses it too), from the histogram of register values:
  unbiased from one viewer to billions, with no switch between estimators. Linear
  counting, which it replaces below ~57,000 viewers, was 1.2% off (rms) and up to 3.8%
  just below that switch (simulated: docs/benchmark.md, "1M views, 2026-12-05").
* A viewer's 64-bit hash is the first 16 hex digits of ``md5(key)``, where ``key`` is
  ``u:<user id>``, else ``i:<ip hmac>``, else ``v:<view id>`` (each anonymous view its
  own viewer). PostgreSQL computes the same hash when it folds raw rows
  (``chalicelib/repositories/analytics/hours.py``), so sketches made by SQL and by Python merge.
  The register is the hash's top 14 (16) bits; its value the position of the first 1 bit in
  the remaining 50 (48), one more than that when there is none.
* Stored as ``bytea``: a byte naming precision and encoding (14 bits: 1 sparse, 2 dense; 16 bits:
  5 and 6), then, sparse, the registers in use as little-endian uint16, sorted, and their values,
  one byte each (3 bytes per register), up to a sixteenth of the registers in use; dense, every
  register. No PostgreSQL extension is needed, so RDS, Aurora and the embedded server work alike.
* PostgreSQL builds the stored sketches of a fold itself (:func:`sketches_sql`), so a fold's
  registers never cross to Python: only merging stored sketches happens here.
* Merging: sparse entries are applied one by one (the layout lets ``zip`` walk two C
  buffers), dense sketches all at once, as Python integers (SWAR) rather than byte by
  byte (figures in ``docs/benchmark.md``).
"""

from __future__ import annotations

import hashlib
import math
import sys
from array import array
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

SCOPE_PRECISION = 14  # hours, days and all-time totals of a video or the library
BREAKDOWN_PRECISION = 16  # each value of a breakdown dimension (its days and its all-time sketch)
_LOWEST, _HIGHEST = 14, 16  # a sparse sketch's registers are stored as uint16
_SINGLE_BYTES = tuple(bytes([value]) for value in range(256))
_COUNTED_ONE_BY_ONE = 256

# SQL twins: the key of a view row aliased ``vw`` and its 64-bit hash, for the fold.
VIEWER_KEY_SQL = "COALESCE('u:' || {p}user_id::text, 'i:' || {p}ip_address, 'v:' || {p}id::text)"
HASH_SQL = "('x' || substr(md5({key}), 1, 16))::bit(64)"


@dataclass(frozen=True)
class Precision:
    """A sketch's layout at ``bits`` of precision: the hash's first ``bits`` bits pick one of ``registers``
    registers, the position of the first 1 bit in the rest is the value it offers.

    The stored format's first byte names the precision as well as the encoding (``sparse_tag``, ``dense_tag``),
    so sketches of both precisions live side by side and merge (:meth:`Sketch.merge_blob`).
    """

    bits: int

    @property
    def registers(self) -> int:
        return 1 << self.bits

    @property
    def value_bits(self) -> int:
        return 64 - self.bits

    @property
    def max_value(self) -> int:
        return self.value_bits + 1

    @property
    def standard_error(self) -> float:
        return 1.04 / math.sqrt(self.registers)

    @property
    def sparse_tag(self) -> int:
        return 2 * (self.bits - _LOWEST) + 1

    @property
    def dense_tag(self) -> int:
        return self.sparse_tag + 1

    @property
    def sparse_limit(self) -> int:
        """Registers in use beyond which a sketch is kept and stored dense (a sixteenth of them)."""
        return self.registers >> 4

    @property
    def register_sql(self) -> str:
        """SQL of the register of ``{hash}`` (a ``bit(64)``), as :func:`register_of` computes it."""
        return f"substring({{hash}} from 1 for {self.bits})::int"

    @property
    def value_sql(self) -> str:
        return f"COALESCE(NULLIF(position('1' in substring({{hash}} from {self.bits + 1})::text), 0), {self.max_value})"

    @cached_property
    def high_bits(self) -> int:
        return int.from_bytes(b"\x80" * self.registers, "little")

    @cached_property
    def all_bits(self) -> int:
        return int.from_bytes(b"\xff" * self.registers, "little")

    @cached_property
    def zeros(self) -> bytes:
        return bytes(self.registers)


@cache
def precision(bits: int) -> Precision:
    if not _LOWEST <= bits <= _HIGHEST:
        raise ValueError(f"precision {bits} is not one sketches are stored at")
    return Precision(bits)


SCOPES = precision(SCOPE_PRECISION)
BREAKDOWNS = precision(BREAKDOWN_PRECISION)
_ALPHA_INFINITY = 1 / (2 * math.log(2))


def _format(tag: int) -> tuple[Precision, bool]:
    """``(precision, dense)`` of a stored sketch's first byte."""
    bits = _LOWEST + (tag - 1) // 2
    if tag < 1 or bits > _HIGHEST:
        raise ValueError(f"unknown sketch format {tag}")
    return precision(bits), tag % 2 == 0


def sketches_sql(registers: str, keys: str, layout: Precision = SCOPES) -> str:
    """``SELECT <keys>, sketch``: each group's stored sketch, built by PostgreSQL in :meth:`Sketch.encode`'s format.

    ``registers`` is a query of ``<keys>, register, rank`` rows, one per register in use and group
    (``rank``: the register's value, the largest of the group's viewers, computed at ``layout``'s
    precision); ``keys`` names the group's columns, comma-separated, unqualified. Dense sketches fill the
    gaps between registers in use with zero bytes, so their cost follows the registers in use, not all
    of them. Bytes are cut from ``int4send`` (big-endian) rather than spelled in hex and decoded: 2.3
    times faster per register.
    """
    columns = ", ".join(f"r.{key.strip()}" for key in keys.split(","))
    little_endian = "substring(int4send(((r.register & 255) << 8) | (r.register >> 8)) FROM 3 FOR 2)"
    rank = "substring(int4send(r.rank) FROM 4 FOR 1)"
    gaps = f"{rank} || substring(z.zeros FROM 1 FOR r.next - r.register - 1)"
    return f"""
    SELECT {columns},
      CASE WHEN count(*) > {layout.sparse_limit}
        THEN '\\x{layout.dense_tag:02x}'::bytea || decode(repeat('00', min(r.register)), 'hex')
             || string_agg({gaps}, '' ORDER BY r.register)
        ELSE '\\x{layout.sparse_tag:02x}'::bytea || string_agg({little_endian}, '' ORDER BY r.register)
             || string_agg({rank}, '' ORDER BY r.register)
      END AS sketch
    FROM (SELECT q.*, lead(q.register, 1, {layout.registers}) OVER (PARTITION BY {keys} ORDER BY q.register) AS next
          FROM ({registers}) AS q) AS r
    CROSS JOIN (SELECT decode(repeat('00', {layout.registers}), 'hex') AS zeros) AS z
    GROUP BY {columns}
    """


def viewer_key(user_id: int | None, ip_hash: str | None, view_id: int) -> str:
    """The same key as :data:`VIEWER_KEY_SQL`: a user, else an IP hash, else the view itself."""
    if user_id is not None:
        return f"u:{user_id}"
    if ip_hash:
        return f"i:{ip_hash}"
    return f"v:{view_id}"


# Reports hash the same tail viewers for each point, range and total they estimate, and a
# warm function sees the same viewers poll after poll: remembered (about 3 MB when full).
@lru_cache(maxsize=16_384)
def register_of(key: str, bits: int = SCOPE_PRECISION) -> tuple[int, int]:
    """``(register, value)`` of a viewer key at ``bits`` of precision, as ``register_sql`` and ``value_sql``
    compute them."""
    value_bits = 64 - bits
    hashed = int(hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()[:16], 16)
    rest = hashed & ((1 << value_bits) - 1)
    return hashed >> value_bits, (value_bits - rest.bit_length() + 1) if rest else value_bits + 1


class Sketch:
    """A HyperLogLog sketch being built or merged (a dict of registers while few are in use).

    Merging a sketch of another precision gives a sketch of the coarser one (the finer is folded down
    first, exactly as if it had been built at that precision): a 16-bit breakdown sketch meeting a
    14-bit one stored before breakdowns had 16 bits stays correct, at the coarser error.
    """

    __slots__ = ("_dense", "_layout", "_sparse")

    def __init__(self, bits: int = SCOPE_PRECISION) -> None:
        self._layout = precision(bits)
        self._sparse: dict[int, int] = {}
        self._dense: bytearray | None = None

    @property
    def layout(self) -> Precision:
        return self._layout

    @classmethod
    def of_keys(cls, keys: Iterable[str], bits: int = SCOPE_PRECISION) -> Sketch:
        sketch = cls(bits)
        sketch.add_keys(keys)
        return sketch

    @classmethod
    def decode(cls, blob: bytes | None, bits: int = SCOPE_PRECISION) -> Sketch:
        """The stored sketch, at its own precision (``bits`` for an empty one: :meth:`merge_blob` gives an
        empty sketch the precision of what it merges)."""
        sketch = cls(bits)
        sketch.merge_blob(blob)
        return sketch

    def is_empty(self) -> bool:
        return self._dense is None and not self._sparse

    def add_keys(self, keys: Iterable[str]) -> None:
        bits = self._layout.bits
        self.add_registers(register_of(key, bits) for key in keys)

    def add_registers(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Registers and values at this sketch's precision."""
        dense = self._dense
        if dense is not None:
            for register, value in pairs:
                if value > dense[register]:  # noqa: PLR1730 - hot loop: a compare is cheaper than max() and a store
                    dense[register] = value
            return
        sparse = self._sparse
        for register, value in pairs:
            if value > sparse.get(register, 0):
                sparse[register] = value
        if len(sparse) > self._layout.sparse_limit:
            self._to_dense()

    def merge_blob(self, blob: bytes | None) -> None:
        """Merge a stored sketch (``None`` and empty blobs are empty sketches)."""
        if not blob or len(blob) < 2:
            return
        layout, dense = _format(blob[0])
        if layout != self._layout and self.is_empty():
            self._layout = layout  # nothing to fold down: an empty sketch is empty at any precision
        if layout != self._layout:
            self._merge_coarser(Sketch.decode(blob))
        elif dense:
            self._merge_dense(memoryview(blob)[1:])
        else:
            self._merge_sparse(blob)

    def encode(self) -> bytes:
        if self._dense is not None:
            return bytes([self._layout.dense_tag]) + self._dense
        in_use = sorted(self._sparse)
        registers = array("H", in_use)
        if sys.byteorder == "big":
            registers.byteswap()
        return bytes([self._layout.sparse_tag]) + registers.tobytes() + bytes(map(self._sparse.__getitem__, in_use))

    def registers(self) -> bytes:
        """Every register's value."""
        if self._dense is not None:
            return bytes(self._dense)
        registers = bytearray(self._layout.registers)
        for register, value in self._sparse.items():
            registers[register] = value
        return bytes(registers)

    def estimate(self) -> int:
        """Distinct viewers: Ertl's improved estimator over the histogram of register values."""
        layout = self._layout
        if self._dense is not None:
            histogram = _dense_histogram(self._dense, layout)
        else:
            histogram = [0] * (layout.max_value + 1)
            for value in self._sparse.values():
                histogram[value] += 1
            histogram[0] = layout.registers - len(self._sparse)
        return round(_ertl_estimate(histogram, layout))

    def folded_to(self, bits: int) -> Sketch:
        """This sketch at a coarser precision: each register's dropped index bits lead its value's bits."""
        if bits == self._layout.bits:
            return self
        shift = self._layout.bits - bits
        if shift < 0:
            raise ValueError("a sketch cannot be made finer than it was built")
        low_mask = (1 << shift) - 1
        pairs = self._sparse.items() if self._dense is None else _in_use(self._dense)
        coarser = Sketch(bits)
        coarser.add_registers(
            (
                register >> shift,
                shift - (register & low_mask).bit_length() + 1 if register & low_mask else value + shift,
            )
            for register, value in pairs
        )
        return coarser

    def _merge_coarser(self, other: Sketch) -> None:
        bits = min(self._layout.bits, other._layout.bits)
        mine, theirs = self.folded_to(bits), other.folded_to(bits)
        self._layout, self._sparse, self._dense = mine._layout, dict(mine._sparse), mine._dense
        self.merge_blob(theirs.encode())

    def _merge_sparse(self, blob: bytes) -> None:
        """A stored sparse sketch (distinct registers): dict and set operations in C, a Python step only for
        the registers both sketches use (few: two days' viewers rarely share one)."""
        if self._dense is not None:
            self.add_registers(_sparse_pairs(blob))
            return
        incoming = dict(_sparse_pairs(blob))
        sparse = self._sparse
        for register in incoming.keys() & sparse.keys():
            incoming[register] = max(incoming[register], sparse[register])
        sparse.update(incoming)
        if len(sparse) > self._layout.sparse_limit:
            self._to_dense()

    def _to_dense(self) -> None:
        """Every register in an array: the sparse ones written by C (each appears once, so no compare)."""
        dense = bytearray(self._layout.zeros)
        deque(map(dense.__setitem__, self._sparse.keys(), self._sparse.values()), maxlen=0)
        self._dense, self._sparse = dense, {}

    def _merge_dense(self, registers: bytes | memoryview) -> None:
        if self._dense is None:
            sparse = self._sparse
            self._dense, self._sparse = bytearray(registers), {}
            self.add_registers(sparse.items())
            return
        layout = self._layout
        merged = _byte_max(int.from_bytes(self._dense, "little"), int.from_bytes(registers, "little"), layout)
        self._dense = bytearray(merged.to_bytes(layout.registers, "little"))


def _in_use(registers: bytearray) -> Iterable[tuple[int, int]]:
    return ((register, value) for register, value in enumerate(registers) if value)


def _dense_histogram(registers: bytearray, layout: Precision = SCOPES) -> list[int]:
    """``histogram[k]``: how many of the registers hold the value ``k``.

    Value by value from the smallest, each pass deleting that value's registers in C (``translate``),
    so the passes shrink with the registers left, until few are left to count one by one: a report
    estimates one sketch per point or per breakdown value, and this was faster than counting a 16-bit
    sketch's registers eight values at a time with masks (docs/benchmark.md).
    """
    histogram = [0] * (layout.max_value + 1)
    rest, value = bytes(registers), 0
    while len(rest) > _COUNTED_ONE_BY_ONE:
        single = _SINGLE_BYTES[value]
        if single in rest:
            kept = rest.translate(None, single)
            histogram[value], rest = len(rest) - len(kept), kept
        value += 1
    for left, count in Counter(rest).items():
        histogram[left] += count
    return histogram


def union(blobs: Iterable[bytes | None], bits: int = SCOPE_PRECISION) -> Sketch:
    """The sketch of the union of the periods the blobs summarise.

    Dense sketches first, merged as integers converted once (merging one by one converts the result to
    bytes and back each time, nearly half of a 16-bit merge), then the sparse ones into the result.
    """
    stored = [(blob, *_format(blob[0])) for blob in blobs if blob and len(blob) >= 2]
    dense = [(blob, layout) for blob, layout, is_dense in stored if is_dense]
    sketch = Sketch(bits)
    layouts = {layout for _, layout in dense}
    if len(layouts) == 1:
        layout = layouts.pop()
        registers = int.from_bytes(memoryview(dense[0][0])[1:], "little")
        for blob, _ in dense[1:]:
            registers = _byte_max(registers, int.from_bytes(memoryview(blob)[1:], "little"), layout)
        sketch.merge_blob(bytes([layout.dense_tag]) + registers.to_bytes(layout.registers, "little"))
        stored = [entry for entry in stored if not entry[2]]
    for blob, _, _ in stored:
        sketch.merge_blob(blob)
    return sketch


def _ertl_estimate(histogram: list[int], layout: Precision) -> float:
    """Algorithm 6 of Ertl (2017): ``histogram[k]`` registers hold the value ``k`` (0..max_value)."""
    m = layout.registers
    if histogram[0] == m:
        return 0.0
    z = m * _tau(1 - histogram[layout.max_value] / m)
    for value in range(layout.value_bits, 0, -1):
        z = 0.5 * (z + histogram[value])
    z += m * _sigma(histogram[0] / m)
    return _ALPHA_INFINITY * m * m / z


def _sigma(x: float) -> float:
    """sigma(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1): the empty registers' share, summed until it stops changing."""
    if x == 1.0:
        return math.inf
    weight, total = 1.0, x
    while True:
        x *= x
        previous, total = total, total + x * weight
        weight += weight
        if total == previous:
            return total


def _tau(x: float) -> float:
    """tau(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))² 2^-k) / 3: the saturated registers' share."""
    if x in (0.0, 1.0):
        return 0.0
    weight, total = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        weight *= 0.5
        previous, total = total, total - (1 - x) ** 2 * weight
        if total == previous:
            return total / 3


def _sparse_pairs(blob: bytes) -> Iterable[tuple[int, int]]:
    count = (len(blob) - 1) // 3
    registers = array("H")
    registers.frombytes(memoryview(blob)[1 : 1 + 2 * count])
    if sys.byteorder == "big":
        registers.byteswap()
    return zip(registers, memoryview(blob)[1 + 2 * count :], strict=True)


def _byte_max(left: int, right: int, layout: Precision) -> int:
    """Byte-wise max of two register integers (values < 128, so no byte borrows from the next)."""
    high = layout.high_bits
    difference = (left | high) - right
    left_wins = ((difference & high) >> 7) * 0xFF
    return (left & left_wins) | (right & (layout.all_bits ^ left_wins))
