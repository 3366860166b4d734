"""Logits to scores: sigmoid for the topics (multi-label), softmax for the stance, with a temperature each."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def probabilities(topic_logits: np.ndarray, stance_logits: np.ndarray, topic_temperature: float = 1.0,
                  stance_temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated topic probabilities (articles x topics) and stance distributions (articles x stances)."""
    return sigmoid(topic_logits / topic_temperature), softmax(stance_logits / stance_temperature)
