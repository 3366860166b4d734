"""``Tagger``: load a saved model folder and tag articles, fast, with calibrated scores and evidence.

Example:
    >>> from inference import Tagger
    >>> tagger = Tagger.from_pretrained("runs/demo/model")
    >>> tagger.predict("Truce talks resumed in Doha on Monday ...").topics
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from .boilerplate import collection_texts
from .errors import NewstagError
from .model import TAGGER_FILE, WEIGHTS_FILE, TaggerModel, load_encoder, read_tagger_config
from .pages import sentences, split_articles, strip_boilerplate
from .schema import Schema, schema_from_dict
from .windows import encode_windows, pad_batch


@dataclass(frozen=True)
class TopicTag:
    name: str
    score: float  # calibrated probability
    evidence: str  # the sentence that drove the score most


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
    """A trained topic and stance tagger."""

    def __init__(self, model: TaggerModel, tokenizer, config: dict, device: str | torch.device = "cpu",
                 dtype: torch.dtype | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.schema: Schema = schema_from_dict(config["schema"], source="tagger.json")
        self.topics: list[str] = list(config["topics"])
        self.stances: list[str] = list(config["stances"])
        self.thresholds = np.array([config.get("thresholds", {}).get(t, 0.5) for t in self.topics], dtype=np.float32)
        temp = config.get("temperature", {})
        self.topic_temperature = float(temp.get("topic", 1.0))
        self.stance_temperature = float(temp.get("stance", 1.0))
        self.max_length = int(config["max_length"])
        self.stride = int(config["stride"])
        self.boilerplate = set(config.get("boilerplate", []))
        self.name = config.get("model_name", "newstag")
        self.version = str(config.get("model_version", "0"))
        self.device = torch.device(device)
        self.dtype = dtype
        self.max_windows: int | None = None  # None: read every window of an article (set 1 to truncate)

    # ---- loading and saving -------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None, half: bool | None = None,
                        quantize: str | None = None) -> Tagger:
        """Load a model folder written by ``newstag-train`` (safetensors, no remote code).

        Args:
            path: the model folder.
            device: "cpu", "cuda", "cuda:1"...; default: CUDA when available.
            half: run in bf16/fp16; default: on GPU only.
            quantize: "int8" for dynamic int8 quantization of the linear layers (CPU only; faster,
                scores differ slightly: see benchmarks/RESULTS.md).
        """
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        cfg = read_tagger_config(path)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        encoder = load_encoder(str(path), config_only=True)
        model = TaggerModel(encoder, len(cfg["topics"]), len(cfg["stances"]))
        state = {k: v for k, v in load_file(str(Path(path) / WEIGHTS_FILE)).items()
                 if not k.startswith("encoder.pooler.")}  # folders saved before the pooler was dropped
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise NewstagError(f"{path}/{WEIGHTS_FILE} does not match its tagger.json "
                               f"(missing {missing[:2]}, unexpected {unexpected[:2]}); re-save the model")
        tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
        if quantize not in (None, "int8"):
            raise NewstagError(f"unknown quantize={quantize!r}; use 'int8' or leave it out")
        if quantize == "int8":
            if str(device).startswith("cuda"):
                raise NewstagError("int8 quantization runs on CPU only; pass device='cpu' or leave quantize out")
            with warnings.catch_warnings():  # torch marks its quantized tensor types for a later move to torchao
                warnings.simplefilter("ignore", UserWarning)
                # the encoder's linear layers only: the two small heads stay fp32, their logits are the scores
                model.encoder = torch.ao.quantization.quantize_dynamic(model.encoder.eval(), {torch.nn.Linear},
                                                                       dtype=torch.qint8)
            return cls(model, tokenizer, cfg, "cpu", None)
        dtype = None
        if half if half is not None else str(device).startswith("cuda"):
            dtype = torch.bfloat16 if (not str(device).startswith("cuda") or torch.cuda.is_bf16_supported()) \
                else torch.float16
            model = model.to(dtype)
        return cls(model.to(device), tokenizer, cfg, device, dtype)

    def save_pretrained(self, path: str | Path) -> None:
        """Write the model folder: weights (safetensors), encoder config, tokenizer and ``tagger.json``."""
        save_model_folder(path, self.model, self.tokenizer, self.config)

    # ---- tagging ------------------------------------------------------------------------------------------
    def predict(self, texts, thresholds: dict[str, float] | None = None, evidence: bool = True,
                batch_size: int = 32):
        """Tag one article (a string, ``(title, text)`` or ``{"title", "text"}``) or a list of them.

        Returns:
            One ``TagResult`` for one article, a list for a list.
        """
        single = isinstance(texts, (str, dict)) or (isinstance(texts, tuple) and len(texts) == 2
                                                    and all(isinstance(x, (str, type(None))) for x in texts))
        results = list(self.pipe([texts] if single else texts, batch_size=batch_size, thresholds=thresholds,
                                 evidence=evidence))
        return results[0] if single else results

    def pipe(self, items: Iterable, batch_size: int = 32, thresholds: dict[str, float] | None = None,
             evidence: bool = True, chunk_size: int | None = None) -> Iterator[TagResult]:
        """Tag a stream of articles, yielding results in input order with bounded memory.

        Windows of ``chunk_size`` articles (default ``16 * batch_size``) are sorted by length so each batch
        pads little; the results are put back in input order.
        """
        limits = self._thresholds(thresholds)
        it = iter(items)
        chunk_size = chunk_size or 16 * batch_size
        while True:
            chunk = [_as_article(x) for x in islice(it, chunk_size)]
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
        """Raw per-article topic and stance logits (before temperature) and window counts, for evaluation."""
        arts = [_as_article(x) for x in items]
        topic, stance, counts, _ = self._forward(arts, batch_size, evidence=False)
        return topic, stance, counts

    # ---- internals ----------------------------------------------------------------------------------------
    def _thresholds(self, override: dict[str, float] | None) -> np.ndarray:
        limits = self.thresholds.copy()
        for name, value in (override or {}).items():
            if name not in self.topics:
                raise NewstagError(f"threshold for unknown topic '{name}'; topics are {', '.join(self.topics)}")
            limits[self.topics.index(name)] = float(value)
        return limits

    @torch.inference_mode()
    def _forward(self, arts: list[tuple[str | None, str]], batch_size: int, evidence: bool):
        texts = [strip_boilerplate(t, self.boilerplate)[0] if self.boilerplate else t for _, t in arts]
        win = encode_windows(self.tokenizer, [a[0] for a in arts], texts, self.max_length, self.stride,
                             max_windows=self.max_windows, offsets=evidence)
        n, n_topics = len(arts), len(self.topics)
        topic = np.full((n, n_topics), -np.inf, dtype=np.float32)
        best_window = np.zeros((n, n_topics), dtype=np.int64)
        stance = np.zeros((n, len(self.stances)), dtype=np.float32)
        counts = [0] * n
        token_scores: dict[int, np.ndarray] = {}
        order = sorted(range(len(win.input_ids)), key=lambda w: len(win.input_ids[w]))
        head_w = self.model.topic_head.weight
        if callable(head_w):  # a dynamically quantized linear layer keeps its weight behind a method
            head_w = head_w().dequantize()
        pad = self.tokenizer.pad_token_id or 0
        for start in range(0, len(order), batch_size):
            batch = order[start: start + batch_size]
            ids, mask = pad_batch([win.input_ids[w] for w in batch], pad, multiple_of=32)
            ids, mask = ids.to(self.device), mask.to(self.device)
            states = self.model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * m).sum(1) / m.sum(1).clamp(min=1.0)
            t_logits = self.model.topic_head(pooled).float().cpu().numpy()
            s_logits = self.model.stance_head(pooled).float().cpu().numpy()
            if evidence:  # the topic logit is linear in the mean of token states: token share = w . h_t
                per_token = (states @ head_w.T).float().cpu().numpy()
            for k, w in enumerate(batch):
                a = win.article[w]
                counts[a] += 1
                stance[a] += s_logits[k]
                better = t_logits[k] > topic[a]
                topic[a] = np.where(better, t_logits[k], topic[a])
                best_window[a] = np.where(better, w, best_window[a])
                if evidence:
                    token_scores[w] = per_token[k, : int(mask[k].sum())]
        stance /= np.maximum(np.array(counts, dtype=np.float32)[:, None], 1.0)
        ev = (win, texts, best_window, token_scores, {}) if evidence else None
        return topic, stance, counts, ev

    def _tag_chunk(self, arts, batch_size, limits, evidence) -> list[TagResult]:
        topic_logits, stance_logits, counts, ev = self._forward(arts, batch_size, evidence)
        topic_p = 1.0 / (1.0 + np.exp(-topic_logits / self.topic_temperature))
        z = stance_logits / self.stance_temperature
        z = np.exp(z - z.max(1, keepdims=True))
        stance_p = z / z.sum(1, keepdims=True)
        out = []
        for a, (title, _) in enumerate(arts):
            tags = []
            for j in np.argsort(-topic_p[a]):
                if topic_p[a, j] >= limits[j]:
                    text = _evidence(ev, a, j) if ev else ""
                    tags.append(TopicTag(self.topics[j], round(float(topic_p[a, j]), 4), text))
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


def save_model_folder(path: str | Path, model: TaggerModel, tokenizer, config: dict) -> None:
    """Write weights as safetensors, the encoder's config.json, the tokenizer and ``tagger.json``."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / WEIGHTS_FILE), metadata={"format": "pt"})
    model.encoder.config.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    (path / TAGGER_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
