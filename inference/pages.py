"""Raw scraped pages to clean articles: furniture removal, story splitting, tag lines.

Pure functions shared by the dataset builder and the ``Tagger``, so both see the same text.

Example:
    >>> arts = split_articles(open("page.txt").read())
    >>> arts[0].title, arts[0].tags
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whole lines that are site furniture, never article text (matched case-insensitively, whole line).
FURNITURE = tuple(re.compile(p, re.I) for p in (
    r"try our ai features",
    r"explore what .{1,60} can do for you:?",
    r"(show |view |load )?comments?( \(\d+\))?",
    r"no comments yet\.*",
    r"advertisement|sponsored( content)?|promoted( content)?",
    r"share (this|the) (article|story)|share on .{1,30}",
    r"follow us on .{1,40}",
    r"(subscribe|sign up) (to|for) .{0,40}newsletter.{0,40}",
    r"subscribers agree to .{0,60}",
    r"listen to this (article|story)",
    r"most (read|popular)",
    r"read (more|next)\W*",
    r"no time to read\?*",
    r"get (a|the) summary",
    r"support .{1,50}!",
    r"once|monthly|annual|continue",
    r"pa[iy]ments? methods?",
    r"not ready to support( us)? today\?*",
    r"remind me later\.?",
    r"previous article|next article|previous story|next story",
    r"(photo|image|credit)s?: .{1,80}",
))
# A line that opens a furniture block running to its closing line (or the end of the page).
BLOCK_OPEN = re.compile(r"^(a message from .{1,60}:|dear readers,?)$", re.I)
BLOCK_CLOSE = re.compile(r"^remind me later\.?$", re.I)
# Lines after which the next non-empty line is a teaser title of another page, not text.
TEASER_OPEN = re.compile(r"^(previous|next) (article|story|post)$", re.I)
# Headers that open a list of further stories on the same page.
RELATED = re.compile(
    r"^(related (articles|stories|news|posts)|more (stories|news)|more from .{1,40}|"
    r"you may also like|read also|see also|also read|recommended( for you)?)\s*:?$", re.I)
TIME_LINE = re.compile(
    r"^(\d{1,3} (seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?) ago|yesterday|just now|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|"
    r"\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* \d{4}|\d{4}-\d{2}-\d{2})$", re.I)
BYLINE = re.compile(r"^[-–—•]\s*\S.{0,60}$")
TAGS = re.compile(r"\s*\bTags:\s*(.*)$")
SENTENCE_END = re.compile(r"[.!?…:;\"'”’)\]]\s*$")


@dataclass(frozen=True)
class Article:
    """One story cut from a page."""

    title: str
    text: str
    tags: tuple[str, ...] = ()
    outlet: str | None = None
    position: int = 0  # 0 for the page's main story, 1.. for stories in its related list


def is_furniture(line: str) -> bool:
    """True when the whole line is a known piece of site furniture."""
    s = line.strip()
    return bool(s) and any(p.fullmatch(s) for p in FURNITURE)


def split_tags(raw: str, vocabulary: set[str] | None = None) -> tuple[str, ...]:
    """Split a glued tag line ("Khaled HaftarlibyaMilitary CooperationRussia") into tags.

    Case changes mark most boundaries; a run of lowercase tags glued to a word ("Haftarlibya") is cut
    where both sides are words of ``vocabulary`` (lowercased words of the article).
    """
    pieces = [p.strip() for p in re.split(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", raw.strip())
              if p.strip()]
    vocab = vocabulary or set()
    for i in range(len(pieces) - 1):  # "UNSMILtripoli" was cut "UNSMI|Ltripoli": give the capital back
        a, b = pieces[i], pieces[i + 1]
        first = b.split()[0]
        if a.split()[-1].isupper() and first[1:].lower() in vocab and first.lower() not in vocab:
            pieces[i], pieces[i + 1] = a + b[0], b[1:]
    out: list[str] = []
    for piece in pieces:
        current: list[str] = []
        for word in piece.split():
            parts = _segment(word, vocab) if vocab else [word]
            current.append(parts[0])
            for part in parts[1:]:  # a glue point inside the word: a new tag starts
                out.append(" ".join(current))
                current = [part]
        out.append(" ".join(current))
    return tuple(t for t in out if t)


def _segment(word: str, vocab: set[str]) -> list[str]:
    """Cut ``word`` into the fewest vocabulary words (after the shortest unknown head if need be)."""
    low = word.lower()
    n = len(low)
    if low in vocab or not word.isalpha():
        return [word]
    # cuts[i]: fewest cut points so that low[i:] is a run of vocabulary words (2+ letters each).
    cuts: list[list[int] | None] = [None] * n + [[]]
    for start in range(n - 2, -1, -1):
        for end in range(start + 2, n + 1):
            if cuts[end] is not None and low[start:end] in vocab and (
                cuts[start] is None or len(cuts[end]) + 1 < len(cuts[start])):
                cuts[start] = [end] + cuts[end]
    # An unknown head ("Transiti|on") is only cut off before long vocabulary words.
    head = next((h for h in range(0, n - 1) if cuts[h] is not None and (
        h == 0 or (h >= 2 and all(b - a >= 4 for a, b in zip([h] + cuts[h], cuts[h]))))), None)
    if head is None:
        return [word]
    bounds = ([head] if head else []) + cuts[head]
    parts, prev = [], 0
    for c in bounds:
        parts.append(word[prev:c])
        prev = c
    return parts


def _strip_furniture(lines: list[str]) -> list[str]:
    out, in_block, teaser = [], False, False
    for line in lines:
        s = line.strip()
        if in_block:
            in_block = not BLOCK_CLOSE.match(s)
            continue
        if BLOCK_OPEN.match(s):
            in_block = True
            continue
        if teaser and s:
            teaser = False
            continue
        if TEASER_OPEN.match(s):
            teaser = True
            continue
        out.append("" if is_furniture(s) else line.rstrip())
    return out


def _body(lines: list[str], vocab: set[str]) -> tuple[str, tuple[str, ...]]:
    """Join body lines into paragraphs, dropping captions/headings and pulling off a tag line."""
    paras, tags = [], ""
    for line in lines:
        s = line.strip()
        if not s:
            continue
        m = TAGS.search(s)
        if m:
            tags = m.group(1)
            s = s[: m.start()].strip()
            if not s:
                continue
        # A body line that does not end like a sentence is a caption, a credit or a crosshead.
        if not SENTENCE_END.search(s):
            continue
        paras.append(s)
    return "\n".join(paras), split_tags(tags, vocab) if tags else ()


def _main_story(lines: list[str], vocab: set[str]) -> Article | None:
    body = list(lines)
    while body and not body[0].strip():
        body.pop(0)
    if not body:
        return None
    title = body.pop(0).strip()
    text, tags = _body(body, vocab)
    return Article(title=title, text=text, tags=tags, position=0) if text else None


def _related_blocks(lines: list[str]) -> list[list[str]]:
    """Cut the related list into one block per story, anchored on its outlet/time header lines."""
    idx = [i for i, ln in enumerate(lines) if TIME_LINE.match(ln.strip())]
    if not idx:  # no datelines: stories are separated by two or more blank lines
        blocks, cur, blanks = [], [], 0
        for ln in lines:
            if not ln.strip():
                blanks += 1
                continue
            if blanks >= 2 and cur:
                blocks.append(cur)
                cur = []
            blanks = 0
            cur.append(ln)
        return blocks + ([cur] if cur else [])
    starts = []
    for i in idx:  # the outlet name sits on the non-empty line above its time line
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        starts.append(j if j >= 0 and (not starts or j > starts[-1]) and len(lines[j].split()) <= 6 else i)
    bounds = starts + [len(lines)]
    return [lines[bounds[k]: bounds[k + 1]] for k in range(len(starts))]


def _related_story(block: list[str], position: int, vocab: set[str]) -> Article | None:
    lines = [ln.strip() for ln in block if ln.strip()]
    outlet = None
    head = []
    for k, ln in enumerate(lines[:4]):
        if TIME_LINE.match(ln):
            if k > 0 and outlet is None:
                outlet = lines[k - 1]
            head = list(range(0, k + 1))
        elif BYLINE.match(ln) and head:
            head.append(k)
            outlet = outlet or ln.lstrip("-–—• ").strip()
    rest = [ln for k, ln in enumerate(lines) if k not in head]
    if len(rest) < 2:
        return None  # a teaser title with no story under it
    title = rest[0]
    text, tags = _body(rest[1:], vocab)
    return Article(title=title, text=text, tags=tags, outlet=outlet, position=position) if text else None


def split_articles(page: str) -> list[Article]:
    """Cut a raw scraped page into its articles: the main story first, then each related story.

    Args:
        page: the page text as scraped (one paragraph a line, furniture and all).
    Returns:
        Articles with furniture removed and tag lines pulled into ``tags``; empty if the page has none.
    """
    page = page.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = _strip_furniture(page.split("\n"))
    # Words of the whole page (tag lines aside) are the vocabulary that cuts glued tags apart.
    words = re.findall(r"[A-Za-z]+", re.sub(r"Tags:.*", "", page))
    vocab = {w.lower() for w in words if len(w) >= 3 or w.isupper()}
    cut = next((i for i, ln in enumerate(lines) if RELATED.match(ln.strip())), len(lines))
    articles = []
    main = _main_story(lines[:cut], vocab)
    if main:
        articles.append(main)
    for block in _related_blocks(lines[cut + 1:]):
        story = _related_story(block, len(articles) + (0 if main else 1), vocab)
        if story:
            articles.append(story)
    return articles
