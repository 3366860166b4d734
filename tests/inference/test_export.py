"""newstag-export --onnx: one graph with dynamic axes, parity with PyTorch (or no folder), the onnxruntime Tagger."""

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the onnx extra (pip install 'newstag[onnx]') is absent")
pytest.importorskip("onnx", reason="the onnx extra (pip install 'newstag[onnx]') is absent")

from inference import Tagger  # noqa: E402
from inference.export import main  # noqa: E402
from inference.onnx_model import ONNX_FILE, OUTPUTS, OnnxTaggerModel  # noqa: E402

ARTICLES = [
    ("Truce holds", "Both sides agreed to a 72-hour truce on Sunday, officials said."),
    (None, "Protesters marched in the capital to demand elections and an end to the travel ban."),
    ("Aid arrives", " ".join(["Aid convoys reached displaced families after shelling and clashes near the border."] * 12)),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, trained_model):
    out = tmp_path_factory.mktemp("onnx") / "model-onnx"
    assert main([str(trained_model), "-o", str(out), "--onnx"]) == 0
    return out


def test_the_folder_records_the_export_and_its_parity(exported, trained_model):
    cfg = json.loads((exported / "tagger.json").read_text())
    record = cfg["onnx"]
    assert record["file"] == ONNX_FILE and record["int8"] is False
    parity = record["parity"]
    assert parity["ok"] and parity["identical_topic_sets"] == parity["identical_stance"] == 1.0
    assert parity["max_abs_score_diff"] <= parity["tolerance"] == 1e-3
    assert (exported / "README.md").read_text() == (trained_model / "README.md").read_text()  # the card comes along


def test_graph_has_dynamic_batch_and_sequence_axes(exported):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(exported / ONNX_FILE), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input_ids", "attention_mask"]
    assert [o.name for o in sess.get_outputs()] == list(OUTPUTS)
    for batch, length in ((1, 7), (5, 64)):
        ids = np.full((batch, length), 10, dtype=np.int64)
        topic, stance, states = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        assert topic.shape[0] == stance.shape[0] == batch and states.shape[:2] == (batch, length)


def test_from_pretrained_runs_onnxruntime_with_the_same_tags_and_evidence(exported, trained_model):
    onnx_tagger = Tagger.from_pretrained(exported)
    assert isinstance(onnx_tagger.model, OnnxTaggerModel)
    torch_tagger = Tagger.from_pretrained(trained_model, device="cpu")
    for a, b in zip(onnx_tagger.predict(ARTICLES), torch_tagger.predict(ARTICLES)):
        assert a.topic_names == b.topic_names and a.stance == b.stance and a.windows == b.windows
        assert [t.evidence for t in a.topics] == [t.evidence for t in b.topics]
        assert max(abs(a.topic_scores[t] - b.topic_scores[t]) for t in a.topic_scores) <= 1e-3
    assert onnx_tagger.predict(ARTICLES[2]).windows > 1  # the long one needs several windows
    back = Tagger.from_pretrained(exported, device="cpu", backend="torch")  # the same folder on PyTorch
    assert not isinstance(back.model, OnnxTaggerModel)


def test_tagging_an_exported_folder_keeps_its_outputs_apart(exported, trained_model, tmp_path):
    from inference.model_folder import model_id
    from inference.tag import main as tag_main

    assert model_id(exported) != model_id(trained_model)
    out = tmp_path / "tags.jsonl"
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": str(i), "title": t or "", "text": x}) + "\n"
                            for i, (t, x) in enumerate(ARTICLES)))
    assert tag_main([str(feed), "--model", str(exported), "-o", str(out)]) == 0
    assert [json.loads(x)["model_id"] for x in out.read_text().splitlines()] == [model_id(exported)] * 3


def test_a_mismatch_refuses_to_save(trained_model, tmp_path, capsys):
    out = tmp_path / "refused"
    assert main([str(trained_model), "-o", str(out), "--onnx", "--int8", "--tolerance", "0"]) == 2
    err = capsys.readouterr().err
    assert "newstag-export: error: the ONNX graph disagrees with PyTorch" in err and "nothing was saved" in err
    assert not out.exists()


def test_int8_export_quantizes_the_encoder_only(trained_model, tmp_path, monkeypatch):
    import onnx

    import inference.export as export_module

    # the tiny random model's scores sit near its thresholds, so int8 may flip a tag on the sample: this test
    # is about the graph's structure, so the parity verdict is accepted whatever it is (the refusal is tested above)
    real_parity = export_module.parity
    monkeypatch.setattr(export_module, "parity", lambda *a, **k: {**real_parity(*a, **k), "ok": True})
    out = tmp_path / "int8"
    assert main([str(trained_model), "-o", str(out), "--onnx", "--int8", "--tolerance", "1"]) == 0
    ops = {n.op_type for n in onnx.load(str(out / ONNX_FILE)).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops
    tagger = Tagger.from_pretrained(out)
    assert tagger.model.topic_head.weight.dtype.is_floating_point  # the heads stay fp32, evidence reads them
    assert tagger.predict(ARTICLES[0]).stance in tagger.stances


def test_bad_uses(exported, trained_model, tmp_path, capsys):
    assert main([str(trained_model), "-o", str(exported), "--onnx"]) == 2
    assert "exists and is not empty; pass --overwrite" in capsys.readouterr().err
    assert main([str(exported), "-o", str(tmp_path / "again"), "--onnx"]) == 2
    assert "is itself an export" in capsys.readouterr().err
    from inference import NewstagError

    with pytest.raises(NewstagError, match="precision is set at export"):
        Tagger.from_pretrained(exported, half=True)
    with pytest.raises(NewstagError, match="holds no model.onnx"):
        Tagger.from_pretrained(trained_model, backend="onnx")
    with pytest.raises(NewstagError, match="unknown backend"):
        Tagger.from_pretrained(trained_model, backend="tvm")


def test_the_heads_are_found_by_the_graphs_structure_whatever_their_names(tagger, tmp_path):
    """onnxruntime's int8 quantizer renames (1.32: ``..._Transposed``) and transposes the heads' weights."""
    import copy

    import onnx

    from inference.onnx_model import export_graph, head_weights

    want = {f"{h}.{p}": getattr(getattr(tagger.model, h), p).detach().numpy()
            for h in ("topic_head", "stance_head") for p in ("weight", "bias")}
    for int8 in (False, True):
        graph = tmp_path / f"int8-{int8}.onnx"
        export_graph(copy.deepcopy(tagger.model), graph, int8=int8)
        proto = onnx.load(str(graph))
        renamed = {}
        for k, init in enumerate(proto.graph.initializer):
            if "head" in init.name:
                renamed[init.name], init.name = f"w{k}", f"w{k}"
        for node in proto.graph.node:
            node.input[:] = [renamed.get(i, i) for i in node.input]
        assert renamed, "the exported graph names no head weight"
        onnx.save(proto, str(graph))
        got = head_weights(graph)
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert got[key].shape == value.shape and np.allclose(got[key], value), (int8, key)
