"""The MapReduce job itself, in one process: the corpus, the splits, the map and reduce
functions, the partition function and the combiner — and the one-process result every
distributed run is checked against. engine/strategies/mapreduce.py runs the same functions
on real worker processes, with a master that hands out the tasks.

Dean & Ghemawat, "MapReduce: Simplified Data Processing on Large Clusters", CACM 2008:

- the input is cut into M *splits*; a map task turns its split into (key, value) pairs;
- the pairs are cut into R *partitions* by ``hash(key) mod R`` — the same hash on every
  machine (Python's own ``hash`` of a string differs from process to process, so it would
  send one word to two reducers: crc32 does not);
- a *combiner* may pre-reduce a map task's pairs before they leave the machine (word
  count: 30 × ("the", 1) become ("the", 30)), which cuts the shuffle's bytes;
- reduce task r receives partition r of every map task's output, groups by key and
  reduces each key's values.

Two jobs: word count (key: word, value: count) and an inverted index (key: word, value:
the sorted documents it occurs in). Chinese text has no spaces: each Han character is a
word (a real system would segment words; characters keep the example honest and small).
"""

from __future__ import annotations

import pickle
import random
import re
import zlib
from collections import Counter, defaultdict
from typing import Any

import torch

from engine.data import read_corpus

JOBS = ("word_count", "inverted_index")
CORPORA = ("en", "zh", "mixed")
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]?")
_WORD = re.compile(r"[a-z0-9']+|[\u4e00-\u9fff]")

Pairs = list[tuple[str, Any]]


def sentences(language: str) -> list[str]:
    text = read_corpus("text-zh" if language == "zh" else "text-en")
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def make_corpus(corpus: str, documents: int, seed: int) -> list[str]:
    """``documents`` generated documents of 2–6 sentences drawn from the bundled texts
    (seeded: every process builds the same corpus). ``mixed``: every other one Chinese."""
    rng = random.Random(seed * 7_919 + 13)
    pools = {lang: sentences(lang) for lang in ("en", "zh")}
    out = []
    for d in range(documents):
        lang = corpus if corpus != "mixed" else ("en", "zh")[d % 2]
        pool = pools[lang]
        joiner = "" if lang == "zh" else " "
        out.append(joiner.join(rng.choice(pool) for _ in range(rng.randint(2, 6))))
    return out


def splits(documents: int, m: int) -> list[range]:
    """Map task i's documents: M contiguous, near-equal ranges."""
    bounds = [documents * i // m for i in range(m + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(m)]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def map_task(job: str, corpus: list[str], docs: range) -> Pairs:
    """The user's map function over one split."""
    if job == "word_count":
        return [(w, 1) for d in docs for w in words(corpus[d])]
    return [(w, d) for d in docs for w in sorted(set(words(corpus[d])))]


def combine(job: str, pairs: Pairs) -> Pairs:
    """The combiner: the reduce function run on one map task's own output."""
    if job == "word_count":
        return sorted(_count(pairs).items())
    return pairs  # an inverted index has nothing to pre-reduce: each (word, doc) once


def _count(pairs: Pairs) -> Counter:
    c: Counter = Counter()
    for w, n in pairs:
        c[w] += n
    return c


def partition_of(key: str, r: int) -> int:
    """hash(key) mod R with a hash every machine agrees on."""
    return zlib.crc32(key.encode("utf-8")) % r


def partitions(pairs: Pairs, r: int) -> list[Pairs]:
    out: list[Pairs] = [[] for _ in range(r)]
    for key, value in pairs:
        out[partition_of(key, r)].append((key, value))
    return out


def reduce_task(job: str, inputs: list[Pairs]) -> dict[str, Any]:
    """The user's reduce function over one partition: group by key, reduce each group."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for pairs in inputs:
        for key, value in pairs:
            grouped[key].append(value)
    if job == "word_count":
        return {k: sum(v) for k, v in sorted(grouped.items())}
    return {k: sorted(set(v)) for k, v in sorted(grouped.items())}


def reference(job: str, corpus: list[str]) -> dict[str, Any]:
    """The whole job in one process: what every distributed run must produce."""
    return reduce_task(job, [map_task(job, corpus, range(len(corpus)))])


# ---- messages: Python values as bytes in a tensor (what the process group can carry)

def to_tensor(value: Any) -> torch.Tensor:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def from_tensor(tensor: torch.Tensor) -> Any:
    return pickle.loads(tensor.numpy().tobytes())
