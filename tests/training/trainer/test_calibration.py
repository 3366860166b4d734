"""Which validation articles the rules-and-model blend is fitted on, and the one error for an unknown mode."""

from __future__ import annotations

import numpy as np
import pytest

from inference.errors import NewstagError
from training.trainer.calibration import MIN_GOLD_FOR_BLEND, blend_rows

N = MIN_GOLD_FOR_BLEND


def _rows(gold: int, weak: int) -> list[dict]:
    return [{"gold": True}] * gold + [{"gold": False}] * weak


def test_auto_fits_on_the_gold_articles_when_there_are_enough():
    keep = blend_rows(_rows(N, 5), "auto", has_rules=True)
    assert keep.tolist() == [True] * N + [False] * 5


def test_auto_without_enough_gold_gives_no_blend():
    assert blend_rows(_rows(N - 1, 100), "auto", has_rules=True) is None


def test_all_fits_on_every_article_and_none_on_none():
    assert blend_rows(_rows(0, N), "all", has_rules=True).all()
    assert blend_rows(_rows(N, N), "none", has_rules=True) is None


def test_no_rules_gives_no_blend():
    assert blend_rows(_rows(N, 0), "gold", has_rules=False) is None


def test_unknown_mode_names_the_allowed_ones():
    with pytest.raises(NewstagError, match="rule_blend: 'sometimes' is not one of auto, gold, all, none"):
        blend_rows(_rows(N, 0), "sometimes", has_rules=True)
    assert isinstance(blend_rows(_rows(N, 0), "gold", has_rules=True), np.ndarray)
