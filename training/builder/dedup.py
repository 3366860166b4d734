"""Duplicate grouping: exact (normalized text hash) and near (MinHash LSH over word shingles).

Example:
    >>> d = Deduplicator(min_similarity=0.5)
    >>> d.add("a", text_a); d.add("b", text_b)
    >>> d.clusters()  # {"a": "a", "b": "a"} when b repeats a
"""

from __future__ import annotations

import hashlib
import re
import zlib

import numpy as np
from datasketch import MinHash, MinHashLSH

_TOKEN = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lowercased words only: what two copies of one article still share after re-formatting."""
    return " ".join(_TOKEN.findall(text.lower()))


class Deduplicator:
    """Groups articles into clusters of exact and near duplicates, streaming (one article at a time)."""

    def __init__(self, min_similarity: float = 0.45, num_perm: int = 128, shingle: int = 3, seed: int = 1):
        self.min_similarity, self.num_perm, self.shingle, self.seed = min_similarity, num_perm, shingle, seed
        # LSH bands tuned below the similarity asked for: candidates near it are not lost; the estimate then decides
        self.lsh = MinHashLSH(threshold=max(0.1, 0.6 * min_similarity), num_perm=num_perm)
        template = MinHash(num_perm=num_perm, seed=seed)
        self._permutations, self._scheme = template.permutations, template.scheme  # drawn once, not per article
        self.exact: dict[str, str] = {}
        self.parent: dict[str, str] = {}
        self.kind: dict[str, str] = {}  # id -> "exact" | "near" for non-representatives
        self.signatures: dict[str, np.ndarray] = {}  # hash values only: a MinHash object weighs far more

    def _find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def _minhash(self, norm: str) -> MinHash | None:
        words = norm.split()
        if len(words) < self.shingle:
            return None
        grams = {" ".join(words[i: i + self.shingle]).encode("utf-8") for i in range(len(words) - self.shingle + 1)}
        # crc32 is a stable 32-bit hash in C: the default sha1 per shingle was a third of the build's time
        m = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=zlib.crc32,
                    permutations=self._permutations, scheme=self._scheme)
        m.update_batch(list(grams))
        return m

    def add(self, key: str, text: str) -> str | None:
        """Add an article; returns the key of an earlier article it duplicates, or None."""
        norm = normalize(text)
        h = hashlib.sha1(norm.encode("utf-8")).hexdigest()
        self.parent[key] = key
        if h in self.exact:
            first = self.exact[h]
            self.parent[key] = self._find(first)
            self.kind[key] = "exact"
            return first
        self.exact[h] = key
        m = self._minhash(norm)
        if m is None:
            return None
        values = m.hashvalues
        matches = [o for o in self.lsh.query(m) if float(np.mean(self.signatures[o] == values)) >= self.min_similarity]
        self.lsh.insert(key, m)
        self.signatures[key] = values.astype(np.uint32)
        for other in matches:  # union with every match: rewrites of one story may each match only the original
            a, b = self._find(other), self._find(key)
            if a != b:
                self.parent[b] = a
        if matches:
            self.kind[key] = "near"
        return matches[0] if matches else None

    def root(self, key: str) -> str:
        """The cluster id of an added key."""
        return self._find(key)

    def clusters(self) -> dict[str, str]:
        """Map every key to its cluster id (the first article of the cluster)."""
        return {k: self._find(k) for k in self.parent}
