"""``NewstagConfig``: the tagger as a ``transformers`` config (``model_type`` "newstag").

It is the ``config.json`` of a model folder: the encoder's own config nested as ``encoder_config`` (any model
type ``AutoConfig`` knows), the topic and stance names in head order, and the dropout before the heads. Without
``import inference``, transformers does not know the model type and refuses the folder instead of loading the
encoder alone with random heads.
"""

from __future__ import annotations

from transformers.configuration_utils import PreTrainedConfig, SubConfigSpec
from transformers.models.auto.configuration_auto import AutoConfig


class NewstagConfig(PreTrainedConfig):
    """The tagger network's config.

    Args:
        encoder_config: the encoder's config (a config object, or its dict with ``model_type``).
        topics: topic names, one per output of the topic head.
        stances: stance names, one per output of the stance head.
        head_dropout: dropout on the pooled vector before the heads (training only).

    Example:
        >>> NewstagConfig(encoder_config=BertConfig(hidden_size=32), topics=["ceasefire"], stances=["neutral"])
    """

    model_type = "newstag"
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: dict | PreTrainedConfig | None = None
    topics: list[str] | None = None
    stances: list[str] | None = None
    head_dropout: float = 0.1

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.topics = list(self.topics or [])
        self.stances = list(self.stances or [])


AutoConfig.register(NewstagConfig.model_type, NewstagConfig, exist_ok=True)
