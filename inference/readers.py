"""Read inputs (text pages, HTML pages, JSONL, CSV, a saved dataset) as a stream of articles.

Used by ``newstag-build`` and ``newstag-tag`` alike. Bad records never stop a run: they come out as
``Skip`` items with a reason, and the caller counts and reports them.

Example:
    >>> for item in read_inputs(["data/sample"]):
    ...     print(item.title if isinstance(item, Record) else item.reason)
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NewstagError
from .pages import Article, split_articles
from .sentences import unwrap

PAGE_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".jsonl", ".ndjson", ".csv"}
SUFFIXES = PAGE_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES
# Field name -> the column names that mean it, tried in order (a --column flag overrides).
COLUMN_ALIASES = {
    "id": ("id", "guid", "uid", "doc_id", "article_id", "newid"),
    "title": ("title", "headline", "heading", "subject"),
    "text": ("text", "body", "content", "article", "articleBody", "story", "description"),
    "url": ("url", "link", "href"),
    "source": ("source", "outlet", "publisher", "site"),
    "published": ("published", "date", "pubdate", "published_at", "datetime"),
}


LATIN_CODE_PAGES = {"latin_1", "iso8859_1", "iso8859_2", "iso8859_9", "iso8859_15", "cp1250", "cp1252", "cp1254",
                    "cp1257", "mac_roman", "mac_latin2"}


def parse_columns(pairs: Iterable[str]) -> dict[str, str]:
    """``--column FIELD=NAME`` flags to a mapping, FIELD one of ``COLUMN_ALIASES``.

    Raises:
        NewstagError: for a flag that is not FIELD=NAME with a known FIELD.
    """
    out = {}
    for pair in pairs:
        field_name, sep, name = pair.partition("=")
        if not sep or field_name not in COLUMN_ALIASES or not name:
            raise NewstagError(f"--column {pair!r} is not FIELD=NAME with FIELD one of {', '.join(COLUMN_ALIASES)}")
        out[field_name] = name
    return out


@dataclass(frozen=True)
class Record:
    """One article read from an input, before labeling."""

    id: str
    title: str
    text: str
    path: str  # the input file it came from
    source: str | None = None  # outlet
    url: str | None = None
    published: str | None = None
    tags: tuple[str, ...] = ()
    position: int = 0
    page_id: str | None = None  # articles cut from one page share it
    redecoded: str | None = None  # the fallback encoding used, if the file was not UTF-8
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_article(cls, article: Article, path: str, page_id: str, redecoded: str | None = None) -> Record:
        """The record of an article cut from a page: its id is the page's id and the article's position."""
        return cls(id=f"{page_id}-{article.position}", title=article.title, text=unwrap(article.text), path=path,
                   source=article.outlet, tags=tuple(article.tags), position=article.position, page_id=page_id, redecoded=redecoded)


@dataclass(frozen=True)
class Skip:
    """A record that could not be read; the run goes on."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}" + (f":{self.line}" if self.line else "") + f": {self.reason}"


def expand_inputs(inputs: Iterable[str], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Resolve files, directories (recursively) and globs into a sorted list of readable inputs.

    Raises:
        NewstagError: when an input does not exist or nothing readable is found.
    """
    skip = {Path(p).resolve() for p in exclude}
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir() and _is_dataset_dir(p):
            files.append(p)
        elif p.is_dir():
            files.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES)
        elif p.is_file():
            files.append(p)
        elif any(ch in item for ch in "*?["):
            found = sorted(Path(f) for f in glob.glob(item, recursive=True) if Path(f).is_file())
            if not found:
                raise NewstagError(f"no file matches {item}; check the pattern (quote it so the shell leaves it alone)")
            files.extend(found)
        else:
            raise NewstagError(f"input {item} does not exist; pass existing files, directories or globs")
    files = [f for f in files if f.resolve() not in skip]
    if not files:
        raise NewstagError("no readable input found (.txt, .html, .jsonl, .csv or a saved dataset); check the paths")
    return files


def _is_dataset_dir(p: Path) -> bool:
    return (p / "dataset_dict.json").is_file() or (p / "dataset_info.json").is_file()


def decode(data: bytes, path: str) -> tuple[str, str | None]:
    """Decode bytes as UTF-8, else with the detected encoding (latin-1/cp1252 pages exist).

    Returns:
        The text and the fallback encoding's name, or None when it was UTF-8.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    enc = best.encoding if best is not None else "cp1252"
    # Short Western texts are often guessed as another single-byte Latin code page (cp1250, iso8859_2...);
    # scraped non-UTF-8 news in Latin script is overwhelmingly cp1252/latin-1, a superset in print range.
    if best is None or enc.lower().replace("-", "_") in LATIN_CODE_PAGES:
        enc = "cp1252"
    try:
        return data.decode(enc), enc
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1"), "latin-1"


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def read_inputs(inputs: Iterable[str], columns: dict[str, str] | None = None,
                exclude: Iterable[str | Path] = ()) -> Iterator[Record | Skip]:
    """Stream every article of every input, in a stable order.

    Args:
        inputs: files, directories or globs.
        columns: field -> column name overrides for JSONL/CSV/datasets (e.g. ``{"text": "body"}``).
        exclude: files to leave out (such as the gold labels file inside the input folder).
    Yields:
        ``Record`` for each article, ``Skip`` for each record that could not be read.
    """
    for path in expand_inputs(inputs, exclude):
        suffix = path.suffix.lower()
        if path.is_dir():
            yield from _read_dataset(path, columns or {})
        elif suffix in TABLE_SUFFIXES:
            yield from _read_table(path, columns or {})
        else:
            yield from _read_page(path, html=suffix in HTML_SUFFIXES)


def _read_page(path: Path, html: bool) -> Iterator[Record | Skip]:
    data = path.read_bytes()
    if not data.strip():
        yield Skip(str(path), "empty page")
        return
    text, enc = decode(data, str(path))
    arts = _html_articles(text) if html else split_articles(text)
    if not arts:
        yield Skip(str(path), "no article found on the page (only site furniture?)")
        return
    page_id = _digest(str(path))
    for art in arts:
        yield Record.from_article(art, path=str(path), page_id=page_id, redecoded=enc)


def _html_articles(html: str) -> list[Article]:
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False,
                                      favor_precision=True)
    if doc is None or not (doc.text or "").strip():
        return []
    title = (doc.title or "").strip()
    lines = [ln.strip() for ln in doc.text.split("\n") if ln.strip()]
    if title and lines and lines[0] == title:
        lines = lines[1:]
    tags = tuple(t for t in (doc.tags or []) if t) if isinstance(doc.tags, list) else ()
    return [Article(title=title or lines[0][:120], text="\n".join(lines), tags=tags, outlet=doc.sitename)]


