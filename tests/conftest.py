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
    """The tiny base fine-tuned for one epoch on the sample dataset (``newstag-train`` in-process), with the blend
    fitted on its hand labels (``rule_blend: gold``: the fitted path; ``test_probe_only`` trains rules_first)."""
    from training.train import main

    out = tmp_path_factory.mktemp("model") / "model"
    rc = main(["--data", str(sample_dataset), "-o", str(out), "--base_model", str(tiny_base), "--epochs", "1",
               "--max_length", "64", "--stride", "16", "--batch_size", "16", "--bf16", "false", "--rule_blend", "gold"])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def tagger(trained_model):
    from inference import Tagger

    return Tagger.from_pretrained(trained_model, device="cpu")


# Invented articles for the review page's tests: a few topics each, one carrying markup a scraped page could hold.
SCRIPT_TITLE = "Council <script>window.__pwned = 1</script> vote"
REVIEW_ARTICLES = [
    ("r01", "Truce agreed in the north after weeks of clashes",
     "Government forces and rebels agreed to a 72-hour truce on Sunday, mediators said. The ceasefire followed "
     "weeks of clashes and shelling near the border. Aid convoys reached displaced families on Monday."),
    ("r02", "Defence ministers sign training pact",
     "The defence ministers of the two countries signed a military cooperation agreement in Moscow on Tuesday. "
     "Joint exercises and officer training will begin next year, officials said."),
    ("r03", "Thousands march to demand early elections",
     "Protesters marched through the capital on Saturday to demand early elections. Police said the protest was "
     "peaceful and the opposition called a second rally for next week."),
    ("r04", "Entry ban on former officials",
     "The government imposed a travel ban on six former officials on Wednesday, barring them from entering the "
     "country. Their visas were revoked, the interior ministry said."),
    ("r05", "Airstrike hits market, dozens killed",
     "An airstrike hit a crowded market on Thursday, killing dozens of people, witnesses said. Fighting between "
     "the army and insurgents has intensified across the province."),
    ("r06", "Flood relief reaches villages",
     "Aid agencies delivered food and tents to villages cut off by floods. The humanitarian convoy reached "
     "thousands of displaced families, the relief coordinator said."),
    ("r07", "Parliament passes budget after long debate",
     "Parliament passed the budget late on Friday after a long debate. The opposition said it would challenge "
     "the vote, and the election commission set a date for local polls."),
    ("r08", "Local bakery wins national bread prize",
     "A small bakery in the old town won the national bread prize on Sunday. The owners said they would keep "
     "their prices as they are."),
    ("r09", SCRIPT_TITLE,
     "The council met on Monday. <img src=x onerror=\"window.__pwned = 2\"> A resident pasted "
     "<script>window.__pwned = 3</script> into the comment box, the clerk said. The vote was delayed."),
    ("r10", "Rebels and army trade fire across the river",
     "Rebels and soldiers traded fire across the river overnight, and both sides said the other broke the "
     "ceasefire. Shelling resumed at dawn, residents said."),
]


@pytest.fixture(scope="session")
def review_dataset(tmp_path_factory) -> Path:
    """The invented review articles built without gold: every article is unlabeled."""
    import json

    tmp = tmp_path_factory.mktemp("review")
    src = tmp / "articles.jsonl"
    src.write_text("".join(json.dumps({"id": i, "title": t, "text": x}) + "\n" for i, t, x in REVIEW_ARTICLES),
                   encoding="utf-8")
    out = tmp / "dataset"
    assert run_build(out, "--no-plots", inputs=[str(src)]) == 0
    return out
