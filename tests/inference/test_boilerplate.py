"""Boilerplate learned from a collection at tagging time (no duplicate clusters there)."""

from inference.boilerplate import collection_texts

PASTED = ("The Harbour Courier has covered the coastal provinces since 1961 from Port Elm. "
          "Readers can reach the news desk through the contact form on our website.")
STORIES = [("Ferry strike ends after two days", "Dock workers returned to the ferries on Monday after a pay deal. "
             "The union called the offer fair. Timetables are back to normal."),
           ("Truce holds along the river", "A truce agreed on Sunday held through the night, the monitors said. "
            "Both sides reported no shooting. Talks resume on Friday."),
           ("Border crossing reopens for aid", "Aid trucks crossed into the valley for the first time in weeks. "
            "Forty trucks carried flour and medicine. More are due tomorrow."),
           ("Students march in the capital", "Thousands of students marched to parliament against fee rises. "
            "Police said the march was peaceful. Organisers plan another next week.")]


def test_a_paragraph_pasted_under_three_stories_is_removed():
    texts = collection_texts([(t, f"{x}\n{PASTED}") for t, x in STORIES])
    assert texts == [x for _, x in STORIES]


def test_below_three_stories_it_stays():
    arts = [(t, f"{x}\n{PASTED}") for t, x in STORIES[:2]]
    assert collection_texts(arts) == [x for _, x in arts]


def test_one_story_re_sent_under_new_titles_keeps_its_text():
    body = ("Dock workers returned to the ferries on Monday after a two-day strike over pay. "
            "The union said the deal raised wages by four percent over two years. "
            "Ferry operators said timetables would be back to normal by Wednesday.")
    versions = [(f"UPDATE {k}-Ferry strike ends", body + f" Update number {k} adds a detail on the routes today.")
                for k in range(1, 5)]
    assert collection_texts(versions) == [x for _, x in versions]


def test_copies_of_one_story_under_one_title_count_once():
    arts = [STORIES[0][0], STORIES[0][0], STORIES[0][0]]
    texts = [f"{STORIES[0][1]}\n{PASTED}"] * 3
    assert collection_texts(list(zip(arts, texts))) == texts
