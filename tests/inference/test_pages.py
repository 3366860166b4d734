"""Page cleaning and story splitting on the five seed pages, and the small helpers behind it."""

from __future__ import annotations

import json

import pytest

from inference.boilerplate import strip_boilerplate
from inference.pages import Article, is_furniture, split_articles, split_tags
from inference.sentences import sentence_key, sentences


def _expected(seeds_dir):
    rows = [json.loads(line) for line in (seeds_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    by_file: dict[str, list[str]] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r["title"])
    return rows, by_file


@pytest.fixture(scope="module")
def seed_articles(seeds_dir) -> dict[str, list[Article]]:
    pages = sorted(seeds_dir.glob("*.txt"))
    assert len(pages) == 5, f"expected the 5 seed pages in {seeds_dir}, found {len(pages)}"
    return {p.name: split_articles(p.read_text(encoding="utf-8")) for p in pages}


def test_seed_pages_split_into_the_labeled_titles_in_order(seeds_dir, seed_articles):
    rows, by_file = _expected(seeds_dir)
    assert len(rows) == 11
    assert sorted(by_file) == sorted(seed_articles)
    for name, arts in seed_articles.items():
        assert [a.title for a in arts] == by_file[name], name
    # and across the five pages, in file order, the 11 titles of labels.jsonl in their order
    assert [a.title for name in sorted(seed_articles) for a in seed_articles[name]] == [r["title"] for r in rows]


def test_seed_articles_have_text_positions_and_outlets(seed_articles):
    first = seed_articles["000_482d08ce8c9b0da1.txt"]
    assert [a.position for a in first] == [0, 1, 2, 3]
    assert [a.outlet for a in first] == [None, "Libya Review", "Libya Review", "Libya Review"]
    for arts in seed_articles.values():
        for a in arts:
            assert len(a.text) > 500, a.title  # a whole story, not a teaser
            assert a.title not in a.text.split("\n")


def test_no_furniture_line_left(seed_articles):
    for arts in seed_articles.values():
        for a in arts:
            assert not is_furniture(a.title), a.title
            left = [line for line in a.text.split("\n") if is_furniture(line)]
            assert left == [], (a.title, left)


@pytest.mark.parametrize("snippet", [
    "Try Our AI Features", "No comments yet", "Related Articles", "No time to read", "Get a summary",
    "2 hours ago", "- Libya Review", "Support The Moscow Times", "Remind me later", "paiment methods",
    "We are facing unprecedented challenges", "please support us monthly", "Sign up for our free weekly newsletter",
    "hand-picked selection", "Subscribers agree to the Privacy Policy", "Read more",
])
def test_furniture_snippets_absent_from_all_text(seed_articles, snippet):
    for arts in seed_articles.values():
        for a in arts:
            assert snippet not in a.text, (snippet, a.title)


def test_previous_and_next_article_teasers_are_not_text(seed_articles):
    teasers = ["Institute of National Remembrance Calls for Shared Responsibility in Teaching Nazi Crimes in Germany",
               "Voronezh and Elektrostal Incidents Highlight Street Violence and Public Safety"]
    arts = seed_articles["002_7523ba1ef989fd65.txt"]
    assert len(arts) == 1
    for teaser in teasers:
        assert teaser not in arts[0].text
        assert teaser not in arts[0].title
    assert "Previous Article" not in arts[0].text and "Next Article" not in arts[0].text
    assert arts[0].text.endswith("(Attribution: RIA News, with corroboration from official Libyan statements and Russian defense communications)")


def test_photo_caption_of_seed_003_is_not_text(seed_articles):
    (art,) = seed_articles["003_f5c72a7e82bc866b.txt"]
    assert "(left) arriving in Libya" not in art.text
    assert "Russian Defense Ministry" not in art.text.split("\n")
    assert art.text.startswith("Russian military officials including Moscow's deputy defense minister arrived in Libya")
    assert art.text.split("\n")[-1].startswith("Wagner maintains a strong military presence in Africa")


def test_tag_lines_are_pulled_off_into_tags(seed_articles):
    first = seed_articles["000_482d08ce8c9b0da1.txt"]
    assert first[0].tags == ("Khaled Haftar", "libya", "Military Cooperation", "Russia")
    assert "Military Cooperation" in first[0].tags
    assert first[1].tags == ("ceasefire", "eu", "libya", "Libyan Captial", "Violence")
    assert first[2].tags == ("Border Attack", "libya", "Libyan army", "Sudan", "Sudanese Army")
    assert first[0].text.endswith("capacity-building.")
    for arts in seed_articles.values():
        for a in arts:
            assert "Tags:" not in a.text, a.title
            assert not any("Tags" in t for t in a.tags)


def test_pages_without_a_tag_line_have_no_tags(seed_articles):
    for name in ("002_7523ba1ef989fd65.txt", "003_f5c72a7e82bc866b.txt", "004_488b9ea159b0b61f.txt"):
        assert [a.tags for a in seed_articles[name]] == [()]


@pytest.mark.parametrize(("raw", "vocab", "expected"), [
    ("Khaled HaftarlibyaMilitary CooperationRussia", None, ("Khaled Haftarlibya", "Military Cooperation", "Russia")),
    ("Khaled HaftarlibyaMilitary CooperationRussia", {"khaled", "haftar", "libya", "military", "cooperation", "russia"},
     ("Khaled Haftar", "libya", "Military Cooperation", "Russia")),
    ("ceasefireeulibyaLibyan CaptialViolence", {"ceasefire", "eu", "libya", "libyan", "violence"},
     ("ceasefire", "eu", "libya", "Libyan Captial", "Violence")),
    ("Border AttacklibyaLibyan armySudanSudanese Army", {"border", "attack", "libya", "libyan", "army", "sudan"},
     ("Border Attack", "libya", "Libyan army", "Sudan", "Sudanese Army")),
    ("BBCNews", None, ("BBC", "News")),
    ("Gaza", {"gaza"}, ("Gaza",)),
    ("", None, ()),
    ("   ", {"x"}, ()),
])
def test_split_tags(raw, vocab, expected):
    assert split_tags(raw, vocab) == expected


def test_split_tags_leaves_unknown_words_whole():
    # "elections" is not cut into "elect" + "ions" when only "elect" is a known word
    assert split_tags("Elections", {"elect"}) == ("Elections",)


@pytest.mark.parametrize("line", [
    "Try Our AI Features", "Explore what Daily8 AI can do for you:", "Comments", "Comments (12)",
    "No comments yet...", "Advertisement", "Share this article", "Follow us on Telegram", "Read more",
    "Previous Article", "Photo: Reuters", "  Most Read  ", "Remind me later.",
])
def test_is_furniture_true(line):
    assert is_furniture(line)


@pytest.mark.parametrize("line", [
    "", "   ", "Comments from the minister were welcomed by both delegations.",
    "Read more about the truce in our explainer on Sunday.", "The advertisement campaign was halted.",
])
def test_is_furniture_false(line):
    assert not is_furniture(line)


def test_split_articles_on_a_page_of_furniture_only_is_empty():
    assert split_articles("Try Our AI Features\nComments\nNo comments yet...\nRead more\n") == []
    assert split_articles("") == []


def test_split_articles_normalizes_line_endings_and_bom():
    page = "\ufeffTruce Holds in Aden\r\nA truce agreed on Sunday held overnight, officials said.\r\n"
    (art,) = split_articles(page)
    assert art.title == "Truce Holds in Aden"
    assert art.text == "A truce agreed on Sunday held overnight, officials said."


def test_sentences_split_on_sentence_ends_and_paragraphs():
    text = 'He said: "We will stay." Talks resume on Monday.\nA second paragraph without end'
    assert sentences(text) == ['He said: "We will stay."', "Talks resume on Monday.", "A second paragraph without end"]


def test_sentence_key_folds_case_quotes_and_spacing():
    assert sentence_key("Libya’s economy,  heavily reliant on OIL.") == sentence_key("libya's economy heavily reliant on oil")


def test_strip_boilerplate_removes_only_the_keyed_sentences():
    text = ("Talks resumed in Doha on Monday. Libya has been in chaos since 2011.\n"
            "Libya’s economy has suffered.\n"
            "Both sides agreed to meet again.")
    keys = {sentence_key("Libya has been in chaos since 2011."), sentence_key("Libya's economy has suffered.")}
    out, removed = strip_boilerplate(text, keys)
    assert removed == 2
    assert out == "Talks resumed in Doha on Monday.\nBoth sides agreed to meet again."


def test_strip_boilerplate_keeps_closing_quotes_and_brackets():
    # a sentence that ends inside quotes or brackets keeps its closing mark when other sentences go
    text = 'He said: "We will stay." Libya has been in chaos since 2011. Talks (in Doha.) resume.'
    out, removed = strip_boilerplate(text, {sentence_key("Libya has been in chaos since 2011.")})
    assert removed == 1
    assert out == 'He said: "We will stay." Talks (in Doha.) resume.'
    # and a text none of whose sentences is boilerplate comes back unchanged
    assert strip_boilerplate(text, {sentence_key("Not in the text at all.")}) == (text, 0)


def test_strip_boilerplate_without_keys_is_the_identity():
    text = "One sentence here. Another one.\nSecond paragraph."
    assert strip_boilerplate(text, set()) == (text, 0)
    assert strip_boilerplate(text, {sentence_key("Not in the text at all.")}) == (text, 0)


def test_split_tags_gives_an_acronym_its_last_capital_back():
    from inference.pages import split_tags

    assert split_tags("UNSMILtripoli", {"tripoli"}) == ("UNSMIL", "tripoli")
    assert split_tags("ISWAPJoint Patrols", {"joint", "patrols"}) == ("ISWAP", "Joint Patrols")
