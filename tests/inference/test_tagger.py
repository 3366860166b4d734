"""The ``Tagger`` API on a model folder trained with the tiny base model: predict, pipe, evidence, windows, loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inference import NewstagError, Tagger, TagResult, TopicTag
from inference.model import aggregate
from inference.modeling import NewstagModel
from inference.sentences import sentences
from inference.windows import encode_windows

ARTICLES = [
    ("Truce holds in Aden", "Both sides agreed to a 72-hour truce on Sunday, officials said. The truce held overnight."),
    ("Moscow talks", "Libya and Russia discussed military cooperation and joint exercises in Moscow. "
                     "The delegation met the defence minister on Tuesday."),
    (None, "Protesters marched in the capital to demand elections and an end to the travel ban."),
    ("Aid reaches Gharyan", "Aid convoys reached displaced families after shelling and clashes near the border. "
                            "The United Nations said more trucks would follow. Families had waited for weeks."),
    ("Short", "Talks resume."),
]
LONG = " ".join(f"Aid convoys reached displaced families in town number {i} after shelling near the border."
                for i in range(60))
PNG = b"\x89PNG\r\n\x1a\n"


def test_model_folder_needs_nothing_from_training(trained_model, tagger):
    # everything inference needs is in the folder: schema, labels, thresholds, windows
    assert tagger.schema.topic_names == tagger.topics
    assert tagger.max_length == 64 and tagger.stride == 16
    assert np.allclose(tagger.thresholds, [json.loads((trained_model / "tagger.json").read_text())["thresholds"][t]
                                           for t in tagger.topics])


def test_predict_one_string_gives_one_result(tagger):
    res = tagger.predict(ARTICLES[0][1])
    assert isinstance(res, TagResult)
    assert set(res.topic_scores) == set(tagger.topics)
    assert set(res.stance_probs) == set(tagger.stances)
    assert res.stance in tagger.stances
    assert res.stance_score == max(res.stance_probs.values())
    assert sum(res.stance_probs.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(isinstance(t, TopicTag) for t in res.topics)
    assert [t.score for t in res.topics] == sorted((t.score for t in res.topics), reverse=True)
    assert res.windows == 1
    json.dumps(res.to_dict())  # plain types only


def test_predict_accepts_title_text_pairs_and_dicts(tagger):
    a = tagger.predict(ARTICLES[1])
    b = tagger.predict({"title": ARTICLES[1][0], "text": ARTICLES[1][1]})
    assert isinstance(a, TagResult) and isinstance(b, TagResult)
    assert a.title == b.title == "Moscow talks"
    assert a.topic_scores == b.topic_scores
    with pytest.raises(NewstagError, match="'text' key"):
        tagger.predict({"title": "no text"})


def test_predict_list_gives_a_list_in_order(tagger):
    results = tagger.predict(ARTICLES)
    assert isinstance(results, list) and len(results) == len(ARTICLES)
    assert [r.title for r in results] == [t for t, _ in ARTICLES]
    assert tagger.predict([]) == []
    one = tagger.predict([ARTICLES[0][1]])
    assert isinstance(one, list) and len(one) == 1


def test_pipe_yields_in_input_order(tagger):
    items = ARTICLES * 3 + [("Long one", LONG)]
    piped = list(tagger.pipe(iter(items), batch_size=2, chunk_size=4))
    assert len(piped) == len(items)
    for item, got in zip(items, piped, strict=True):
        alone = tagger.predict(item)
        assert got.title == item[0]
        assert got.windows == alone.windows
        assert got.stance == alone.stance
        for t in tagger.topics:
            assert got.topic_scores[t] == pytest.approx(alone.topic_scores[t], abs=1e-5)
        for s in tagger.stances:
            assert got.stance_probs[s] == pytest.approx(alone.stance_probs[s], abs=1e-5)


def test_threshold_override_changes_topics(tagger):
    text = ARTICLES[3][1]
    everything = tagger.predict(text, thresholds={t: 0.0 for t in tagger.topics})
    nothing = tagger.predict(text, thresholds={t: 1.01 for t in tagger.topics})
    assert sorted(everything.topic_names) == sorted(tagger.topics)
    assert nothing.topics == ()
    only_one = tagger.predict(text, thresholds={t: (0.0 if t == "ceasefire" else 1.01) for t in tagger.topics})
    assert only_one.topic_names == ["ceasefire"]
    assert everything.topic_scores == nothing.topic_scores  # thresholds decide tags, not scores
    with pytest.raises(NewstagError, match="threshold for unknown topic 'weather'"):
        tagger.predict(text, thresholds={"weather": 0.5})


def test_evidence_is_a_sentence_of_the_input(tagger):
    for title, text in ARTICLES[:4] + [("Long one", LONG)]:
        res = tagger.predict((title, text), thresholds={t: 0.0 for t in tagger.topics})
        sents = sentences(text)
        assert res.topics
        for tag in res.topics:
            assert tag.evidence in sents, (tag.name, tag.evidence)
            assert tag.evidence in text
    quiet = tagger.predict(ARTICLES[0][1], thresholds={t: 0.0 for t in tagger.topics}, evidence=False)
    assert all(t.evidence == "" for t in quiet.topics)


def test_evidence_is_never_training_boilerplate(tagger):
    """The model folder carries the dataset's boilerplate sentences; the Tagger strips them before tagging."""
    pasted = ("Libya has struggled to find stability since a 2019 ceasefire between rival eastern and western forces "
              "collapsed within weeks, bringing fighting back to the southern edge of Tripoli.")
    assert tagger.boilerplate, "the sample dataset should yield boilerplate sentences"
    text = ARTICLES[3][1] + " " + pasted
    res = tagger.predict(("Aid reaches Gharyan", text), thresholds={t: 0.0 for t in tagger.topics})
    assert res.topics
    assert all(t.evidence and t.evidence != pasted and t.evidence in text for t in res.topics)
    assert res.topic_scores == tagger.predict(ARTICLES[3]).topic_scores


