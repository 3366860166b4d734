"""Hand labels (gold): read, validate against the schema, and match to articles by id or title."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from inference.errors import NewstagError
from inference.schema import Schema


@dataclass(frozen=True)
class Gold:
    topics: tuple[str, ...]
    stance: str
    line: int = 0


def title_key(title: str) -> str:
    t = title.casefold().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", t).strip()


class GoldLabels:
    """Gold labels keyed by record id and by normalized title."""

    def __init__(self, by_id: dict[str, Gold], by_title: dict[str, Gold], path: str, lines: int):
        self.by_id, self.by_title, self.path, self.lines = by_id, by_title, path, lines
        self.used: set[int] = set()

    def __len__(self) -> int:
        return self.lines

    def match(self, rid: str, title: str) -> Gold | None:
        gold = self.by_id.get(rid) or self.by_title.get(title_key(title))
        if gold is not None:
            self.used.add(gold.line)
        return gold

    def unmatched(self) -> int:
        return self.lines - len(self.used)


def read_gold(path: str | Path, schema: Schema) -> GoldLabels:
    """Read a gold JSONL file: one ``{"id" or "title", "topics": [...], "stance": ...}`` per line.

    Raises:
        NewstagError: for a missing file, bad JSON or a label the schema does not know, naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise NewstagError(f"gold labels file {path} not found; pass --gold with a JSONL file of hand labels")
    topics, stances = set(schema.topic_names), set(schema.stance_names)
    by_id, by_title, count = {}, {}, 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise NewstagError(f"{path}:{n}: not valid JSON ({err.msg}); fix the line") from None
        where = f"{path}:{n}"
        if not isinstance(row, dict) or not (row.get("id") or row.get("title")):
            raise NewstagError(f"{where}: a gold line needs an 'id' or a 'title'; add one")
        got = row.get("topics", [])
        if isinstance(got, str):
            got = [got]
        bad = [t for t in got if t not in topics]
        if bad:
            raise NewstagError(f"{where}: unknown topic '{bad[0]}'; use one of {', '.join(schema.topic_names)} "
                               "or add it to the labels file")
        stance = row.get("stance", schema.default_stance)
        if stance not in stances:
            raise NewstagError(f"{where}: unknown stance '{stance}'; use one of {', '.join(schema.stance_names)}")
        gold = Gold(tuple(t for t in schema.topic_names if t in got), stance, n)
        count += 1
        if row.get("id"):
            by_id[str(row["id"])] = gold
        if row.get("title"):
            by_title[title_key(row["title"])] = gold
    return GoldLabels(by_id, by_title, str(path), count)
