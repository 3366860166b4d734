"""The ONNX graph of a tagger and the onnxruntime backend that runs it behind the ``Tagger``.

The graph holds the encoder, the mean pool and both heads. Inputs ``input_ids`` and ``attention_mask`` (int64,
batch and sequence axes dynamic); outputs per window ``topic_logits``, ``stance_logits`` and ``token_states`` (the
encoder's last hidden states, which the evidence sentences need). ``newstag-export --onnx`` writes it as
``model.onnx`` into a copy of the model folder; ``Tagger.from_pretrained`` on such a folder runs it (CPU).

Needs the ``onnx`` extra: ``pip install 'newstag[onnx]'`` (onnx, onnxruntime).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import model_folder
from .errors import NewstagError
from .model import aggregate

ONNX_FILE = "model.onnx"
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("topic_logits", "stance_logits", "token_states")
OPSET = 17
HEADS = ("topic_head", "stance_head")
HEAD_OUTPUTS = ("topic_logits", "stance_logits")  # the graph output of each head


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise NewstagError(f"ONNX needs the package {module}; pip install 'newstag[onnx]'") from None


def is_exported(path: str | Path) -> bool:
    """Whether a model folder holds an ONNX graph written by ``newstag-export --onnx``."""
    return (Path(path) / ONNX_FILE).is_file()


class _Graph(nn.Module):
    """What is exported: the tagger's own ``encode`` and ``heads``, per window."""

    def __init__(self, tagger_model: nn.Module):
        super().__init__()
        self.tagger = tagger_model

    def forward(self, input_ids, attention_mask):
        states, pooled = self.tagger.encode(input_ids, attention_mask)
        topic, stance = self.tagger.heads(pooled)
        return topic, stance, states