def test_a_long_title_does_not_break_tagging(tagger):
    # a title of many short tokens must leave room for the text's windows (titles are cut, not the run)
    title = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(90))
    res = tagger.predict((title, ARTICLES[0][1]))
    assert isinstance(res, TagResult)
    assert res.windows >= 1


def test_long_article_is_read_in_several_windows(tagger):
    res = tagger.predict(("Long one", LONG))
    win = encode_windows(tagger.tokenizer, ["Long one"], [LONG], tagger.max_length, tagger.stride)
    assert res.windows > 1
    assert res.windows == len(win.input_ids)


def test_tagger_logits_match_the_training_forward(tagger):
    """Inference and training aggregate windows alike: max for topic logits, mean for stance logits."""
    arts = [("Long one", LONG), ARTICLES[1], ARTICLES[3]]
    t_logits, s_logits, counts = tagger.logits(arts, batch_size=3)
    win = encode_windows(tagger.tokenizer, [a[0] for a in arts], [a[1] for a in arts], tagger.max_length,
                         tagger.stride)
    from inference.windows import pad_batch

    ids, mask = pad_batch(win.input_ids, tagger.tokenizer.pad_token_id)
    with torch.no_grad():
        out = tagger.model.eval()(ids, mask, window_article=torch.tensor(win.article), n_articles=len(arts))
    assert counts == [win.article.count(i) for i in range(len(arts))]
    assert np.allclose(t_logits, out["topic_logits"].numpy(), atol=1e-4)
    assert np.allclose(s_logits, out["stance_logits"].numpy(), atol=1e-4)


def test_aggregate_takes_max_topic_and_mean_stance():
    topic = torch.tensor([[1.0, -2.0], [3.0, -5.0], [0.0, 4.0]])
    stance = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [5.0, 5.0, 5.0]])
    t, s = aggregate(topic, stance, torch.tensor([0, 0, 1]), 2)
    assert t.tolist() == [[3.0, -2.0], [0.0, 4.0]]
    assert s.tolist() == [[2.0, 2.0, 2.0], [5.0, 5.0, 5.0]]


def test_save_pretrained_round_trips(tagger, tmp_path):
    tagger.save_pretrained(tmp_path / "copy")
    again = Tagger.from_pretrained(tmp_path / "copy", device="cpu")
    assert again.topics == tagger.topics and again.stances == tagger.stances
    assert np.allclose(again.thresholds, tagger.thresholds)
    a, b = tagger.predict(ARTICLES[3]), again.predict(ARTICLES[3])
    assert a.topic_names == b.topic_names and a.stance == b.stance
    for t in tagger.topics:
        assert a.topic_scores[t] == pytest.approx(b.topic_scores[t], abs=1e-5)


