"""The tagger as a transformers model: config, Auto classes, the "newstag" pipeline, old folders, attention."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from inference import NewstagError, Tagger
from inference.configuration import NewstagConfig
from inference.modeling import NewstagModel

ARTICLES = [
    "Both sides agreed to a 72-hour truce on Sunday, officials said. Talks resume on Monday.",
    ("Aid reaches the border", "Aid convoys reached displaced families after shelling and clashes near the border."),
    {"title": "Joint exercises", "text": "Libya and Russia discussed military cooperation in Moscow. " * 30},
]


def _run(code: str, repo_root) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(repo_root), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_the_model_folder_config_is_the_newstag_config(trained_model, tagger):
    cfg = json.loads((trained_model / "config.json").read_text())
    manifest = json.loads((trained_model / "tagger.json").read_text())
    assert cfg["model_type"] == "newstag" and cfg["architectures"] == ["NewstagModel"]
    assert cfg["encoder_config"]["model_type"] == "bert" and cfg["dtype"] == "float32"
    assert (cfg["topics"], cfg["stances"]) == (manifest["topics"], manifest["stances"])
    assert isinstance(tagger.model, NewstagModel)


def test_without_import_inference_transformers_refuses_the_folder(trained_model, repo_root):
    code = f"""
import sys
from transformers import AutoConfig, AutoModel, pipeline
for load in (lambda: AutoConfig.from_pretrained({str(trained_model)!r}),
             lambda: AutoModel.from_pretrained({str(trained_model)!r}),
             lambda: pipeline("text-classification", model={str(trained_model)!r})):
    try:
        load()
    except (ValueError, KeyError) as err:
        print("refused:", str(err).splitlines()[0])
    else:
        print("loaded")
print("inference imported:", "inference" in sys.modules)
"""
    out = _run(code, repo_root)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("refused:") and "newstag" in line for line in lines[:3]), lines
    assert lines[3] == "inference imported: False"


def test_import_inference_registers_without_importing_transformers_modeling(trained_model, repo_root):
    """Registration waits for transformers' own modules (import order either way); the builder stays light."""
    code = f"""
import sys
import inference
print("modeling loaded:", "transformers.modeling_utils" in sys.modules)
from transformers import AutoConfig, AutoModel, pipeline
print(type(AutoConfig.from_pretrained({str(trained_model)!r})).__name__)
print(type(AutoModel.from_pretrained({str(trained_model)!r})).__name__)
print(pipeline("newstag", model={str(trained_model)!r})("Both sides agreed to a truce.")["model"])
"""
    out = _run(code, repo_root)
    assert out.returncode == 0, out.stderr[-2000:]
    name = json.loads((trained_model / "tagger.json").read_text())["model_name"]
    assert out.stdout.strip().splitlines() == ["modeling loaded: False", "NewstagConfig", "NewstagModel", name]
    first = "from transformers import pipeline\nimport inference\n"
    out = _run(first + f"print(type(pipeline('newstag', model={str(trained_model)!r}).model).__name__)", repo_root)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "NewstagModel"


def test_pipeline_gives_exactly_the_taggers_tags_and_scores(trained_model, tagger):
    from transformers import pipeline

    tag = pipeline("newstag", model=str(trained_model), device="cpu")
    assert isinstance(tag.model, NewstagModel)
    want = [r.to_dict() for r in tagger.predict(ARTICLES)]
    assert tag(ARTICLES) == want
    assert [tag(a) for a in ARTICLES] == want
    low = {tagger.topics[0]: 0.0}
    assert tag(ARTICLES[0], thresholds=low, evidence=False) == \
        tagger.predict(ARTICLES[0], thresholds=low, evidence=False).to_dict()
    assert tagger.topics[0] in [t["name"] for t in tag(ARTICLES[0], thresholds=low)["topics"]]
    assert list(tag(iter(ARTICLES))) == want


def test_auto_model_and_from_pretrained_load_the_same_weights(trained_model, tagger, tmp_path):
    from transformers import AutoModel

    want = tagger.model.state_dict()
    for model in (AutoModel.from_pretrained(str(trained_model)), NewstagModel.from_pretrained(str(trained_model))):
        assert isinstance(model, NewstagModel)
        got = model.state_dict()
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)
    tagger.model.save_pretrained(str(tmp_path / "plain"))
    back = NewstagModel.from_pretrained(str(tmp_path / "plain"))
    assert all(torch.equal(back.state_dict()[k], want[k]) for k in want)
    assert back.config.topics == tagger.topics and back.config.stances == tagger.stances