def export_graph(model: nn.Module, path: str | Path, int8: bool = False) -> dict:
    """Export a tagger network (fp32, CPU, eval mode; it is changed: use a copy you can drop) to one ONNX file.

    The TorchScript exporter with eager attention is used because onnxruntime's transformer optimizer recognises
    its BERT graph and fuses embeddings, attention, GELU and layer norms (the dynamo exporter's graph is left
    unfused, about 15% slower on CPU). With ``int8`` the encoder's matrix products are quantized dynamically
    (weights int8, activations per batch); the two heads stay fp32, as in ``Tagger(quantize="int8")``.

    Returns:
        What was done: exporter, opset, fused operators, int8.
    """
    _require("onnx")
    _require("onnxruntime")
    import onnx

    path = Path(path)
    encoder = model.encoder
    if hasattr(encoder, "set_attn_implementation"):
        encoder.set_attn_implementation("eager")
    else:
        encoder.config._attn_implementation = "eager"
    graph = _Graph(model.eval().float().cpu())
    vocab = int(getattr(encoder.config, "vocab_size", 1000))
    ids = torch.randint(5, max(6, vocab), (2, 48), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 30:] = 0
    info: dict = {"exporter": "torchscript", "opset": OPSET, "int8": bool(int8)}
    with tempfile.TemporaryDirectory(prefix="newstag_onnx_") as tmp:
        raw = Path(tmp) / "raw.onnx"
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(graph, (ids, mask), str(raw), input_names=list(INPUTS), output_names=list(OUTPUTS),
                              opset_version=OPSET, dynamo=False, do_constant_folding=True,
                              dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                            "attention_mask": {0: "batch", 1: "sequence"},
                                            "topic_logits": {0: "batch"}, "stance_logits": {0: "batch"},
                                            "token_states": {0: "batch", 1: "sequence"}})
        current = raw
        info["fused"] = _fuse(raw, Path(tmp) / "fused.onnx", encoder.config)
        if info["fused"]:
            current = Path(tmp) / "fused.onnx"
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            proto = onnx.load(str(current))
            heads = [n.name for n in proto.graph.node if set(n.output) & set(HEAD_OUTPUTS)]  # the two Gemms
            heads += [f"{name}_MatMul" for name in heads]  # the quantizer turns a Gemm into MatMul + Add first
            quantized = Path(tmp) / "int8.onnx"
            with warnings.catch_warnings(), _quiet_root_logger():
                warnings.simplefilter("ignore")
                quantize_dynamic(str(current), str(quantized), weight_type=QuantType.QInt8, nodes_to_exclude=heads,
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            current = quantized
        proto = onnx.load(str(current))
        onnx.save(proto, str(path))  # one file: the weights inside, no external data beside it
    return info


@contextlib.contextmanager
def _quiet_root_logger():
    """onnxruntime's quantizer logs advice to the root logger; a command's output is no place for it."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _fuse(src: Path, dst: Path, config) -> dict:
    """onnxruntime's BERT fusions, where the encoder is a BERT; {} (nothing fused) otherwise."""
    if getattr(config, "model_type", None) != "bert":
        return {}
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = optimize_model(str(src), model_type="bert", num_heads=int(config.num_attention_heads),
                             hidden_size=int(config.hidden_size))
    opt.save_model_to_file(str(dst))
    return {k: v for k, v in opt.get_fused_operator_statistics().items() if v}


class OnnxTaggerModel(nn.Module):
    """The exported graph behind the methods the ``Tagger`` calls on its network (``encode``, ``heads``,
    ``aggregate``, ``topic_head.weight`` for evidence).

    ``encode`` runs the whole graph once per batch; ``heads`` of the pooled vectors ``encode`` just returned gives
    the graph's own head logits, and computes the heads (same weights) for any other input.
    """

    def __init__(self, session, heads: dict[str, np.ndarray]):
        super().__init__()
        self.session = session
        for name in HEADS:
            weight, bias = heads[f"{name}.weight"], heads[f"{name}.bias"]
            layer = nn.Linear(weight.shape[1], weight.shape[0])
            layer.weight.data = torch.tensor(np.asarray(weight, dtype=np.float32))
            layer.bias.data = torch.tensor(np.asarray(bias, dtype=np.float32))
            setattr(self, name, layer.requires_grad_(False))
        self._last: tuple | None = None

    def encode(self, input_ids, attention_mask) -> tuple[torch.Tensor, torch.Tensor]:
        feed = {"input_ids": np.ascontiguousarray(input_ids.cpu().numpy(), dtype=np.int64),
                "attention_mask": np.ascontiguousarray(attention_mask.cpu().numpy(), dtype=np.int64)}
        topic, stance, states = (torch.from_numpy(x) for x in self.session.run(list(OUTPUTS), feed))
        mask = attention_mask.cpu().unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        self._last = (pooled, topic, stance)
        return states, pooled

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._last is not None and pooled is self._last[0]:
            return self._last[1], self._last[2]
        return self.topic_head(pooled), self.stance_head(pooled)

    aggregate = staticmethod(aggregate)

    def forward(self, input_ids, attention_mask, **_):
        topic, stance = self.heads(self.encode(input_ids, attention_mask)[1])
        return {"topic_logits": topic, "stance_logits": stance}


def session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session of ``model.onnx`` (``threads``: intra-op threads, default torch's)."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def head_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The heads' weights (``(outputs, hidden)``, as ``nn.Linear`` holds them) and biases, as stored in the graph
    (fp32 in int8 graphs too).

    Found by the graph's structure, not by initializer names (onnxruntime's quantizer renames them, 1.32 to
    ``..._Transposed``): each logits output is a ``Gemm`` of the pooled vector, or the ``Add`` of a bias to a
    ``MatMul`` (the quantizer splits a ``Gemm`` so).
    """
    onnx = _require("onnx")
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    found = {}
    for head, output in zip(HEADS, HEAD_OUTPUTS):
        try:
            weight, bias = _linear_of(graph, output, numpy_helper)
        except (KeyError, ValueError):
            raise NewstagError(f"{path} holds no tagger head behind its output {output!r}; export it again with "
                               "newstag-export --onnx") from None
        found[f"{head}.weight"], found[f"{head}.bias"] = weight, bias
    return found


def _linear_of(graph, output: str, numpy_helper) -> tuple[np.ndarray, np.ndarray]:
    """The constant weight ``(out, in)`` and bias of the linear layer whose result is ``output``."""
    producer = {o: n for n in graph.node for o in n.output}
    consts = {i.name: i for i in graph.initializer}

    def const(name: str) -> np.ndarray:
        return np.asarray(numpy_helper.to_array(consts[name]), dtype=np.float32)

    node = producer[output]
    if node.op_type == "Gemm":
        attrs = {a.name: a.i for a in node.attribute}
        if attrs.get("transA", 0):
            raise ValueError("a Gemm over the transposed input is no head")
        weight = const(node.input[1])
        return (weight if attrs.get("transB", 0) else weight.T), const(node.input[2])
    if node.op_type == "Add":
        for first, second in (node.input, reversed(node.input)):
            if second in consts and producer.get(first) is not None and producer[first].op_type == "MatMul":
                return const(producer[first].input[1]).T, const(second)
    raise ValueError(f"{output} comes from a {node.op_type}, not a linear layer")


def load(path: str | Path, device: str | None = None, half: bool | None = None, quantize: str | None = None):
    """The onnxruntime network, tokenizer and manifest of an exported folder, as ``model_folder.load`` returns
    them for torch: ``(model, tokenizer, manifest, device, dtype)``."""
    from transformers import AutoTokenizer

    if device not in (None, "cpu") and str(device) != "cpu":
        raise NewstagError(f"the ONNX backend runs on CPU; pass device='cpu' (got {device!r}) or backend='torch'")
    if half or quantize:
        raise NewstagError("half/quantize do not apply to an ONNX graph; its precision is set at export "
                           "(newstag-export --onnx --int8), or load with backend='torch'")
    path = Path(path)
    manifest = model_folder.read_manifest(path)
    if not is_exported(path):
        raise NewstagError(f"{path} holds no {ONNX_FILE}; write one with newstag-export {path} -o DIR --onnx")
    graph = path / ONNX_FILE
    model = OnnxTaggerModel(session(graph), head_weights(graph))
    tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    return model, tokenizer, manifest, torch.device("cpu"), None
