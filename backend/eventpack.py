"""An ended run's event log, packed into xz-compressed segments — and read back.

While a run is live its events go into the store one row each (cheap to append, read by
``seq``). Once it has ended nothing is added any more, and each row's JSON repeats the
same keys, run id and nearly the same numbers step after step: exactly what LZMA's long
matches take out (measured ~10× on a default run, bench/store_size.py). Packing the whole
log as one blob would make every replay page (``?after=``, 1000 events at a time)
decompress the whole run, so the log is cut into *segments* of consecutive events,
each compressed on its own (xz, from the standard library's ``lzma``) with the range of
``seq`` it holds: a read decompresses only the segments that overlap what it asks for.

A segment is the events' JSON texts, exactly as they were stored, one per line (JSON
text never holds a raw newline), so unpacking gives back byte-for-byte what was packed.
"""

from __future__ import annotations

import lzma
from collections.abc import Iterable, Iterator

# Cut a segment after this many events or this many bytes of JSON, whichever comes
# first: small enough that a replay page decompresses little beyond what it shows, large
# enough that LZMA finds the repeats (1 024 events pack ~15 % better than 256 would).
SEGMENT_EVENTS = 512
SEGMENT_BYTES = 256 * 1024
PRESET = 6  # xz's default: ~0.1 s for a 200-step run on one slow core

Segment = tuple[int, int, bytes]  # first seq, last seq, xz data


def pack(rows: Iterable[tuple[int, str]]) -> Iterator[Segment]:
    """``(seq, json text)`` in ``seq`` order → segments, each ``(first, last, data)``."""
    seqs: list[int] = []
    texts: list[str] = []
    size = 0
    for seq, text in rows:
        seqs.append(seq)
        texts.append(text)
        size += len(text)
        if len(texts) >= SEGMENT_EVENTS or size >= SEGMENT_BYTES:
            yield _segment(seqs, texts)
            seqs, texts, size = [], [], 0
    if texts:
        yield _segment(seqs, texts)


def unpack(data: bytes) -> list[str]:
    """A segment's events, as the JSON texts they were stored as."""
    return lzma.decompress(data).decode("utf-8").split("\n")


def _segment(seqs: list[int], texts: list[str]) -> Segment:
    assert all("\n" not in t for t in texts), "json.dumps never writes a raw newline"
    return seqs[0], seqs[-1], lzma.compress("\n".join(texts).encode("utf-8"), preset=PRESET)
