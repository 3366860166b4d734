"""The "newstag" task of ``transformers.pipeline``: the ``Tagger`` behind transformers' pipeline API.

Example:
    >>> import inference  # registers the model type and the task
    >>> from transformers import pipeline
    >>> tag = pipeline("newstag", model="runs/demo/model")
    >>> tag("Both sides agreed to a 72-hour truce on Sunday ...")["topics"]

A result is ``TagResult.to_dict()``, exactly what ``Tagger.from_pretrained(FOLDER).predict`` gives: the
thresholds, temperatures and rule blend of the folder's ``tagger.json`` apply.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers.models.auto.modeling_auto import AutoModel
from transformers.pipelines import PIPELINE_REGISTRY, Pipeline

from . import model_folder
from .errors import NewstagError
from .modeling import NewstagModel
from .tagger import Tagger, is_single

TASK = "newstag"


class NewstagPipeline(Pipeline):
    """Tags articles (a string, ``(title, text)``, ``{"title", "text"}``, or a list of them).

    Call arguments: ``thresholds`` ({topic: p} overrides), ``evidence`` (default True), ``batch_size``
    (windows per forward pass, default 32). A list is tagged in batches by ``Tagger.pipe``.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, model, tokenizer=None, **kwargs):
        folder = Path(str(getattr(model, "name_or_path", "") or ""))
        if not isinstance(model, NewstagModel):
            raise NewstagError(
                f"pipeline('{TASK}') needs a newstag model folder; {folder or type(model).__name__} holds a "
                f"{type(model).__name__} (a folder written before newstag's own model type: convert it with "
                "Tagger.from_pretrained(OLD).save_pretrained(NEW))")
        super().__init__(model=model, tokenizer=tokenizer, **kwargs)
        if not (folder / model_folder.TAGGER_FILE).is_file():
            raise NewstagError(f"pipeline('{TASK}') reads {model_folder.TAGGER_FILE} beside the weights; pass "
                               "model=FOLDER (the folder written by newstag-train), not a model object")
        manifest = model_folder.read_manifest(folder)
        model_folder.check_labels(self.model.config, manifest, folder)
        dtype = self.model.dtype if self.model.dtype != torch.float32 else None
        self.tagger = Tagger(self.model, self.tokenizer, manifest, device=self.device, dtype=dtype)

    def _sanitize_parameters(self, thresholds=None, evidence=None, **kwargs):
        forward = {k: v for k, v in (("thresholds", thresholds), ("evidence", evidence)) if v is not None}
        if kwargs:
            raise TypeError(f"pipeline('{TASK}') got unknown arguments {', '.join(sorted(kwargs))}; "
                            "it takes thresholds, evidence and batch_size")
        return {}, forward, {}

    def __call__(self, inputs, thresholds: dict[str, float] | None = None, evidence: bool = True,
                 batch_size: int | None = None, **kwargs):
        """One article gives one result dict; a list gives a list; any other iterable, a generator of them."""
        if is_single(inputs):
            return super().__call__(inputs, thresholds=thresholds, evidence=evidence, **kwargs)
        self._sanitize_parameters(**kwargs)
        results = (r.to_dict() for r in self.tagger.pipe(inputs, batch_size=batch_size or 32,
                                                        thresholds=thresholds, evidence=evidence))
        return list(results) if isinstance(inputs, list) else results

    def preprocess(self, article):
        return article

    def _forward(self, article, thresholds=None, evidence=True):
        return self.tagger.predict(article, thresholds=thresholds, evidence=evidence)

    def postprocess(self, result):
        return result.to_dict()


if PIPELINE_REGISTRY.supported_tasks.get(TASK, {}).get("impl") is not NewstagPipeline:
    PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=NewstagPipeline, pt_model=AutoModel, type="text")
