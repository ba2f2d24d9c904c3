"""Synthetic, deterministic traffic: which page each simulated request asks for.

Real traffic is skewed: a few pages (the front page, today's headline) get most of the
requests, a long tail gets a few. A Zipf-like law models that: the k-th most popular
page is requested with probability proportional to 1 / k**s. The skew is why a small
cache serves most requests.
"""

from __future__ import annotations

import numpy as np

#: Category slugs of the newsroom data set, most popular first (None = all news).
DEFAULT_CATEGORIES: tuple[str | None, ...] = (
    None, "politica", "esportes", "economia", "tecnologia", "cultura", "saude", "educacao", "mundo",
)  # fmt: skip


def zipf_weights(n: int, s: float = 1.1) -> np.ndarray:
    """Probabilities (sum 1) of ranks 1..n under a Zipf-like law with exponent ``s`` >= 0."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if s < 0:
        raise ValueError(f"s must be >= 0, got {s}")
    weights = 1.0 / np.arange(1, n + 1) ** s
    return weights / weights.sum()


def news_requests(
    n: int,
    *,
    pages: int = 10,
    categories: tuple[str | None, ...] = DEFAULT_CATEGORIES,
    s: float = 1.1,
    seed: int = 42,
) -> list[tuple[int, str | None]]:
    """``n`` requests ``(page, category)`` for the news list, Zipf-distributed, reproducible.

    Page 1 of all news is the most popular; deeper pages and smaller categories follow.
    The same arguments always give the same list.
    """
    combos = [(page, category) for category in categories for page in range(1, pages + 1)]
    # popularity rank: page number first, then category order
    combos.sort(key=lambda pc: (pc[0], categories.index(pc[1])))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(combos), size=n, p=zipf_weights(len(combos), s))
    return [combos[i] for i in picks]


def zipf_trace(n: int, keys: int, *, s: float = 1.1, seed: int = 42) -> list[int]:
    """``n`` requests for keys ``0..keys-1`` (0 the most popular), Zipf-distributed, reproducible.

    Key ``k`` is requested with probability ``zipf_weights(keys, s)[k]``; the same
    arguments always give the same list (of ``int``). Raises ``ValueError`` for ``n < 1``
    and as ``zipf_weights`` does.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    return [int(k) for k in rng.choice(keys, size=n, p=zipf_weights(keys, s))]
