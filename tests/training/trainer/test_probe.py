"""The linear-probe start of the heads (training/probe.py)."""

from __future__ import annotations

import json

import pytest
import torch

from inference.model import load_encoder
from inference.modeling import NewstagModel
from training.trainer.probe import (
    L2_PATH,
    ProbeSettings,
    first_window_features,
    fit_linear_heads,
    head_loss,
    probe_init,
    raw_heads,
)


def _synthetic(n: int, seed: int):
    """Features on an awkward scale and offset; 3 topics and 3 stances that are linear in them."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g) * torch.tensor([5.0, 0.1, 1, 1, 30, 1, 1, 0.01]) + 7.0
    z = (x - 7.0) / torch.tensor([5.0, 0.1, 1, 1, 30, 1, 1, 0.01])
    topics = torch.stack([z[:, 0] > 0, z[:, 1] + z[:, 2] > 0.5, z[:, 4] < -0.8], 1).float()
    stance = torch.stack([z[:, 3], z[:, 5], z[:, 7]], 1).argmax(1)
    return x, topics, stance


def test_fit_learns_linear_labels_and_the_fold_is_exact():
    x, topics, stance = _synthetic(400, 0)
    fit = fit_linear_heads(x, topics, stance, 3, torch.ones(len(x)), None, None, l2=1e-4)
    # the fold is exact algebra; in float64, since float32 loses ~1e-3 to cancellation in the folded bias (~7e3
    # for the near-separable stance, whose feature of scale 0.01 gets a weight ~1e3)
    fit64, x64 = {k: v.double() for k, v in fit.items()}, x.double()
    raw64 = raw_heads(fit64)
    z = (x64 - fit64["mean"]) / fit64["std"]
    for head in ("topic", "stance"):
        assert torch.allclose(x64 @ raw64[f"{head}_weight"].T + raw64[f"{head}_bias"],
                              z @ fit64[f"{head}_weight"].T + fit64[f"{head}_bias"], atol=1e-8)
    raw = raw_heads(fit)
    xt, tt, st = _synthetic(400, 1)  # held out
    assert ((xt @ raw["topic_weight"].T + raw["topic_bias"] >= 0).float() == tt).float().mean() > 0.95
    assert ((xt @ raw["stance_weight"].T + raw["stance_bias"]).argmax(1) == st).float().mean() > 0.9


def test_a_stronger_penalty_gives_smaller_weights():
    x, topics, stance = _synthetic(200, 2)
    norms = [fit_linear_heads(x, topics, stance, 3, torch.ones(len(x)), None, None, l2=l2)["topic_weight"].norm()
             for l2 in (1.0, 1e-2, 1e-4)]
    assert norms[0] < norms[1] < norms[2]


def test_sample_weight_zero_ignores_an_article():
    x, topics, stance = _synthetic(200, 3)
    flipped = topics.clone()
    flipped[:20] = 1 - flipped[:20]  # 20 wrong labels, weighted out
    w = torch.ones(len(x))
    w[:20] = 0
    a = raw_heads(fit_linear_heads(x[20:], topics[20:], stance[20:], 3, torch.ones(180), None, None, 1e-2))
    b = raw_heads(fit_linear_heads(x, flipped, stance, 3, w, None, None, 1e-2))
    # the same problem up to the standardisation statistics (b takes them over all rows): same predictions
    pa = (x @ a["topic_weight"].T + a["topic_bias"] >= 0)
    pb = (x @ b["topic_weight"].T + b["topic_bias"] >= 0)
    assert (pa == pb).float().mean() > 0.97


def _splits(tiny_base, n_train: int, n_val: int):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    words = [("truce", 0), ("talks", 1), ("drills", 2)]

    def split(n, offset):
        rows = {"windows": [], "topic_labels": [], "stance_labels": [], "sample_weight": []}
        for i in range(n):
            word, k = words[(i + offset) % 3]
            rows["windows"].append([[*tok(f"the {word} held {word} on sunday")["input_ids"]]])
            rows["topic_labels"].append([float(k == j) for j in range(3)])
            rows["stance_labels"].append(k % 2)
            rows["sample_weight"].append(1.0)
        return rows

    return split(n_train, 0), split(n_val, 1)


def _model(tiny_base):
    torch.manual_seed(0)
    return NewstagModel.from_encoder(load_encoder(str(tiny_base)), ["a", "b", "c"], ["x", "y"])


def test_probe_init_keeps_for_each_head_the_penalty_with_the_lowest_validation_loss(tiny_base):
    train, val = _splits(tiny_base, 30, 12)
    model = _model(tiny_base)
    info = probe_init(model, train, val, ProbeSettings(batch_size=8, l2=1.0))
    assert set(info["l2"].values()) <= set(L2_PATH) and info["articles"] == 30
    xv = first_window_features(model, [w[0] for w in val["windows"]], 0, 8, torch.device("cpu"), False)
    tv = torch.tensor(val["topic_labels"])
    sv, wv = torch.tensor(val["stance_labels"]), torch.ones(len(tv))
    with torch.no_grad():
        kept = {"topic_weight": model.topic_head.weight, "topic_bias": model.topic_head.bias,
                "stance_weight": model.stance_head.weight, "stance_bias": model.stance_head.bias}
        kept_losses = [float(v) for v in head_loss(kept, xv, tv, sv, wv, None, None)]
    assert kept_losses == pytest.approx([info["validation_loss"]["topic"], info["validation_loss"]["stance"]],
                                        abs=1e-3)
    x = first_window_features(model, [w[0] for w in train["windows"]], 0, 8, torch.device("cpu"), False)
    y, s = torch.tensor(train["topic_labels"]), torch.tensor(train["stance_labels"])
    for l2 in L2_PATH:  # no other penalty of the path does better on validation, for either head
        other = raw_heads(fit_linear_heads(x, y, s, 2, torch.ones(len(y)), None, None, l2))
        topic_loss, stance_loss = (float(v) for v in head_loss(other, xv, tv, sv, wv, None, None))
        assert topic_loss >= kept_losses[0] - 1e-3 and stance_loss >= kept_losses[1] - 1e-3
    # the words decide the topic and the stance: the probe separates them
    assert info["validation_topic_micro_f1"] == 1.0 and info["validation_stance_accuracy"] == 1.0


def test_probe_init_without_validation_uses_the_configured_penalty(tiny_base):
    train, _ = _splits(tiny_base, 30, 0)
    info = probe_init(_model(tiny_base), train, None, ProbeSettings(batch_size=8, l2=0.05))
    assert info["l2"] == {"topic": 0.05, "stance": 0.05} and "validation_loss" not in info


def test_probe_init_fits_on_a_seeded_sample_of_at_most_max_articles(tiny_base, capsys):
    train, val = _splits(tiny_base, 30, 12)
    info = probe_init(_model(tiny_base), train, val, ProbeSettings(batch_size=8, l2=1.0, max_articles=10, seed=3))
    assert info["articles"] == 10 and info["of_articles"] == 30
    assert "fitted on 10 articles (a random sample of 30)" in capsys.readouterr().err
    again = probe_init(_model(tiny_base), train, val, ProbeSettings(batch_size=8, l2=1.0, max_articles=10, seed=3))
    assert again["validation_loss"] == info["validation_loss"]  # the seed fixes the sample
    whole = probe_init(_model(tiny_base), train, val, ProbeSettings(batch_size=8, l2=1.0, max_articles=30))
    assert whole["articles"] == 30 and "of_articles" not in whole


def test_probe_init_starts_only_the_heads_asked_for(tiny_base):
    train, val = _splits(tiny_base, 30, 12)
    model, both = _model(tiny_base), _model(tiny_base)
    random_stance = model.stance_head.weight.detach().clone()
    info = probe_init(model, train, val, ProbeSettings(batch_size=8, l2=1.0, probed=("topic",)))
    probe_init(both, train, val, ProbeSettings(batch_size=8, l2=1.0))
    assert info["heads"] == ["topic"]
    assert torch.equal(model.stance_head.weight, random_stance)  # left as initialised
    assert torch.allclose(model.topic_head.weight, both.topic_head.weight)  # the same fit as with both heads
    assert not torch.allclose(both.stance_head.weight, random_stance)


def test_training_records_the_probe(trained_model):
    probe = json.loads((trained_model / "train_metrics.json").read_text())["linear_probe"]
    assert set(probe["l2"].values()) <= set(L2_PATH) and probe["articles"] > 0 and probe["seconds"] >= 0
    card = (trained_model / "README.md").read_text()
    assert f"linear probe on the frozen encoder ({probe['articles']} articles" in card
    assert probe["heads"] == ["topic"] and "the stance head started random" in card  # the default, probe_topics


def test_unknown_head_init_is_one_error_line(sample_dataset, tmp_path, capsys):
    from training.train import main

    assert main(["--data", str(sample_dataset), "-o", str(tmp_path / "m"), "--head_init", "zeros"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["newstag-train: error: head_init: 'zeros' is not one of probe, probe_topics, random"]
