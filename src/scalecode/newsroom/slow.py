"""A slow newsroom view to profile: a news list with a "related news" box per item.

``render_related_page`` lists one page of news and, under each item, the ``k`` most
related news (most shared words in the body). It runs ONE query and no network at all,
and it is still slow: ``related_news`` tokenizes the item and every candidate again for
every item of the page (``per_page × pool × 2`` calls of ``tokens``). cProfile points
at ``tokens`` (most cumulative time, thousands of calls, all from ``related_news``);
line_profiler on ``related_news`` shows the one line that takes the time. The fix,
``render_related_page_fixed``, tokenizes each candidate once (``pool`` calls) and
gives exactly the same HTML.

``tokens`` counts its calls in ``TOKEN_CALLS["tokens"]`` so checks and notebooks can
count work instead of timing it.

Source: "High Audience Python" (Guilherme Vierno): make it work, find the bottleneck,
fix it, go to 2; "Não Escale Servidores, Escale Código!" (Ervilis Viana de Souza): cProfile.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from django.utils.html import escape

#: How many times ``tokens`` ran (reset it with ``TOKEN_CALLS.clear()``).
TOKEN_CALLS: Counter = Counter()

STOPWORDS = frozenset(
    """a o as os um uma uns umas de da do das dos em na no nas nos por para com sem que
    e ou se ao aos à às é foi ser são há mais mas como já não sua seu suas seus ele ela
    eles elas isso este esta esse essa pelo pela pelos pelas entre sobre até após""".split()
)
_WORD = re.compile(r"\w{4,}")  # words of 4 letters or more


class Article(Protocol):
    id: int
    title: str
    body: str


def tokens(text: str) -> frozenset[str]:
    """The set of meaningful words of ``text``: lower case, longer than 3 letters, no stopwords."""
    TOKEN_CALLS["tokens"] += 1
    return frozenset(_WORD.findall(text.lower())) - STOPWORDS


def _best(scored: Iterable[tuple[int, int]], k: int) -> list[int]:
    """``scored`` = (score, id) pairs: the ids of the ``k`` best, by score then smaller id."""
    return [i for score, i in sorted(scored, key=lambda p: (-p[0], p[1]))[:k]]


def related_news(item: Article, candidates: Iterable[Article], k: int = 3) -> list[int]:
    """The ids of the ``k`` candidates sharing most words with ``item`` (the slow way).

    Ties go to the smaller id; ``item`` itself is skipped. Tokenizes ``item`` and each
    candidate on every call: the bottleneck of ``render_related_page``.
    """
    scored = []
    for other in candidates:
        if other.id != item.id:
            scored.append((len(tokens(item.body) & tokens(other.body)), other.id))
    return _best(scored, k)


def related_news_indexed(
    item: Article, candidates: Iterable[Article], index: Mapping[int, frozenset[str]], k: int = 3
) -> list[int]:
    """Same result as ``related_news``, reading the words of each news from ``index`` (id → tokens)."""
    words = index[item.id]
    return _best(((len(words & index[o.id]), o.id) for o in candidates if o.id != item.id), k)


def sample_articles(n: int = 120) -> list:
    """The first ``n`` news of the committed data set, read from the CSV without Django.

    Returns objects with ``id``, ``title`` and ``body`` (``types.SimpleNamespace``), enough
    for ``related_news``. Used by the lab's checks.
    """
    import csv
    from types import SimpleNamespace

    from ..config import data_dir

    with open(data_dir() / "newsroom" / "news.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:n]
    return [SimpleNamespace(id=int(r["id"]), title=r["title"], body=r["body"]) for r in rows]


def latest_news(pool: int = 300) -> list:
    """The ``pool`` most recent news items (one query, category and author joined)."""
    from .models import NewsItem

    return list(NewsItem.objects.select_related("category", "author").order_by("-published_at", "-id")[:pool])


def _render(page_items: list, related: Mapping[int, list[int]], titles: Mapping[int, str]) -> str:
    parts = ["<ul class='news'>"]
    for item in page_items:
        links = "".join(f"<li>{escape(titles[i])}</li>" for i in related[item.id])
        parts.append(
            f"<li><h2>{escape(item.title)}</h2><p>{escape(item.category.name)} · {escape(item.author.name)}</p>"
            f"<ul class='related'>{links}</ul></li>"
        )
    parts.append("</ul>")
    return "\n".join(parts)


def _page_of(items: list, page: int, per_page: int) -> list:
    if page < 1 or per_page < 1:
        raise ValueError(f"page and per_page must be >= 1, got page={page}, per_page={per_page}")
    return items[(page - 1) * per_page : page * per_page]


def render_related_page(page: int = 1, per_page: int = 10, pool: int = 300, k: int = 3) -> str:
    """The slow view: page ``page`` of the latest news, each with its ``k`` related news (HTML str).

    Related news are searched among the ``pool`` latest items. Calls ``tokens``
    ``2 × per_page × (pool - 1)`` times. Raises ``ValueError`` for page or per_page < 1.
    """
    items = latest_news(pool)
    page_items = _page_of(items, page, per_page)
    related = {item.id: related_news(item, items, k) for item in page_items}
    return _render(page_items, related, {i.id: i.title for i in items})


def render_related_page_fixed(page: int = 1, per_page: int = 10, pool: int = 300, k: int = 3) -> str:
    """``render_related_page`` after the fix: each news is tokenized once (``pool`` calls). Same HTML."""
    items = latest_news(pool)
    page_items = _page_of(items, page, per_page)
    index = {i.id: tokens(i.body) for i in items}
    related = {item.id: related_news_indexed(item, items, index, k) for item in page_items}
    return _render(page_items, related, {i.id: i.title for i in items})
