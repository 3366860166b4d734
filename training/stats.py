"""Label counts of a gold file as a Markdown table: ``python -m training.stats data/sample/labels.jsonl``."""

from __future__ import annotations

import json
import sys
from collections import Counter


def label_counts(path: str) -> dict:
    topics, stances, n, none, multi = Counter(), Counter(), 0, 0, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            n += 1
            topics.update(row.get("topics", []))
            stances[row.get("stance")] += 1
            none += not row.get("topics")
            multi += len(row.get("topics", [])) >= 2
    return {"articles": n, "topics": dict(topics), "no_topic": none, "multi_topic": multi, "stances": dict(stances)}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    c = label_counts(argv[0] if argv else "data/sample/labels.jsonl")
    print(f"{c['articles']} articles; {c['no_topic']} with no topic; {c['multi_topic']} with two or more topics.\n")
    print("| label | articles |\n|---|---|")
    for name, k in sorted(c["topics"].items(), key=lambda x: -x[1]):
        print(f"| {name} | {k} |")
    for name, k in sorted(c["stances"].items(), key=lambda x: -x[1]):
        print(f"| stance: {name} | {k} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
