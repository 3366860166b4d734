"""The embedding rule: a zero-shot vote from comparing sentences with each label's description.

Each sentence of an article and each topic description (and, if enabled, stance description) is
embedded with the base encoder (mean pooling, unit length); a label gets the rule's weight as a vote
when some sentence comes within ``min_similarity`` cosine of its description.
"""

from __future__ import annotations

import torch

from inference.model import default_base_model, load_encoder, mean_pool
from inference.schema import Schema
from inference.sentences import sentences


class EmbeddingRule:
    """Callable on (title, text): returns ``{label: score}`` to add to the rule votes."""

    def __init__(self, schema: Schema, batch_size: int = 64):
        from transformers import AutoTokenizer

        self.schema, self.batch_size = schema, batch_size
        rule = schema.embedding_rule
        name = rule.model or default_base_model()
        self.tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=False)
        self.model = load_encoder(name).eval()
        self.labels = [t for t in schema.topics] + ([s for s in schema.stances] if rule.stances else [])
        self.label_vecs = self._embed([f"{lab.name.replace('_', ' ')}: {lab.description}" for lab in self.labels])
        self.min_similarity, self.weight = rule.min_similarity, rule.weight

    @torch.inference_mode()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tokenizer(texts[i: i + self.batch_size], padding=True, truncation=True, max_length=128,
                                 return_tensors="pt")
            states = self.model(**enc).last_hidden_state
            vec = mean_pool(states, enc["attention_mask"])
            out.append(torch.nn.functional.normalize(vec, dim=-1))
        return torch.cat(out) if out else torch.zeros(0, self.model.config.hidden_size)

    def votes(self, title: str, text: str) -> dict[str, float]:
        sents = [title] + sentences(text)
        if not sents:
            return {}
        sims = self._embed(sents) @ self.label_vecs.T  # (sentences, labels)
        best = sims.max(0).values
        return {lab.name: self.weight for lab, s in zip(self.labels, best.tolist()) if s >= self.min_similarity}
