"""Cut articles into overlapping token windows (title repeated in each), the same way for training and tagging."""

from __future__ import annotations

from dataclasses import dataclass

import torch

MAX_TITLE_CHARS = 200


@dataclass
class Windows:
    """Token windows of a list of articles, in article order."""

    input_ids: list[list[int]]
    article: list[int]  # article index of each window
    spans: list[tuple[int, int]]  # character span of the window in its article's text
    offsets: list[list[tuple[int, int]]] | None = None  # per token, into the text; (0, 0) for title/special


def encode_windows(tokenizer, titles: list[str | None], texts: list[str], max_length: int, stride: int,
                   max_windows: int | None = None, offsets: bool = False) -> Windows:
    """Tokenize articles as (title, text) pairs cut into windows of ``max_length`` tokens overlapping by ``stride``.

    Args:
        max_windows: keep at most this many windows per article (training may cap; tagging reads all).
        offsets: also return each token's character span in the text (for evidence).
    """
    titles = _short_titles(tokenizer, [(t or "")[:MAX_TITLE_CHARS] for t in titles], max_length // 4)
    # the text part of a window must be longer than the overlap, whatever the title took
    stride = max(0, min(stride, (max_length - max_length // 4 - 3) // 2))
    enc = tokenizer(titles, texts, truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding=False)
    ids, art, spans, offs, seen = [], [], [], [], {}
    for w, a in enumerate(enc["overflow_to_sample_mapping"]):
        if max_windows is not None:
            seen[a] = seen.get(a, 0) + 1
            if seen[a] > max_windows:
                continue
        seq = enc.sequence_ids(w)
        token_offsets = [tuple(o) if s == 1 else (0, 0) for o, s in zip(enc["offset_mapping"][w], seq)]
        text_tokens = [o for o, s in zip(token_offsets, seq) if s == 1]
        spans.append((text_tokens[0][0], text_tokens[-1][1]) if text_tokens else (0, 0))
        ids.append(enc["input_ids"][w])
        art.append(a)
        if offsets:
            offs.append(token_offsets)
    return Windows(ids, art, spans, offs if offsets else None)


def _short_titles(tokenizer, titles: list[str], max_tokens: int) -> list[str]:
    """Cut titles to at most ``max_tokens`` tokens so every window keeps room for text."""
    enc = tokenizer(titles, add_special_tokens=False, return_offsets_mapping=True)
    return [t if len(offs) <= max_tokens else t[: offs[max_tokens - 1][1]]
            for t, offs in zip(titles, enc["offset_mapping"])]


def pad_batch(sequences: list[list[int]], pad_id: int, multiple_of: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest sequence in the batch (dynamic padding), rounded up to ``multiple_of``
    (fewer distinct shapes: CPU bf16 kernels are built per shape)."""
    longest = max(len(s) for s in sequences)
    longest = -(-longest // multiple_of) * multiple_of
    ids = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask
