"""Speed and boundaries of the sentence splitter: ``python -m benchmarks.bench_sentences [--shared PATH]``.

Example:
    python -m benchmarks.bench_sentences --no-record

Splits the texts of the bundled sample, BBC News and the Reuters-21578 ModApte training documents (where
``SHARED/corpora`` has them) with ``inference.sentences`` and with the plain punctuation rule it replaced
(every ``.!?…`` + space + capital, kept here as ``regex_before``); reports megabytes per second, sentences
found, the boundaries the abbreviation guard keeps the rule from cutting, and how many of the hand-written
cases below each splitter gets right. Sentence-splitting libraries, when importable (sentencex, pysbd,
segtok, syntok; none is a dependency), are measured the same way.
"""

from __future__ import annotations

import csv
import json
import re
import time
from importlib import metadata
from pathlib import Path

from inference.sentences import sentences

from .results import REPO, benchmark_parser, record, shared_dir

NAME = "bench_sentences"
_BEFORE = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")
CASES = [
    ("Mr. Smith of the U.S. Army said the talks had failed. He left on Monday.", 2),
    ("Dr. Jones met Gen. Haftar and Lt. Col. Ahmed in Tripoli. The meeting was short.", 2),
    ("The U.N. envoy arrived on Jan. 5 with No. 3 on the list. Talks began at once.", 2),
    ("J. R. R. Tolkien wrote it. George W. Bush read it.", 2),
    ("Inflation rose to 3.5 percent in May. Officials expect 4.25% next year.", 2),
    ('"We will not give up." The minister spoke after the vote.', 2),
    ('"Are you sure?" he asked. Nobody answered.', 2),
    ('"We cut rates. We will cut again," the governor said. Markets rose.', 3),
    ("Sen. Warren and Rep. Lee met Gov. Newsom. St. Louis was next.", 2),
    ("He moved to the U.S. The next year he left.", 2),
]


def regex_before(text: str) -> list[str]:
    """The splitter before the abbreviation guard: every punctuation rule boundary."""
    return [s.strip() for para in text.split("\n") for s in _BEFORE.split(para) if s.strip()]


def _libraries() -> dict:
    """The sentence-splitting libraries importable here, as ``{name: split function}``."""
    found = {}
    try:
        import sentencex

        found["sentencex"] = lambda t: [s.strip() for p in t.split("\n") for s in sentencex.segment("en", p) if s.strip()]
    except ImportError:
        pass
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False)
        found["pysbd"] = lambda t: [s.strip() for p in t.split("\n") for s in seg.segment(p) if s.strip()]
    except ImportError:
        pass
    try:
        from segtok.segmenter import split_multi

        found["segtok"] = lambda t: [s for s in split_multi(t) if s.strip()]
    except ImportError:
        pass
    try:
        from syntok import segmenter

        found["syntok"] = lambda t: ["".join(tok.spacing + tok.value for tok in s).strip()
                                     for p in segmenter.process(t) for s in p]
    except ImportError:
        pass
    return found


def corpora(shared: Path) -> dict[str, list[str]]:
    """Texts per corpus: the bundled sample's pages always, BBC News and Reuters where present."""
    texts = {"sample": [p.read_text(encoding="utf-8", errors="replace")
                        for p in sorted((REPO / "data" / "sample").rglob("*.txt"))]}
    bbc = shared / "corpora" / "bbc-news" / "bbc_news.csv"
    if bbc.is_file():
        with bbc.open(encoding="utf-8", newline="") as f:
            texts["bbc"] = [r["text"] for r in csv.DictReader(f)]
    reuters = shared / "corpora" / "reuters21578" / "modapte_r90_train.jsonl"
    if reuters.is_file():
        rows = [json.loads(line) for line in reuters.read_text(encoding="utf-8").splitlines() if line.strip()]
        # the bodies wrap lines at ~70 characters; a blank line separates paragraphs
        texts["reuters"] = [re.sub(r"(?<!\n)\n(?!\n)", " ", r.get("body") or "") for r in rows if r.get("body")]
    return texts


def _time(split, texts: list[str], repeats: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        count = sum(len(split(t)) for t in texts)
        best = min(best, time.perf_counter() - start)
    return best, count


def main(argv=None) -> int:
    p = benchmark_parser(NAME, __doc__)
    p.add_argument("--repeats", type=int, default=3, help="timed passes per splitter and corpus (the best counts)")
    args = p.parse_args(argv)
    splitters = {"newstag": sentences, "regex_before": regex_before, **_libraries()}
    metrics: dict = {"libraries": ", ".join(f"{n} {metadata.version(n)}" for n in splitters
                                            if n not in ("newstag", "regex_before")) or "none importable"}
    for name, split in splitters.items():
        metrics[f"{name} cases right (of {len(CASES)})"] = sum(len(split(t)) == n for t, n in CASES)
    for corpus, texts in corpora(shared_dir(args.shared)).items():
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        metrics[f"{corpus} texts"] = len(texts)
        metrics[f"{corpus} MB"] = round(mb, 2)
        for name, split in splitters.items():
            repeats = 1 if name in ("pysbd", "segtok", "syntok") else args.repeats  # the slow ones once
            secs, count = _time(split, texts, repeats)
            metrics[f"{corpus} {name} MB/s"] = round(mb / secs, 2)
            metrics[f"{corpus} {name} sentences"] = count
        metrics[f"{corpus} boundaries the guard keeps"] = (metrics[f"{corpus} regex_before sentences"]
                                                           - metrics[f"{corpus} newstag sentences"])
    if args.no_record:
        print(json.dumps(metrics, indent=1))
        print("(--no-record: nothing written)")
    else:
        record(NAME, metrics)
        print(json.dumps(metrics, indent=1))
        print("recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
