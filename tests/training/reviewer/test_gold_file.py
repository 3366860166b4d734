"""The review's gold file: the builder reads it, one line per article, crash and concurrency safety."""

import json
import multiprocessing
import threading

import pytest
from conftest import LABELS

from inference.schema import load_schema
from training.builder.gold import read_gold
from training.reviewer.gold_file import AlreadyDecided, GoldFile


def rec(i, topics=("ceasefire",), stance="neutral"):
    return {"id": f"a{i}", "title": f"Title {i}", "topics": list(topics), "stance": stance, "annotator": "t"}


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_decisions_are_lines_the_builder_reads(tmp_path):
    path = tmp_path / "gold.jsonl"
    gold = GoldFile(path)
    gold.add(rec(1))
    gold.add(rec(2, ("protest", "travel_ban"), "critical"))
    read = read_gold(path, load_schema(LABELS))
    assert len(read) == 2
    assert read.by_id["a2"].topics == ("travel_ban", "protest") and read.by_id["a2"].stance == "critical"
    assert list(GoldFile(path).decisions()) == ["a1", "a2"]


def test_a_second_decision_is_refused_unless_it_replaces_and_the_file_keeps_one_line_per_article(tmp_path):
    path = tmp_path / "gold.jsonl"
    gold = GoldFile(path)
    gold.add(rec(1))
    gold.add(rec(2))
    with pytest.raises(AlreadyDecided) as err:
        gold.add(rec(1, (), "critical"))
    assert err.value.record["topics"] == ["ceasefire"]
    gold.add(rec(1, (), "critical"), replace=True)
    assert [(r["id"], r["topics"], r["stance"]) for r in lines(path)] == [("a1", [], "critical"),
                                                                         ("a2", ["ceasefire"], "neutral")]
    assert not path.with_name(f".{path.name}.tmp").exists()


def test_a_line_cut_short_by_a_crash_is_removed_and_a_whole_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(rec(1)) + "\n" + '{"id": "a2", "topi', encoding="utf-8")
    gold = GoldFile(path)
    assert gold.repaired == len('{"id": "a2", "topi') and list(gold.decisions()) == ["a1"]
    gold.add(rec(2))
    assert [r["id"] for r in lines(path)] == ["a1", "a2"]
    path.write_text(json.dumps(rec(3)), encoding="utf-8")  # written by hand, no newline
    gold = GoldFile(path)
    assert gold.repaired == 0
    gold.add(rec(4))
    assert [r["id"] for r in lines(path)] == ["a3", "a4"]


def test_another_writer_s_decisions_are_seen_and_not_duplicated(tmp_path):
    path = tmp_path / "gold.jsonl"
    one, two = GoldFile(path), GoldFile(path)
    one.add(rec(1))
    with pytest.raises(AlreadyDecided):
        two.add(rec(1))
    assert list(two.decisions()) == ["a1"] and len(lines(path)) == 1


def test_threads_racing_on_one_article_write_it_once(tmp_path):
    path = tmp_path / "gold.jsonl"
    gold = GoldFile(path)
    won, refused = [], []
    barrier = threading.Barrier(8)

    def submit(k):
        barrier.wait()
        try:
            gold.add(rec(1, stance=["neutral", "critical"][k % 2]))
            won.append(k)
        except AlreadyDecided:
            refused.append(k)

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == 7 and len(lines(path)) == 1


def _race(path, start, out):
    gold = GoldFile(path)
    ok = 0
    for i in range(start, start + 40):
        gold.add(rec(i))
        try:
            gold.add(rec(1000 + i % 5))  # both processes try these five
            ok += 1
        except AlreadyDecided:
            pass
    out.put(ok)


def test_two_processes_appending_at_once_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / "gold.jsonl"
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(path, s, out)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    ids = [r["id"] for r in lines(path)]
    assert len(ids) == len(set(ids)) == 85  # 2 x 40 own articles and the five shared ones once
    assert out.get() + out.get() == 5
