"""``NewstagModel``: the tagger network as a ``transformers`` model, one encoder and two linear heads.

The model owns its computation, for training and tagging alike: ``encode`` (token states and their mean),
``heads``, ``aggregate`` (an article's windows to one article: topics max, stance mean) and ``loss`` (the
multi-task loss the ``Trainer`` and the linear probe both minimise). Its weights are named ``encoder.*``,
``topic_head.*`` and ``stance_head.*``; ``save_pretrained``/``from_pretrained`` and ``AutoModel`` (after
``import inference``) read and write them as safetensors.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_utils import PreTrainedModel
from transformers.models.auto.modeling_auto import AutoModel

from .configuration import NewstagConfig
from .model import aggregate, mean_pool, task_losses


class NewstagModel(PreTrainedModel):
    """Encoder + a topic head and a stance head over mean-pooled token states.

    Args:
        config: the ``NewstagConfig`` (encoder config, label names, head dropout).
        encoder: an encoder already built (pretrained weights); default: a new one from ``config.encoder_config``.

    Example:
        >>> model = NewstagModel.from_encoder(AutoModel.from_pretrained(base), topics, stances)
    """

    config_class = NewstagConfig
    main_input_name = "input_ids"
    # the encoder resolves its own attention (sdpa where it has it); these let a caller ask for the others
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True

    def __init__(self, config: NewstagConfig, encoder: nn.Module | None = None):
        super().__init__(config)
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config.encoder_config)
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None  # BERT's [CLS] pooler: the heads read mean-pooled states; no unused weights
        if self.encoder.config._attn_implementation is None:
            # A NewstagConfig built around an existing encoder's config resets that config's attention to None,
            # which transformers runs as eager attention without a word: give the encoder back its own default.
            self.encoder.config._attn_implementation_internal = \
                self.encoder._check_and_adjust_attn_implementation(None, is_init_check=True)
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.head_dropout)
        self.topic_head = nn.Linear(hidden, len(config.topics))
        self.stance_head = nn.Linear(hidden, len(config.stances))
        for head in (self.topic_head, self.stance_head):
            if head.weight.device.type != "meta":  # built for real: torch's own init, as the heads always had
                head._is_hf_initialized = True
        self.post_init()

    @classmethod
    def from_encoder(cls, encoder: nn.Module, topics: list[str], stances: list[str],
                     head_dropout: float = 0.1) -> NewstagModel:
        """New heads on a (pretrained) encoder: what training starts from."""
        config = NewstagConfig(encoder_config=encoder.config, topics=list(topics), stances=list(stances),
                               head_dropout=head_dropout,
                               attn_implementation=encoder.config._attn_implementation)
        return cls(config, encoder=encoder)

    def _init_weights(self, module):
        if module is self.topic_head or module is self.stance_head:
            module.reset_parameters()  # heads missing from a checkpoint: torch's default, as in a new model
        else:
            super()._init_weights(module)

    def encode(self, input_ids, attention_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states of each window and their mean over the real tokens (what the heads read)."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return states, mean_pool(states, attention_mask)

    def pool(self, input_ids, attention_mask) -> torch.Tensor:
        """The mean-pooled window vectors alone (the linear probe's features)."""
        return self.encode(input_ids, attention_mask)[1]

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Topic and stance logits of pooled window vectors."""
        pooled = self.dropout(pooled)
        return self.topic_head(pooled), self.stance_head(pooled)

    aggregate = staticmethod(aggregate)

    def forward(self, input_ids, attention_mask=None, window_article=None, n_articles=None, token_type_ids=None,
                **_):
        """Returns ``{"topic_logits", "stance_logits"}``, per article when ``window_article`` maps windows to articles."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        topic, stance = self.heads(self.pool(input_ids, attention_mask))
        if window_article is not None:
            topic, stance = aggregate(topic, stance, window_article, int(n_articles if n_articles is not None
                                                                          else window_article.max() + 1))
        return {"topic_logits": topic, "stance_logits": stance}

    def loss(self, out: dict, topic_y, stance_y, sample_weight, pos_weight=None, stance_weight=None,
             loss_weights: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
        """The multi-task loss of ``forward``'s output: weighted topic BCE plus weighted stance cross-entropy."""
        topic, stance = task_losses(out["topic_logits"], out["stance_logits"], topic_y, stance_y, sample_weight,
                                    pos_weight, stance_weight)
        return loss_weights[0] * topic + loss_weights[1] * stance


AutoModel.register(NewstagConfig, NewstagModel, exist_ok=True)
