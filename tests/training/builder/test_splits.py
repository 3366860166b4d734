"""Split assignment: fractions respected with pinned examples, rare labels reach train."""

from collections import Counter

from training.builder.splits import assign_splits


def test_pinned_test_split_leaves_train_and_validation_their_fractions():
    examples = [{"id": str(i), "labels": ["a" if i % 3 else "b"], "size": 1} for i in range(100)]
    fixed = {str(i): "test" for i in range(70, 100)}
    got = Counter(assign_splits(examples, (0.9, 0.1, 0.0), 0, fixed).values())
    assert got == {"train": 63, "validation": 7, "test": 30}


def test_a_label_seen_twice_puts_one_example_in_train():
    examples = [{"id": "r1", "labels": ["rare"]}, {"id": "r2", "labels": ["rare"]}] + [
        {"id": str(i), "labels": ["common"]} for i in range(40)]
    out = assign_splits(examples, (0.7, 0.15, 0.15), seed=1)
    assert "train" in {out["r1"], out["r2"]}