def test_tag_page_splits_and_tags_each_article(tagger, seeds_dir):
    page = (seeds_dir / "000_482d08ce8c9b0da1.txt").read_text(encoding="utf-8")
    results = tagger.tag_page(page)
    assert [r.title for r in results] == ["Libya Seeks Closer Military Partnership with Moscow",
                                          "EU & UN Condemn Ceasefire Violations in Libyan Capital",
                                          "Sudan Accuses the Libyan Army of Cross-Border Attack",
                                          "Gaza Aid Convoy Crosses into Libya from Tunisia"]
    assert tagger.tag_page("Comments\nRead more\n") == []


def test_from_pretrained_on_a_folder_that_is_not_a_model(tmp_path, sample_dataset):
    with pytest.raises(NewstagError, match="not a newstag model folder"):
        Tagger.from_pretrained(tmp_path)
    with pytest.raises(NewstagError, match="not a newstag model folder"):
        Tagger.from_pretrained(sample_dataset)
    with pytest.raises(NewstagError, match="not found"):
        Tagger.from_pretrained(tmp_path / "missing")


def test_from_pretrained_on_a_broken_tagger_json(tmp_path, trained_model):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained_model, broken)
    (broken / "tagger.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(NewstagError, match="tagger.json is not valid JSON"):
        Tagger.from_pretrained(broken)
    (broken / "tagger.json").write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(NewstagError, match="not a newstag tagger"):
        Tagger.from_pretrained(broken)


def test_tagger_model_forward_shapes():
    from transformers import BertConfig, BertModel

    enc = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=32, max_position_embeddings=32))
    model = NewstagModel.from_encoder(enc, [f"t{i}" for i in range(7)], ["a", "b", "c"]).eval()
    ids = torch.randint(5, 50, (5, 12))
    mask = torch.ones_like(ids)
    out = model(ids, mask)
    assert out["topic_logits"].shape == (5, 7) and out["stance_logits"].shape == (5, 3)
    out = model(ids, mask, window_article=torch.tensor([0, 0, 1, 2, 2]), n_articles=3)
    assert out["topic_logits"].shape == (3, 7) and out["stance_logits"].shape == (3, 3)


def test_tag_pages_strips_the_background_paragraph_the_outlet_pastes(tagger, seeds_dir, monkeypatch):
    from inference.boilerplate import BoilerplateCounter, story_group
    from inference.pages import split_articles
    from inference.sentences import sentence_key, sentences

    pages = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    arts = [(a.title, a.text) for page in pages for a in split_articles(page)]
    counter = BoilerplateCounter()
    for k, (title, text) in enumerate(arts):
        counter.add(text, story_group(title, k))
    keys = set().union(*(counter.boilerplate_in(text) for _, text in arts))
    assert len(keys) >= 6  # the seed outlet's background paragraph
    seen, real = [], Tagger.predict

    def predict(self, texts, **kwargs):
        seen.extend(texts)
        return real(self, texts, **kwargs)

    monkeypatch.setattr(Tagger, "predict", predict)
    results = tagger.tag_pages(pages, evidence=False)
    assert [len(r) for r in results] == [len(split_articles(p)) for p in pages]
    assert [t for t, _ in seen] == [t for t, _ in arts]
    assert not any(sentence_key(s) in keys for _, text in seen for s in sentences(text))
    assert sum(sentence_key(s) in keys for _, text in arts for s in sentences(text)) >= 6  # what was there


def test_pipe_learns_the_streams_boilerplate_when_asked(tagger, monkeypatch):
    pasted = ("The Coastal Herald is an independent outlet founded in 1998 in the port city. "
              "It is funded by its readers and by no government or party.")
    stories = [(f"Story {i}", f"Officials in town {i} opened a new bridge on Monday morning. {pasted}") for i in range(4)]
    seen, real = [], Tagger._tag_chunk

    def tag_chunk(self, arts, *args):
        seen.extend(arts)
        return real(self, arts, *args)

    monkeypatch.setattr(Tagger, "_tag_chunk", tag_chunk)
    plain = list(tagger.pipe(iter(stories), evidence=False))
    assert all("Coastal Herald" in text for _, text in seen)
    seen.clear()
    cleaned = list(tagger.pipe(iter(stories), evidence=False, boilerplate_sample=3))
    assert len(cleaned) == len(plain) == 4
    assert [t for t, _ in seen] == [t for t, _ in stories]
    assert not any("Coastal Herald" in text for _, text in seen)
    assert all("new bridge" in text for _, text in seen)