def _pick(row: dict, field_name: str, columns: dict[str, str]):
    if field_name in columns:
        return row.get(columns[field_name])
    for alias in COLUMN_ALIASES[field_name]:
        if alias in row:
            return row[alias]
    return None


def _text_column(keys: Iterable[str], columns: dict[str, str]) -> str | None:
    keys = list(keys)
    if "text" in columns:
        return columns["text"] if columns["text"] in keys else None
    return next((a for a in COLUMN_ALIASES["text"] if a in keys), None)


def _row_record(row: dict, path: Path, line: int, columns: dict[str, str], enc: str | None) -> Record | Skip:
    text = _pick(row, "text", columns)
    title = _pick(row, "title", columns)
    if not isinstance(text, str) or not text.strip():
        return Skip(str(path), "record has no text", line)
    text = unwrap(text.strip())
    title = title.strip() if isinstance(title, str) and title.strip() else text.split("\n")[0][:120]
    rid = _pick(row, "id", columns)
    rid = str(rid) if rid not in (None, "") else _digest(str(path), str(line))
    extra = {k: v for k, v in row.items() if k in ("topics", "stance", "labels", "category", "split")}
    return Record(id=rid, title=title, text=text, path=str(path), source=_str(_pick(row, "source", columns)),
                  url=_str(_pick(row, "url", columns)), published=_str(_pick(row, "published", columns)),
                  redecoded=enc, extra=extra)


def _str(v) -> str | None:
    return None if v in (None, "") else str(v)


def _scan_encoding(path: Path) -> tuple[bool, str | None]:
    """One streaming pass over a file: (whether it holds anything but whitespace, fallback encoding or None).

    The file is checked for UTF-8 in 1 MiB blocks without being held; a file that is not UTF-8 gets the
    encoding ``decode`` picks from its first block.
    """
    import codecs

    check = codecs.getincrementaldecoder("utf-8")()
    content, first = False, b""
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                first = first or block
                content = content or bool(block.strip())
                check.decode(block)
            check.decode(b"", final=True)
    except UnicodeDecodeError:
        return True, decode(first, str(path))[1] or "cp1252"
    return content, None


def _read_table(path: Path, columns: dict[str, str]) -> Iterator[Record | Skip]:
    """JSONL or CSV, streamed line by line (a file of any size is never held in memory)."""
    content, enc = _scan_encoding(path)
    if not content:
        yield Skip(str(path), "empty file")
        return
    with path.open(encoding=enc or "utf-8", errors="replace" if enc else "strict", newline="") as f:
        if path.suffix.lower() == ".csv":
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            if _text_column(header, columns) is None:
                wanted = columns.get("text") or "/".join(COLUMN_ALIASES["text"][:3])
                raise NewstagError(
                    f"{path}: no text column (looked for {wanted}; the header has {', '.join(header) or 'nothing'}); "
                    f"pass --column text=NAME with the column that holds the article text")
            for i, row in enumerate(reader, start=2):
                yield _row_record(row, path, i, columns, enc)
            return
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                yield Skip(str(path), f"line is not valid JSON ({err.msg})", i)
                continue
            if not isinstance(row, dict):
                yield Skip(str(path), "line is not a JSON object", i)
                continue
            yield _row_record(row, path, i, columns, enc)


def _read_dataset(path: Path, columns: dict[str, str]) -> Iterator[Record | Skip]:
    try:
        from datasets import DatasetDict, load_from_disk
    except ImportError:
        raise NewstagError("reading a saved dataset needs the 'datasets' package; pip install 'newstag[train]'") from None
    ds = load_from_disk(str(path))
    parts = ds.values() if isinstance(ds, DatasetDict) else [ds]
    n = 0
    for part in parts:
        if _text_column(part.column_names, columns) is None:
            raise NewstagError(f"{path}: the dataset has no text column (columns: {', '.join(part.column_names)}); "
                               "pass --column text=NAME")
        for row in part:
            n += 1
            yield _row_record(row, path, n, columns, None)