def test_every_way_of_building_the_model_keeps_the_encoders_sdpa_attention(tiny_base, trained_model, tagger):
    """A nested encoder left with attention None runs eager attention silently; every path must give sdpa."""
    from transformers import AutoModel, pipeline

    from inference.model import load_encoder

    built = NewstagModel.from_encoder(load_encoder(str(tiny_base)), ["a", "b"], ["x", "y"])
    around = NewstagModel(NewstagConfig(encoder_config=load_encoder(str(tiny_base)).config, topics=["a"],
                                        stances=["x"]), encoder=load_encoder(str(tiny_base)))
    fresh = NewstagModel(NewstagConfig(encoder_config=json.loads((trained_model / "config.json").read_text())
                                       ["encoder_config"], topics=["a"], stances=["x"]))
    models = [built, around, fresh, tagger.model, AutoModel.from_pretrained(str(trained_model)),
              pipeline("newstag", model=str(trained_model)).model]
    for model in models:
        assert model.encoder.config._attn_implementation == "sdpa", type(model)
        assert model.config._attn_implementation == "sdpa"
    eager = NewstagModel.from_pretrained(str(trained_model), attn_implementation="eager")
    assert eager.encoder.config._attn_implementation == "eager"


def test_new_heads_start_from_torchs_default_init_and_the_encoder_keeps_its_weights(tiny_base):
    from inference.model import load_encoder

    encoder = load_encoder(str(tiny_base))
    before = {k: v.clone() for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
    torch.manual_seed(3)
    model = NewstagModel.from_encoder(encoder, ["a", "b", "c"], ["x", "y"])
    assert all(torch.equal(model.encoder.state_dict()[k], v) for k, v in before.items())
    torch.manual_seed(3)
    topic, stance = torch.nn.Linear(32, 3), torch.nn.Linear(32, 2)  # what the heads were before they were a PreTrainedModel's
    assert torch.equal(model.topic_head.weight, topic.weight) and torch.equal(model.stance_head.bias, stance.bias)


def _old_layout(trained_model, tmp_path):
    """The folder as newstag wrote it before its own model type: config.json is the encoder's, the BERT pooler
    in the weights."""
    old = tmp_path / "old"
    shutil.copytree(trained_model, old)
    encoder_config = json.loads((old / "config.json").read_text())["encoder_config"]
    (old / "config.json").write_text(json.dumps(encoder_config), encoding="utf-8")
    state = load_file(str(old / "model.safetensors"))
    hidden = encoder_config["hidden_size"]
    state["encoder.pooler.dense.weight"], state["encoder.pooler.dense.bias"] = torch.zeros(hidden, hidden), torch.zeros(hidden)
    save_file(state, str(old / "model.safetensors"), metadata={"format": "pt"})
    return old


def test_a_folder_of_the_old_layout_still_loads_and_saves_as_the_new_one(trained_model, tagger, tmp_path):
    from transformers import pipeline

    old = _old_layout(trained_model, tmp_path)
    again = Tagger.from_pretrained(old, device="cpu")
    assert [r.to_dict() for r in again.predict(ARTICLES)] == [r.to_dict() for r in tagger.predict(ARTICLES)]
    assert again.model.encoder.config._attn_implementation == "sdpa"
    with pytest.raises(NewstagError, match=r"convert it with Tagger.from_pretrained\(OLD\).save_pretrained\(NEW\)"):
        pipeline("newstag", model=str(old))
    again.save_pretrained(tmp_path / "new")
    assert json.loads((tmp_path / "new" / "config.json").read_text())["model_type"] == "newstag"
    assert str(tmp_path) not in (tmp_path / "new" / "config.json").read_text()  # no path of this machine
    assert pipeline("newstag", model=str(tmp_path / "new"))(ARTICLES) == [r.to_dict() for r in tagger.predict(ARTICLES)]


def test_weights_or_labels_that_do_not_match_are_one_clear_error(trained_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained_model, broken)
    state = load_file(str(broken / "model.safetensors"))
    del state["topic_head.weight"]
    save_file(state, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(NewstagError, match=r"model.safetensors does not match its config.json .*topic_head.weight"):
        Tagger.from_pretrained(broken)
    shutil.copyfile(trained_model / "model.safetensors", broken / "model.safetensors")
    cfg = json.loads((broken / "config.json").read_text())
    cfg["topics"] = list(reversed(cfg["topics"]))
    (broken / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(NewstagError, match="the topics of config.json are not those of tagger.json"):
        Tagger.from_pretrained(broken)
