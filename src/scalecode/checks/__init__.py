"""Exercise checks: ``from scalecode.checks import check_cache_aside, ...``.

Each check tests behaviour (calls made, keys and TTLs in Redis, results equal to the
uncached ones) and prints one line: not done yet / a specific hint / passed. The
framework is in ``core``; the checks of each module live in their own file.
"""

from .cache01 import check_cache_aside, check_cached_news_page, check_hit_ratio, check_news_page_key
from .capstone13 import (
    check_cached_headline,
    check_cached_trending,
    check_fast_listing,
    check_fixed_page,
    check_streaming_export,
)
from .core import CheckFailed, CheckResult, Hint, NotDone, check
from .decorator03 import check_call_key, check_ttl_none_decorator, check_update_article
from .django05 import check_cache_page, check_comment_count, check_greeting_fragment, check_session_key
from .impact12 import check_endpoint_stats, check_fix_first, check_percentiles, check_saving
from .invalidation04 import check_delete_case, check_keys_to_invalidate, check_write_through
from .load08 import check_erlang_c, check_saturated_latency, check_utilisation, check_workers_for_p95
from .lru02 import (
    check_hashable_cache,
    check_immutable_result,
    check_maxsize,
    check_method_cache,
    check_ttl_cache,
)
from .payments06 import check_pay_once, check_retries, check_subscribe
from .profiling11 import check_hottest, check_list_mib, check_related_for_page
from .queries09 import check_filtered_prefetch, check_listing_budget, check_one_column, check_related_choice
from .throughput07 import check_async_page, check_bound_rps, check_demand_rps, check_workers_needed
from .writes10 import check_batch_buffer, check_crash_safe, check_idempotent_insert

__all__ = [
    "CheckFailed",
    "CheckResult",
    "Hint",
    "NotDone",
    "check",
    "check_async_page",
    "check_batch_buffer",
    "check_bound_rps",
    "check_cache_aside",
    "check_cache_page",
    "check_cached_headline",
    "check_cached_news_page",
    "check_cached_trending",
    "check_call_key",
    "check_comment_count",
    "check_crash_safe",
    "check_delete_case",
    "check_demand_rps",
    "check_endpoint_stats",
    "check_erlang_c",
    "check_fast_listing",
    "check_filtered_prefetch",
    "check_fix_first",
    "check_fixed_page",
    "check_greeting_fragment",
    "check_hashable_cache",
    "check_hit_ratio",
    "check_hottest",
    "check_idempotent_insert",
    "check_immutable_result",
    "check_keys_to_invalidate",
    "check_list_mib",
    "check_listing_budget",
    "check_maxsize",
    "check_method_cache",
    "check_news_page_key",
    "check_one_column",
    "check_pay_once",
    "check_percentiles",
    "check_related_choice",
    "check_related_for_page",
    "check_retries",
    "check_saturated_latency",
    "check_saving",
    "check_session_key",
    "check_streaming_export",
    "check_subscribe",
    "check_ttl_cache",
    "check_ttl_none_decorator",
    "check_update_article",
    "check_utilisation",
    "check_workers_for_p95",
    "check_workers_needed",
    "check_write_through",
]
