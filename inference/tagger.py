"""``Tagger``: load a saved model folder and tag articles, fast, with calibrated scores and evidence.

Example:
    >>> from inference import Tagger
    >>> tagger = Tagger.from_pretrained("runs/demo/model")
    >>> tagger.predict("Truce talks resumed in Doha on Monday ...").topics
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import model_folder
from .blend import RuleBlend, RuleVotes, rule_votes
from .boilerplate import collection_texts, learn_from_stream, strip_boilerplate, strip_repeated
from .errors import NewstagError
from .model import deciding_windows
from .pages import split_articles
from .rules import LabelingFunction, labeling_functions
from .schema import Schema, schema_from_dict
from .scores import probabilities, sigmoid, softmax
from .sentences import sentences, unwrap
from .windows import encode_windows, pad_batch

if TYPE_CHECKING:
    from .modeling import NewstagModel


@dataclass(frozen=True)
class TopicTag:
    name: str
    score: float  # calibrated probability
    evidence: str  # the sentence that drove the model's score most
    rules: tuple[str, ...] = ()  # the labeling rules that voted for the topic, where rules and model are blended


@dataclass(frozen=True)
class TagResult:
    """The tags of one article. Plain types only."""

    topics: tuple[TopicTag, ...]
    topic_scores: dict[str, float]
    stance: str
    stance_score: float
    stance_probs: dict[str, float]
    windows: int
    model: str
    version: str
    title: str | None = None

    @property
    def topic_names(self) -> list[str]:
        return [t.name for t in self.topics]

    def to_dict(self) -> dict:
        return asdict(self)


def is_single(texts) -> bool:
    """Whether ``texts`` is one article (a string, ``{"title", "text"}`` or ``(title, text)``), not a list of them."""
    return isinstance(texts, (str, dict)) or (isinstance(texts, tuple) and len(texts) == 2
                                              and all(isinstance(x, (str, type(None))) for x in texts))


def _as_article(item) -> tuple[str | None, str]:
    if isinstance(item, str):
        return None, item
    if isinstance(item, dict):
        if "text" not in item:
            raise NewstagError("an article dict needs a 'text' key (and optionally 'title')")
        return item.get("title"), item["text"]
    if isinstance(item, tuple) and len(item) == 2:
        return item
    if hasattr(item, "text"):
        return getattr(item, "title", None), item.text
    raise NewstagError(f"cannot tag a {type(item).__name__}; pass a string, (title, text) or {{'title', 'text'}}")


class Tagger:
    """A trained topic and stance tagger: the network, its tokenizer and its manifest (``tagger.json``)."""

    def __init__(self, model: NewstagModel, tokenizer, config: dict, device: str | torch.device | None = None,
                 dtype: torch.dtype | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.schema: Schema = schema_from_dict(config["schema"], source="tagger.json", with_rules=False)
        self.topics: list[str] = list(config["topics"])
        self.stances: list[str] = list(config["stances"])
        self._read_calibration()
        self.max_length = int(config["max_length"])
        self.stride = int(config["stride"])
        self.boilerplate = set(config.get("boilerplate", []))
        self.name = config.get("model_name", "newstag")
        self.version = str(config.get("model_version", "0"))
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.dtype = dtype
        self.max_windows: int | None = None  # None: read every window of an article (set 1 to truncate)

    @functools.cached_property
    def rule_schema(self) -> Schema:
        """The schema with its labeling rules, validated on first use (tagging alone never needs them)."""
        return schema_from_dict(self.config["schema"], source="tagger.json")

    @functools.cached_property
    def labeling_functions(self) -> list[LabelingFunction]:
        return labeling_functions(self.rule_schema)

    def _read_calibration(self) -> None:
        self.blend = RuleBlend.from_manifest(self.config)
        self.thresholds = np.array([self.config.get("thresholds", {}).get(t, 0.5) for t in self.topics],
                                   dtype=np.float32)
        temp = self.config.get("temperature", {})
        self.topic_temperature = float(temp.get("topic", 1.0))
        self.stance_temperature = float(temp.get("stance", 1.0))

    # ---- loading and saving -------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None, half: bool | None = None,
                        quantize: str | None = None, backend: str | None = None) -> Tagger:
        """Load a model folder written by ``newstag-train`` (safetensors, no remote code); a folder of the layout
        before the "newstag" model type too (``save_pretrained`` then writes the new one).

        Args:
            path: the model folder.
            device: "cpu", "cuda", "cuda:1"...; default: CUDA when available.
            half: run in bf16/fp16; default: on GPU only.
            quantize: "int8" for dynamic int8 quantization of the linear layers (CPU only; faster,
                scores differ slightly: see benchmarks/RESULTS.md).
            backend: "torch", or "onnx" (onnxruntime on CPU; the folder written by ``newstag-export --onnx``);
                default: "onnx" for such a folder, else "torch".
        """
        if backend not in (None, "torch", "onnx"):
            raise NewstagError(f"unknown backend={backend!r}; use 'torch' or 'onnx'")
        from . import onnx_model

        if backend == "onnx" or (backend is None and onnx_model.is_exported(path)):
            return cls(*onnx_model.load(path, device, half, quantize))
        model, tokenizer, manifest, device, dtype = model_folder.load(path, device, half, quantize)
        return cls(model, tokenizer, manifest, device, dtype)

    def save_pretrained(self, path: str | Path, card: str | None = None, train_metrics: dict | None = None) -> None:
        """Write the model folder: weights (safetensors), ``config.json`` (the ``NewstagConfig``), tokenizer and
        ``tagger.json`` (and the model card and training metrics when given)."""
        model_folder.save(path, self.model, self.tokenizer, self.config, card=card, train_metrics=train_metrics)

    def set_calibration(self, temperature: dict[str, float], thresholds: dict[str, float], info: dict) -> None:
        """Take fitted temperatures (``{"topic", "stance"}``) and per-topic thresholds, in memory; the next
        ``save_pretrained`` writes them."""
        self.config["temperature"] = dict(temperature)
        self.config["thresholds"] = {t: float(thresholds[t]) for t in self.topics}
        self.config["calibration"] = info
        self._read_calibration()

    def set_blend(self, blend: RuleBlend | None) -> None:
        """Blend the labeling rules' votes with the model (fitted by the trainer), in memory; None: the model alone."""
        self.config.pop("blend", None)
        if blend is not None:
            self.config["blend"] = blend.to_manifest()
        self._read_calibration()

    # ---- tagging ------------------------------------------------------------------------------------------
    def predict(self, texts, thresholds: dict[str, float] | None = None, evidence: bool = True,
                batch_size: int = 32):
        """Tag one article (a string, ``(title, text)`` or ``{"title", "text"}``) or a list of them.

        Returns:
            One ``TagResult`` for one article, a list for a list.
        """
        single = is_single(texts)
        results = list(self.pipe([texts] if single else texts, batch_size=batch_size, thresholds=thresholds,
                                 evidence=evidence))
        return results[0] if single else results

    def pipe(self, items: Iterable, batch_size: int = 32, thresholds: dict[str, float] | None = None,
             evidence: bool = True, chunk_size: int | None = None, boilerplate_sample: int = 0) -> Iterator[TagResult]:
        """Tag a stream of articles, yielding results in input order with bounded memory.

        Windows of ``chunk_size`` articles (default ``16 * batch_size``) are sorted by length so each batch
        pads little; the results are put back in input order.

        Args:
            boilerplate_sample: learn the stream's own boilerplate (a paragraph pasted under many stories) from
                its first N articles and strip it, besides the model's, as ``newstag-tag`` does; 0: off.
        """
        limits = self.resolve_thresholds(thresholds)
        counter, it = learn_from_stream((_as_article(x) for x in items), boilerplate_sample)
        if counter is not None:
            it = ((title, strip_repeated(text, counter)) for title, text in it)
        chunk_size = chunk_size or 16 * batch_size
        while True:
            chunk = list(islice(it, chunk_size))
            if not chunk:
                return
            yield from self._tag_chunk(chunk, batch_size, limits, evidence)

    def tag_page(self, page: str, **kwargs) -> list[TagResult]:
        """Split a raw scraped page into its articles (as the builder does) and tag each one."""
        arts = split_articles(page)
        return self.predict([(a.title, strip_boilerplate(a.text, self.boilerplate)[0]) for a in arts], **kwargs) \
            if arts else []

    def tag_pages(self, pages: Iterable[str], min_articles: int = 3, **kwargs) -> list[list[TagResult]]:
        """Tag a collection of raw pages: split each into its articles, remove the boilerplate of the collection
        (a paragraph its outlet pastes under stories, found as the builder does: a run of two or more sentences
        repeated in ``min_articles`` or more different stories, removed unless it is most of an article)
        besides the model's, and tag every article.

        Returns:
            Per page, the results of its articles in page order.
        """
        per_page = [split_articles(p) for p in pages]
        arts = [(a.title, a.text) for page in per_page for a in page]
        cleaned = [(t, x) for (t, _), x in zip(arts, collection_texts(arts, min_articles), strict=True)]
        flat = iter(self.predict(cleaned, **kwargs) if cleaned else [])
        return [[next(flat) for _ in page] for page in per_page]

    def logits(self, items: Iterable, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Raw per-article topic and stance logits of the network (before temperature and blend) and window
        counts, for calibration."""
        arts = [_as_article(x) for x in items]
        topic, stance, counts, _, _ = self._forward(arts, batch_size, evidence=False)
        return topic, stance, counts

    def scores(self, items: Iterable, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The final per-article topic probabilities and stance distributions (what ``predict`` thresholds and
        reports) and window counts, for evaluation."""
        arts = [_as_article(x) for x in items]
        topic, stance, counts, texts, _ = self._forward(arts, batch_size, evidence=False)
        topic_p, stance_p, _ = self._probabilities(arts, texts, topic, stance)
        return topic_p, stance_p, counts

    def rule_votes(self, articles: list[tuple[str | None, str]]) -> RuleVotes:
        """The labeling rules' votes on ``(title, text)`` articles, after the model's boilerplate is stripped."""
        return self._votes(articles, self._clean(articles))

    def _clean(self, arts: list[tuple[str | None, str]]) -> list[str]:
        """The texts the network and the rules read: a hard-wrapped text rejoined into its paragraphs, without
        the model's boilerplate sentences."""
        texts = [unwrap(t) for _, t in arts]
        return [strip_boilerplate(t, self.boilerplate)[0] for t in texts] if self.boilerplate else texts

    def _votes(self, arts, texts: list[str]) -> RuleVotes:
        return rule_votes(self.rule_schema, self.labeling_functions, [(a[0], x) for a, x in zip(arts, texts)])

    def _probabilities(self, arts, texts, topic_logits, stance_logits):
        topic_p, stance_p = probabilities(topic_logits, stance_logits, self.topic_temperature,
                                          self.stance_temperature)
        if self.blend is None:
            return topic_p, stance_p, None
        votes = self._votes(arts, texts)
        topic_p = sigmoid(self.blend.topic_logits(topic_logits / self.topic_temperature, votes))
        stance_p = softmax(self.blend.stance_logits(stance_logits / self.stance_temperature, votes))
        return topic_p, stance_p, votes.voters

    def resolve_thresholds(self, override: dict[str, float] | None = None) -> np.ndarray:
        """The per-topic decision thresholds with ``override`` ({topic: p}) applied.

        Raises:
            NewstagError: for a topic the model does not know.
        """
        limits = self.thresholds.copy()
        for name, value in (override or {}).items():
            if name not in self.topics:
                raise NewstagError(f"threshold for unknown topic '{name}'; topics are {', '.join(self.topics)}")
            limits[self.topics.index(name)] = float(value)
        return limits

    # ---- internals ----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def _forward(self, arts: list[tuple[str | None, str]], batch_size: int, evidence: bool):
        texts = self._clean(arts)
        win = encode_windows(self.tokenizer, [a[0] for a in arts], texts, self.max_length, self.stride,
                             max_windows=self.max_windows, offsets=evidence)
        n, n_windows = len(arts), len(win.input_ids)
        window_topic = torch.empty((n_windows, len(self.topics)), dtype=torch.float32)
        window_stance = torch.empty((n_windows, len(self.stances)), dtype=torch.float32)
        token_scores: dict[int, np.ndarray] = {}
        order = sorted(range(n_windows), key=lambda w: len(win.input_ids[w]))
        pad = self.tokenizer.pad_token_id or 0
        for start in range(0, n_windows, batch_size):
            batch = order[start: start + batch_size]
            ids, mask = pad_batch([win.input_ids[w] for w in batch], pad, multiple_of=32)
            states, pooled = self.model.encode(ids.to(self.device), mask.to(self.device))
            t_logits, s_logits = self.model.heads(pooled)
            window_topic[batch] = t_logits.float().cpu()
            window_stance[batch] = s_logits.float().cpu()
            if evidence:  # the topic logit is linear in the mean of token states: token share = w . h_t
                per_token = (states @ self.model.topic_head.weight.T).float().cpu().numpy()
                for k, w in enumerate(batch):
                    token_scores[w] = per_token[k, : int(mask[k].sum())]
        owner = torch.tensor(win.article, dtype=torch.long)
        topic, stance = self.model.aggregate(window_topic, window_stance, owner, n)
        counts = torch.bincount(owner, minlength=n).tolist()
        ev = None
        if evidence:
            ev = (win, texts, deciding_windows(window_topic, topic, owner).numpy(), token_scores, {})
        return topic.numpy(), stance.numpy(), counts, texts, ev

    def _tag_chunk(self, arts, batch_size, limits, evidence) -> list[TagResult]:
        topic_logits, stance_logits, counts, texts, ev = self._forward(arts, batch_size, evidence)
        topic_p, stance_p, voters = self._probabilities(arts, texts, topic_logits, stance_logits)
        out = []
        for a, (title, _) in enumerate(arts):
            tags = []
            for j in np.argsort(-topic_p[a]):
                if topic_p[a, j] >= limits[j]:
                    text = _evidence(ev, a, j) if ev else ""
                    rules = voters[a].get(self.topics[j], ()) if voters else ()
                    tags.append(TopicTag(self.topics[j], round(float(topic_p[a, j]), 4), text, rules))
            s = int(stance_p[a].argmax())
            out.append(TagResult(
                topics=tuple(tags),
                topic_scores={t: round(float(topic_p[a, j]), 4) for j, t in enumerate(self.topics)},
                stance=self.stances[s], stance_score=round(float(stance_p[a, s]), 4),
                stance_probs={t: round(float(stance_p[a, j]), 4) for j, t in enumerate(self.stances)},
                windows=counts[a], model=self.name, version=self.version, title=title))
        return out


def _evidence(ev, article: int, topic: int) -> str:
    """The sentence of the deciding window whose tokens push the topic's logit up most (mean share)."""
    win, texts, best_window, token_scores, cache = ev
    w = int(best_window[article, topic])
    if w not in cache:
        cache[w] = _token_sentences(texts[article], win.offsets[w], win.spans[w])
    sents, owner = cache[w]
    if not sents:
        return ""
    scores = token_scores[w][:, topic][: len(owner)]
    inside = owner >= 0
    sums = np.bincount(owner[inside], weights=scores[inside], minlength=len(sents))
    counts = np.bincount(owner[inside], minlength=len(sents))
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    return sents[int(mean.argmax())] if np.isfinite(mean.max()) else ""


def _token_sentences(text: str, offs: list[tuple[int, int]], span: tuple[int, int]):
    """The sentences of ``text`` that overlap ``span``, and for each token the index of the sentence that
    wholly contains it (-1: title, special or padding tokens, or a token across a sentence border)."""
    lo, hi = span
    sents, starts, ends, pos = [], [], [], 0
    for sent in sentences(text):
        start = text.find(sent, pos)
        if start < 0:
            continue
        end = pos = start + len(sent)
        if end > lo and start < hi:
            sents.append(sent)
            starts.append(start)
            ends.append(end)
    tok = np.asarray(offs, dtype=np.int64).reshape(-1, 2)
    if not sents or not len(tok):
        return sents, np.full(len(tok), -1, dtype=np.int64)
    idx = np.searchsorted(np.asarray(starts), tok[:, 0], side="right") - 1
    ok = (idx >= 0) & (tok[:, 1] > tok[:, 0])
    ok &= tok[:, 1] <= np.asarray(ends)[np.clip(idx, 0, None)]
    return sents, np.where(ok, idx, -1)
