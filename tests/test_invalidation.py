"""Module 04: which keys a write affects, save()/signals invalidation, write-through, staleness, checks.

Every test that writes runs inside a transaction that is rolled back (``rolled_back``):
other tests and notebooks read the same data set (3000 items, the committed titles).
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalecode.backends import delete_prefix, get_redis

CATEGORIES = (None, "esportes", "politica", "cultura")
PAGES = (1, 2, 999)  # 999: past the end, served as the last page


@pytest.fixture
def r(django_ready):
    client = get_redis(decode_responses=True)
    delete_prefix(client)
    yield client
    delete_prefix(client)


@contextlib.contextmanager
def rollback():
    from django.db import transaction

    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


@pytest.fixture
def rolled_back(r):
    from scalecode.newsroom.models import NewsItem

    with rollback():
        yield
    assert NewsItem.objects.count() == 3000


def newest(category):
    from scalecode.newsroom.models import NewsItem

    return NewsItem.objects.filter(category__slug=category).first()


def new_item(category="esportes", title="Plantão"):
    from django.utils import timezone

    from scalecode.newsroom.models import Author, Category, NewsItem

    return NewsItem(
        title=f"{title} {uuid.uuid4().hex[:6]}", slug=f"teste-{uuid.uuid4().hex}",
        category=Category.objects.get(slug=category), author=Author.objects.first(),
        published_at=timezone.now(), summary="Resumo.", body="Texto.",
    )  # fmt: skip


def cache_everything(r, pages=PAGES):
    from scalecode.newsroom.pages import cached_news_page

    for category in CATEGORIES:
        for page in pages:
            cached_news_page(r, page, category, ttl=3600)  # long: a slow, loaded machine must not expire them


def stale_keys(r):
    """Cached list/item pages whose value differs from a fresh render (``DoesNotExist``: stale)."""
    from scalecode.newsroom.models import NewsItem
    from scalecode.newsroom.pages import render_news_item, render_news_page

    stale = []
    for key in r.scan_iter(match="scalecode:news:*"):
        fields = dict(part.split("=", 1) for part in key.split(":") if "=" in part)
        if "page" in fields:
            fresh = render_news_page(int(fields["page"]), None if fields["category"] == "all" else fields["category"])
        else:
            try:
                fresh = render_news_item(int(fields["id"]))
            except NewsItem.DoesNotExist:
                fresh = None
        if r.get(key) != fresh:
            stale.append(key)
    return stale


# --- which keys --------------------------------------------------------------------------
def test_affected_listings_and_patterns(django_ready):
    from scalecode.newsroom.invalidation import affected_listings, listing_pattern
    from scalecode.newsroom.pages import news_page_key

    item = newest("esportes")
    assert affected_listings(item) == [None, "esportes"]
    assert affected_listings(item, old_category="politica") == [None, "esportes", "politica"]
    assert affected_listings(item, old_category="esportes") == [None, "esportes"]
    import fnmatch

    assert fnmatch.fnmatch(news_page_key(12, "esportes"), listing_pattern("esportes"))
    assert not fnmatch.fnmatch(news_page_key(12, "politica"), listing_pattern("esportes"))
    assert not fnmatch.fnmatch(news_page_key(12, "esportes"), listing_pattern(None))


def test_keys_to_invalidate_finds_every_cached_page_of_the_listings(r, rolled_back):
    from scalecode.newsroom.invalidation import invalidate, keys_to_invalidate
    from scalecode.newsroom.pages import cached_news_item, news_item_key, news_page_key

    cache_everything(r)
    item = newest("esportes")
    cached_news_item(r, item.pk)
    keys = set(keys_to_invalidate(r, item))
    assert news_item_key(item.pk) in keys
    assert news_page_key(999, "esportes") in keys and news_page_key(999, None) in keys  # past the end, too
    assert not any("politica" in k or "cultura" in k for k in keys)
    assert invalidate(r, item) == len(keys) == 1 + 2 * len(PAGES)
    assert r.exists(news_page_key(1, "politica")) and not r.exists(news_page_key(1, "esportes"))


def test_item_page_and_its_cache(r, django_ready):
    from scalecode.newsroom.models import NewsItem
    from scalecode.newsroom.pages import cached_news_item, news_item_key, remote_database, render_news_item

    item = newest("esportes")
    html = render_news_item(item.pk)
    assert item.title in html and "Esportes" in html
    assert news_item_key(item.pk) == f"scalecode:news:item:id={item.pk}"
    with remote_database(0) as miss:
        assert cached_news_item(r, item.pk) == html
    with remote_database(0) as hit:
        assert cached_news_item(r, item.pk) == html
    assert miss.queries > 0 and hit.queries == 0
    with pytest.raises(NewsItem.DoesNotExist):
        render_news_item(10**9)


# --- the talk's save()/delete() --------------------------------------------------------
def test_save_news_item_drops_and_populates_but_a_plain_save_does_not(r, rolled_back):
    from scalecode.newsroom.invalidation import delete_news_item, save_news_item
    from scalecode.newsroom.pages import cached_news_item, news_item_key, remote_database

    cache_everything(r)
    item = newest("esportes")
    item.title = "Título corrigido"
    assert save_news_item(r, item, write_through_ttl=30) == 2 * len(PAGES)
    assert stale_keys(r) == []
    with remote_database(0) as db:
        assert "Título corrigido" in cached_news_item(r, item.pk)
    assert db.queries == 0 and 0 < r.pttl(news_item_key(item.pk)) <= 30_000

    cache_everything(r)
    item.title = "Editado por outro caminho"
    item.save()  # a code path that does not go through save_news_item
    assert stale_keys(r)

    delete_prefix(r)
    cache_everything(r)
    delete_news_item(r, item)
    assert item.pk is None and stale_keys(r) == []


# --- signals ------------------------------------------------------------------------------
def test_signals_invalidate_saves_creates_category_moves_and_deletes(r, rolled_back):
    from scalecode.newsroom.invalidation import connect_invalidation
    from scalecode.newsroom.models import Category
    from scalecode.newsroom.pages import cached_news_item, news_item_key

    cache_everything(r)
    item = newest("esportes")
    with connect_invalidation(r, write_through_ttl=30) as handle:
        item.title = "Novo título"
        item.save()
        assert r.get(news_item_key(item.pk)) and stale_keys(r) == []
        cache_everything(r)
        item.category = Category.objects.get(slug="politica")  # moves: both categories change
        item.save()
        assert stale_keys(r) == []
        cache_everything(r)
        created = new_item("cultura")
        created.save()
        assert stale_keys(r) == []
        cache_everything(r)
        cached_news_item(r, created.pk)
        created_pk = created.pk
        created.delete()
        assert stale_keys(r) == [] and not r.exists(news_item_key(created_pk))
    assert (handle.saves, handle.deletes, handle.populated) == (3, 1, 3)
    assert not handle.connected
    cache_everything(r)
    item.title = "Depois de desconectar"
    item.save()
    assert stale_keys(r), "receivers must be disconnected after the with block"


def test_queryset_update_bypasses_signals(r, rolled_back):
    from scalecode.newsroom.invalidation import connect_invalidation
    from scalecode.newsroom.models import NewsItem

    cache_everything(r)
    item = newest("esportes")
    with connect_invalidation(r):
        NewsItem.objects.filter(pk=item.pk).update(title="Atualizado com update()")
        assert stale_keys(r)


def test_on_commit_waits_for_the_commit(r, rolled_back):
    from django.test import TestCase

    from scalecode.newsroom.invalidation import connect_invalidation

    cache_everything(r)
    item = newest("esportes")
    with connect_invalidation(r, on_commit=True) as handle:
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            item.title = "Ainda não commitado"
            item.save()
        assert handle.saves == 0 and stale_keys(r)  # nothing happened before the commit
        for callback in callbacks:
            callback()
    assert handle.saves == 1 and stale_keys(r) == []


def test_connect_rejects_a_bad_ttl(r):
    from scalecode.newsroom.invalidation import connect_invalidation, populate

    with pytest.raises(ValueError, match="write_through_ttl"):
        connect_invalidation(r, write_through_ttl=0)
    with pytest.raises(ValueError, match="ttl"):
        populate(r, 1, ttl=-1)


# --- namespace versioning -------------------------------------------------------------------
def test_versioning_makes_old_keys_unreachable(r, rolled_back):
    from scalecode.newsroom.invalidation import bump_listing_versions, cached_versioned_page, versioned_page_key
    from scalecode.newsroom.pages import render_news_page

    item = newest("esportes")
    before = {c: versioned_page_key(r, 1, c) for c in CATEGORIES}
    for c in CATEGORIES:
        cached_versioned_page(r, 1, c)
    item.title = "Versão nova"
    item.save()
    assert bump_listing_versions(r, item) == 2
    after = {c: versioned_page_key(r, 1, c) for c in CATEGORIES}
    assert after[None] != before[None] and after["esportes"] != before["esportes"]
    assert after["politica"] == before["politica"]
    for c in CATEGORIES:
        assert cached_versioned_page(r, 1, c) == render_news_page(1, c)


# --- staleness vs hit ratio --------------------------------------------------------------------
def test_staleness_run_with_and_without_invalidation(r, django_ready):
    from scalecode.newsroom.invalidation import staleness_run, staleness_sweep
    from scalecode.newsroom.models import NewsItem

    titles = dict(NewsItem.objects.values_list("id", "title")[:50])
    trace = [(1, None), (1, "esportes"), (1, "politica")]
    kwargs = dict(reads=300, write_every=50, max_seconds=30, round_trip_s=0)
    without = staleness_run(r, trace, ttl=60, invalidation=False, **kwargs)
    with_ = staleness_run(r, trace, ttl=60, invalidation=True, **kwargs)
    assert without.writes == with_.writes == 5 and without.reads == with_.reads == 300
    assert with_.hit_ratio >= 1 - (3 + 2 * 5) / 300  # a write drops at most 2 of the 3 pages
    assert without.stale_reads > 0 and without.max_staleness_s > 0
    assert with_.stale_reads == 0 and with_.max_staleness_s == 0
    assert dict(NewsItem.objects.values_list("id", "title")[:50]) == titles  # rolled back
    assert NewsItem.objects.count() == 3000 and not list(r.scan_iter(match="scalecode:*"))
    slow = staleness_run(r, trace, ttl=0.01, invalidation=False, reads=6, write_every=1000, write_every_s=1e-4,
                         round_trip_s=0)
    assert slow.writes >= 4  # the time-based cadence writes even when reads are slow
    frame = staleness_sweep(r, trace, [0.01, 60], reads=60, write_every=20, round_trip_s=0)
    assert list(frame["invalidation"]) == [False, False, True]
    assert frame["stale_fraction"].iloc[-1] == 0
    with pytest.raises(ValueError, match="empty"):
        staleness_run(r, [], ttl=1, invalidation=False)
    with pytest.raises(ValueError, match="write_every"):
        staleness_run(r, trace, ttl=1, invalidation=False, write_every=0)


# --- the property: with invalidation connected, no cached read is ever stale ---------------------
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.sampled_from(CATEGORIES), st.sampled_from([1, 2, 999])),
        st.tuples(st.just("read_item"), st.integers(0, 20)),
        st.tuples(st.just("update"), st.integers(0, 20), st.sampled_from(CATEGORIES[1:])),
        st.tuples(st.just("create"), st.sampled_from(CATEGORIES[1:])),
        st.tuples(st.just("delete"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=10,
)


def run_ops(r, ops, *, invalidation: bool) -> list[str]:
    """Apply ``ops`` (rolled back afterwards); return a description of every stale cached read."""
    from scalecode.newsroom.invalidation import connect_invalidation
    from scalecode.newsroom.models import Category, NewsItem
    from scalecode.newsroom.pages import cached_news_item, cached_news_page, render_news_item, render_news_page

    stale = []
    delete_prefix(r)
    handle = connect_invalidation(r, write_through_ttl=60) if invalidation else contextlib.nullcontext()
    try:
        with rollback(), handle:
            pool = [newest(c).pk for c in CATEGORIES[1:]]
            deleted = set()
            for op in ops:
                if op[0] == "read":
                    _, category, page = op
                    if cached_news_page(r, page, category) != render_news_page(page, category):
                        stale.append(f"page {page} of {category}")
                elif op[0] == "read_item":
                    pk = pool[op[1] % len(pool)]
                    try:
                        cached = cached_news_item(r, pk)
                    except NewsItem.DoesNotExist:
                        continue
                    if pk in deleted or cached != render_news_item(pk):
                        stale.append(f"item {pk}")
                elif op[0] == "create":
                    item = new_item(op[1])
                    item.save()
                    pool.append(item.pk)
                else:
                    pk = pool[op[1] % len(pool)]
                    item = NewsItem.objects.filter(pk=pk).first()
                    if item is None:
                        continue
                    if op[0] == "delete":
                        item.delete()
                        deleted.add(pk)
                    else:
                        item.title = f"Editado {uuid.uuid4().hex[:6]}"
                        item.category = Category.objects.get(slug=op[2])
                        item.save()
    finally:
        delete_prefix(r)
    return stale


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_property_no_stale_read_with_invalidation(r, ops):
    assert run_ops(r, ops, invalidation=True) == []


def test_without_invalidation_staleness_does_occur(r):
    ops = [("read", None, 1), ("read", "esportes", 2), ("create", "esportes"), ("read", None, 1),
           ("read", "esportes", 2), ("update", 0, "politica"), ("read_item", 0)]  # fmt: skip
    stale = run_ops(r, ops, invalidation=False)
    assert "page 1 of None" in stale and "page 2 of esportes" in stale
    assert run_ops(r, ops, invalidation=True) == []


# --- the lab's checks ---------------------------------------------------------------------------
def enumerated_keys(item):
    from django.conf import settings as django_settings

    from scalecode.newsroom.models import NewsItem
    from scalecode.newsroom.pages import news_item_key, news_page_key

    keys = [news_item_key(item.pk)]
    for category in (None, item.category.slug):
        items = NewsItem.objects.filter(category__slug=category) if category else NewsItem.objects.all()
        pages = items.count() // django_settings.NEWS_PER_PAGE + 2
        keys += [news_page_key(p, category) for p in range(1, pages + 1)]
    return keys


def stub(*args, **kwargs):
    raise NotImplementedError


def _client():
    return get_redis(decode_responses=True)


def scanned_keys(item):
    from scalecode.newsroom.invalidation import keys_to_invalidate

    return keys_to_invalidate(_client(), item)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (enumerated_keys, "passed", "no page is stale"),
        (scanned_keys, "passed", "no page is stale"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda item: list(_client().scan_iter("scalecode:*")), "hint", "unrelated pages too"),
        (lambda item: [f"scalecode:news:item:id={item.pk}"], "hint", "'all news' listing"),
        (lambda item: [k for k in enumerated_keys(item) if "=all" not in k], "hint", "'all news' listing"),
        (lambda item: [k for k in enumerated_keys(item) if "page=1" in k or "item" in k], "hint", "shifts every page"),
        (lambda item: ["scalecode:news:list:*"], "hint", "DEL does not expand patterns"),
        (lambda item: "scalecode:news:list", "hint", "list of keys"),
        (lambda item: 1 / 0, "hint", "ZeroDivisionError"),
    ],
    ids=["enumerated", "scan", "stub", "everything", "item-only", "no-all", "page-1-only", "pattern", "str", "raises"],
)  # fmt: skip
def test_check_keys_to_invalidate(django_ready, answer, status, fragment):
    from scalecode.checks import check_keys_to_invalidate
    from scalecode.newsroom.models import NewsItem

    result = check_keys_to_invalidate(answer)
    assert result.status == status and fragment in result.message, result.message
    assert NewsItem.objects.count() == 3000


def _drop(instance):
    keys = enumerated_keys(instance)
    _client().delete(*keys)


def good_saved(sender, instance, **kwargs):
    from scalecode.newsroom.invalidation import populate

    _drop(instance)
    populate(_client(), instance.pk, ttl=60)


def on_commit_saved(sender, instance, **kwargs):
    from django.db import transaction

    transaction.on_commit(lambda: good_saved(sender, instance))


def no_ttl_saved(sender, instance, **kwargs):
    from scalecode.newsroom.pages import news_item_key, render_news_item

    _drop(instance)
    _client().set(news_item_key(instance.pk), render_news_item(instance.pk))


def stale_write_saved(sender, instance, **kwargs):
    from scalecode.newsroom.pages import news_item_key

    old = _client().get(news_item_key(instance.pk))
    good_saved(sender, instance)
    if old:
        _client().set(news_item_key(instance.pk), old, ex=60)


def item_only_saved(sender, instance, **kwargs):
    from scalecode.newsroom.invalidation import populate

    populate(_client(), instance.pk, ttl=60)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_saved, "passed", "next read is a hit"),
        (on_commit_saved, "passed", "next read is a hit"),
        (stub, "not done yet", "NotImplementedError"),
        (lambda sender, instance, **kw: _drop(instance), "hint", "write-through"),
        (no_ttl_saved, "hint", "no TTL"),
        (stale_write_saved, "hint", "not the fresh one"),
        (item_only_saved, "hint", "'all news' listing"),
    ],
    ids=["good", "on-commit", "stub", "delete-only", "no-ttl", "stale-write", "item-only"],
)  # fmt: skip
def test_check_write_through(django_ready, answer, status, fragment):
    from django.db.models.signals import post_save

    from scalecode.checks import check_write_through

    receivers = len(post_save.receivers)
    result = check_write_through(answer)
    assert result.status == status and fragment in result.message, result.message
    assert len(post_save.receivers) == receivers  # the check disconnects what it connected


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda sender, instance, **kw: _drop(instance), "passed", "deleted item's page is gone"),
        (stub, "not done yet", "NotImplementedError"),
        (good_saved, "hint", "drop its page instead of rendering it"),
        (lambda sender, instance, **kw: _client().delete(f"scalecode:news:item:id={instance.pk}"), "hint",
         "still shows the deleted item"),
        (lambda sender, instance, **kw: None, "hint", "still cached"),
        (lambda sender, instance, **kw: delete_prefix(_client()), "hint", "unrelated pages too"),
    ],
    ids=["good", "stub", "write-through", "item-only", "nothing", "everything"],
)  # fmt: skip
def test_check_delete_case(django_ready, answer, status, fragment):
    from scalecode.checks import check_delete_case
    from scalecode.newsroom.models import NewsItem

    result = check_delete_case(answer)
    assert result.status == status and fragment in result.message, result.message
    assert NewsItem.objects.count() == 3000


def test_checks_say_not_done_for_none(django_ready):
    from scalecode.checks import check_delete_case, check_keys_to_invalidate, check_write_through

    for check_fn in (check_keys_to_invalidate, check_write_through, check_delete_case):
        assert check_fn(None).status == "not done yet"
