"""Session fixtures: a tiny random BERT, the sample dataset and a model trained on it, all offline.

The tiny base model follows transformers' own model tests: a config of a few layers of width 32 and a
small WordPiece vocabulary, saved once per session, so training and tagging run in seconds on a CPU.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
LABELS = ROOT / "configs" / "labels.yaml"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Texts whose words always enter the tiny vocabulary, whatever the sample corpus holds.
VOCAB_TEXTS = [
    "Both sides agreed to a 72-hour truce on Sunday, officials said.",
    "Libya and Russia discussed military cooperation and joint exercises in Moscow.",
    "Protesters marched in the capital to demand elections and an end to the travel ban.",
    "Aid convoys reached displaced families after shelling and clashes near the border.",
]


def _words(text: str) -> list[str]:
    """What BertTokenizerFast's normalizer and pre-tokenizer make of the text: lowercased, accents gone."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.findall(r"[a-z0-9]+", text)


def build_vocab(texts) -> list[str]:
    """[PAD] [UNK] [CLS] [SEP] [MASK], single characters, '##' pieces, then the words of ``texts``."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = ["##" + c for c in string.ascii_lowercase + string.digits]
    counts = Counter(w for t in texts for w in _words(t))
    words = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
    return SPECIAL + chars + pieces + words


def _sample_texts() -> list[str]:
    texts = list(VOCAB_TEXTS)
    for f in sorted(SAMPLE.rglob("*")):
        if f.is_file() and f.suffix in {".txt", ".jsonl", ".csv", ".html"}:
            texts.append(f.read_bytes().decode("utf-8", "ignore"))
    return texts


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def labels_yaml() -> Path:
    return LABELS


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A random 2-layer BERT of width 32 with a WordPiece vocabulary of the sample corpus, saved as safetensors."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny_base")
    vocab = build_vocab(_sample_texts())
    vocab_file = tmp_path_factory.mktemp("tiny_vocab") / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)  # transformers 5 ignores vocab_file=
    assert tokenizer.vocab_size == len(vocab), "the tiny tokenizer lost its vocabulary"
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    assert (out / "model.safetensors").is_file()
    return out


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``$NEWSTAG_SHARED`` or ``../shared`` beside the project; tests that need it skip where it is absent."""
    path = Path(os.environ.get("NEWSTAG_SHARED") or ROOT.parent / "shared")
    if not path.is_dir():
        pytest.skip(f"shared folder {path} is absent (set NEWSTAG_SHARED to the folder holding seeds/ and corpora/)")
    return path


@pytest.fixture(scope="session")
def seeds_dir(shared_dir) -> Path:
    path = shared_dir / "seeds"
    if not (path / "labels.jsonl").is_file():
        pytest.skip(f"{path} holds no seed pages with labels.jsonl")
    return path


def run_build(out: Path, *extra: str, inputs: list[str] | None = None, gold: str | None = None) -> int:
    from training.build import main

    argv = [*(inputs or [str(SAMPLE)]), "-o", str(out), "--labels", str(LABELS)]
    if gold:
        argv += ["--gold", gold]
    return main(argv + list(extra))


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory) -> Path:
    """data/sample built with its gold labels (``newstag-build`` in-process)."""
    out = tmp_path_factory.mktemp("sample") / "dataset"
    rc = run_build(out, gold=str(SAMPLE / "labels.jsonl"))
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, sample_dataset, tiny_base) -> Path:
    """The tiny base fine-tuned for one epoch on the sample dataset (``newstag-train`` in-process)."""
    from training.train import main

    out = tmp_path_factory.mktemp("model") / "model"
    rc = main(["--data", str(sample_dataset), "-o", str(out), "--base_model", str(tiny_base), "--epochs", "1",
               "--max_length", "64", "--stride", "16", "--batch_size", "16", "--bf16", "false"])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def tagger(trained_model):
    from inference import Tagger

    return Tagger.from_pretrained(trained_model, device="cpu")
