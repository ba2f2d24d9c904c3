"""Exercise checks: ``from scalecode.checks import check_cache_aside, ...``.

Each check tests behaviour (calls made, keys and TTLs in Redis, results equal to the
uncached ones) and prints one line: not done yet / a specific hint / passed. The
framework is in ``core``; the checks of each module live in their own file.
"""

from .cache01 import check_cache_aside, check_cached_news_page, check_hit_ratio, check_news_page_key
from .core import CheckFailed, CheckResult, Hint, NotDone, check

__all__ = [
    "CheckFailed",
    "CheckResult",
    "Hint",
    "NotDone",
    "check",
    "check_cache_aside",
    "check_cached_news_page",
    "check_hit_ratio",
    "check_news_page_key",
]
