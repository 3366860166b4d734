"""The review's gold file: one JSON line per reviewed article, in the format ``newstag-build --gold`` reads.

Each decision is written before it is acknowledged: under an exclusive lock (``fcntl.flock`` on a lock file
beside it, so two servers or two tabs on one file take turns), appended as one line with one ``write`` and
``fsync``-ed. A decision is keyed by article id: a second one for the same id is refused
(:class:`AlreadyDecided`, the page's 409) unless it says ``replace``, which rewrites the file with that line
changed (a temporary file, ``fsync``, ``os.replace``), so the file holds one line per article. A line cut short
by a crash (never acknowledged) is removed when the file is opened.

Example:
    >>> gold = GoldFile("runs/review.jsonl")
    >>> gold.add({"id": "a1", "title": "...", "topics": ["ceasefire"], "stance": "neutral"})
    >>> list(gold.decisions())
    ['a1']
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from inference.errors import NewstagError


class AlreadyDecided(Exception):
    """The article already has a decision in the file (another tab or server wrote it first)."""

    def __init__(self, record: dict):
        super().__init__(f"article {record.get('id')!r} already has a decision")
        self.record = record


class GoldFile:
    """Decisions by article id, read from and written to one JSONL file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")
        if self.path.exists() and not self.path.is_file():
            raise NewstagError(f"gold file {self.path} is not a file; pass --gold with a JSONL file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._records: dict[str, dict] = {}
        self._seen: tuple | None = None  # (inode, size, mtime) after our last read or write
        self.repaired = 0  # bytes of a line cut short by a crash, removed on opening
        with self._locked():
            self.repaired = self._repair()
            self._reload()

    # ---- reading ---------------------------------------------------------------------------------------------
    def decisions(self) -> dict[str, dict]:
        """Article id -> its decision, in the order they were first made (a copy)."""
        with self._locked():
            self._refresh()
            return dict(self._records)

    def get(self, article_id: str) -> dict | None:
        with self._locked():
            self._refresh()
            return self._records.get(article_id)

    def _stat(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _refresh(self) -> None:
        """Re-read the file when another process changed it since we last looked."""
        if self._stat() != self._seen:
            self._reload()

    def _reload(self) -> None:
        records: dict[str, dict] = {}
        if self.path.is_file():
            for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise NewstagError(f"{self.path}:{n}: not valid JSON ({err.msg}); fix or remove the line") from None
                key = row.get("id") if isinstance(row, dict) else None
                if key:  # lines written by hand with a title only are the builder's business, not the queue's
                    records[str(key)] = row
        self._records = records
        self._seen = self._stat()

    def _repair(self) -> int:
        """Cut a last line that a crash left without its newline and that is not valid JSON; returns its bytes."""
        if not self.path.is_file():
            return 0
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return 0
        cut = data.rfind(b"\n") + 1
        try:
            json.loads(data[cut:])
            return 0  # a whole line without its newline (written by hand): kept, the next append adds one
        except ValueError:
            pass
        with self.path.open("r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
        return len(data) - cut

    # ---- writing ---------------------------------------------------------------------------------------------
    def add(self, record: dict, replace: bool = False) -> dict:
        """Write one decision (``record["id"]`` is the key) durably before returning it.

        Raises:
            AlreadyDecided: the id has a decision and ``replace`` is false.
        """
        key = str(record["id"])
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._locked():
            self._refresh()
            if key in self._records and not replace:
                raise AlreadyDecided(self._records[key])
            if key in self._records:
                self._records[key] = record
                self._rewrite()
            else:
                self._append(line)
                self._records[key] = record
            self._seen = self._stat()
        return record

    def _append(self, line: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size:  # a hand-written last line without its newline must not be glued to ours
                with open(self.path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        line = "\n" + line
            data = line.encode("utf-8")
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"short write to {self.path} ({written} of {len(data)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for rec in self._records.values():
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    @contextlib.contextmanager
    def _locked(self):
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
