"""Checks of lab 04 (invalidation): the keys a write affects, write-through on save, the delete case.

Every check works inside a database transaction that is rolled back (the shared data
set stays as it was) and judges the cache by its state after a write: for each key it
cached before, the key is either gone (the next read recomputes it) or holds exactly
the fresh page; pages of unrelated categories must still be cached.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..backends import delete_prefix, get_redis
from .core import Hint, NotDone, check

CATEGORY = "esportes"  # the category of the item the checks edit
UNRELATED = "cultura"  # a category no check writes to
PAGES = 2  # pages cached of each listing (page 2 shows the shift of an insert)
LONG_TTL = 3600  # seconds: nothing may expire during a check, even on a slow machine


@dataclass
class _Scene:
    """What a check cached before the write: key -> how to render the page fresh."""

    client: object
    renders: dict[str, Callable[[], str]]
    unrelated: list[str]

    def state(self, key: str) -> str:
        """``"absent"``, ``"fresh"`` or ``"stale"``."""
        value = self.client.get(key)
        if value is None:
            return "absent"
        try:
            fresh = self.renders[key]()
        except Exception:  # the item is gone: any cached copy is stale
            return "stale"
        return "fresh" if value == fresh else "stale"


@contextlib.contextmanager
def _rolled_back() -> Iterator[None]:
    """A transaction that is always rolled back; the workshop's keys are deleted afterwards."""
    from django.db import transaction

    client = get_redis()
    try:
        with transaction.atomic():
            try:
                yield
            finally:
                transaction.set_rollback(True)
    finally:
        delete_prefix(client)


def _scene(item) -> _Scene:
    """Cache pages 1..PAGES of all news, CATEGORY and UNRELATED, the page showing ``item``, two item pages."""
    from django.conf import settings

    from ..newsroom.models import NewsItem
    from ..newsroom.pages import (
        cached_news_item,
        cached_news_page,
        news_item_key,
        news_page_key,
        render_news_item,
        render_news_page,
    )

    client = get_redis(decode_responses=True)
    delete_prefix(client)
    renders: dict[str, Callable[[], str]] = {}
    ids = list(NewsItem.objects.values_list("id", flat=True))
    page_all = ids.index(item.pk) // settings.NEWS_PER_PAGE + 1 if item.pk in ids else 1
    wanted = [(p, c) for c in (None, CATEGORY, UNRELATED) for p in range(1, PAGES + 1)]
    if page_all > PAGES:
        wanted.append((page_all, None))
    for page, category in wanted:
        cached_news_page(client, page, category, ttl=LONG_TTL)
        renders[news_page_key(page, category)] = lambda p=page, c=category: render_news_page(p, c)
    other = NewsItem.objects.filter(category__slug=UNRELATED).values_list("id", flat=True).first()
    for pk in (item.pk, other):
        cached_news_item(client, pk, ttl=LONG_TTL)
        renders[news_item_key(pk)] = lambda pk=pk: render_news_item(pk)
    unrelated = [news_page_key(p, UNRELATED) for p in range(1, PAGES + 1)] + [news_item_key(other)]
    return _Scene(client, renders, unrelated)


def _newest(category: str = CATEGORY):
    from ..newsroom.models import NewsItem

    return NewsItem.objects.filter(category__slug=category).select_related("category").first()


def _new_item(category: str = CATEGORY):
    """A new item at the top of every listing (not saved)."""
    from django.utils import timezone

    from ..newsroom.models import Author, Category, NewsItem

    return NewsItem(
        title=f"Plantão: notícia nova {uuid.uuid4().hex[:6]}", slug=f"plantao-{uuid.uuid4().hex}",
        category=Category.objects.get(slug=category), author=Author.objects.first(),
        published_at=timezone.now(), summary="Resumo da notícia nova.", body="Texto da notícia nova.",
    )  # fmt: skip


def _describe(key: str) -> str:
    from ..newsroom.pages import news_item_key, news_page_key

    for category in (None, CATEGORY, UNRELATED):
        for page in range(1, 200):
            if key == news_page_key(page, category):
                return f"page {page} of {category or 'all news'}"
    if key.startswith(news_item_key(0)[:-1]):
        return "the item's own page"
    return key


def _judge(scene: _Scene, item_key: str, what: str, *, shift: bool = False) -> None:
    """Raise the most useful hint for a scene after a write, or return when nothing is stale."""
    from ..newsroom.pages import news_page_key

    states = {key: scene.state(key) for key in scene.renders}
    if states.get(item_key) == "stale":
        raise Hint(f"the item's own page still shows {what}: drop (or refresh) news_item_key(item.pk)")
    stale_lists = [k for k, s in states.items() if s == "stale" and k != item_key]
    if stale_lists:
        key = stale_lists[0]
        if shift and key not in (news_page_key(1, None), news_page_key(1, CATEGORY)):
            raise Hint(f"{_describe(key)} is stale: a new item shifts every page, so drop every page, not just page 1")
        listing = "'all news'" if key.startswith(news_page_key(1, None).rsplit(":", 1)[0]) else f"'{CATEGORY}'"
        raise Hint(f"{_describe(key)} still shows {what}: drop the pages of the {listing} listing too")
    gone = [k for k in scene.unrelated if scene.client.get(k) is None]
    if gone:
        raise Hint(f"you dropped unrelated pages too ({_describe(gone[0])}): hit ratio suffers")


def _keys_from(answer) -> list:
    if answer is None:
        raise NotDone("keys_to_invalidate returns None")
    if isinstance(answer, (str, bytes)):
        raise Hint("return a list of keys, not one string")
    try:
        keys = list(answer)
    except TypeError:
        raise Hint(f"return a list of keys, got {type(answer).__name__}") from None
    if any(not isinstance(k, (str, bytes)) for k in keys):
        raise Hint("every key should be a str (use news_page_key and news_item_key)")
    if any("*" in (k.decode() if isinstance(k, bytes) else k) for k in keys):
        raise Hint("DEL does not expand patterns: list the keys, or find them with r.scan_iter(match=...)")
    return keys


def _learner(fn: Callable, *args, label: str):
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotDone(f"{label} still raises NotImplementedError") from None
    except (Hint, NotDone):
        raise
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise Hint(f"{label} raised {type(exc).__name__}{': ' + text if text else ''}") from None


@check("Exercise 1: invalidate the right keys on save", "write keys_to_invalidate(item)")
def check_keys_to_invalidate(keys_to_invalidate) -> str:
    """Edit a title, then insert a new item; delete the keys returned; judge what stays cached."""
    from ..newsroom.pages import news_item_key

    with _rolled_back():
        item = _newest()
        scene = _scene(item)
        old_title = item.title
        item.title = f"{old_title} (corrigido)"
        item.save()
        keys = _keys_from(_learner(keys_to_invalidate, item, label="keys_to_invalidate"))
        if keys:
            scene.client.delete(*keys)
        elif all(scene.client.get(k) is None for k in scene.renders):
            raise Hint("keys_to_invalidate returned no keys but deleted everything itself: return the keys instead")
        else:
            raise Hint("keys_to_invalidate returned no keys: return the item's key and its list pages' keys")
        _judge(scene, news_item_key(item.pk), "the old title")
        dropped = len(keys)
    with _rolled_back():
        new = _new_item()
        scene = _scene(_newest())
        new.save()
        keys = _keys_from(_learner(keys_to_invalidate, new, label="keys_to_invalidate"))
        if keys:
            scene.client.delete(*keys)
        _judge(scene, news_item_key(new.pk), "the old list", shift=True)
    return f"after an edit and an insert no page is stale and '{UNRELATED}' stays cached ({dropped} keys dropped)"


def _connect(signal_name: str, receiver: Callable) -> Callable[[], None]:
    from django.db.models import signals

    from ..newsroom.models import NewsItem

    signal = getattr(signals, signal_name)
    uid = f"scalecode-check04-{signal_name}"
    signal.connect(receiver, sender=NewsItem, weak=False, dispatch_uid=uid)
    return lambda: signal.disconnect(sender=NewsItem, dispatch_uid=uid)


def _write(action: Callable[[], None], label: str) -> None:
    """Run a save/delete with the learner's receiver connected; on_commit callbacks run too."""
    from django.test import TestCase

    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            action()
    except NotImplementedError:
        raise NotDone(f"{label} still raises NotImplementedError") from None
    except (Hint, NotDone):
        raise
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        if "DoesNotExist" in type(exc).__name__:
            hint = f"{label} raised {type(exc).__name__}: the item is gone, drop its page instead of rendering it"
            raise Hint(hint) from None
        raise Hint(f"{label} raised {type(exc).__name__}{': ' + text if text else ''}") from None


@check("Exercise 2: write-through on save", "write the post_save receiver on_news_saved(sender, instance, **kwargs)")
def check_write_through(on_news_saved) -> str:
    """After a save the item page is cached, fresh, with a TTL; the next read runs no query."""
    from ..newsroom.pages import cached_news_item, news_item_key, remote_database, render_news_item

    disconnect = _connect("post_save", on_news_saved)
    try:
        with _rolled_back():
            item = _newest()
            scene = _scene(item)
            item.title = f"{item.title} (atualizado)"
            _write(item.save, "on_news_saved")
            key = news_item_key(item.pk)
            cached = scene.client.get(key)
            if cached is None:
                raise Hint("after the save the item's page is not in Redis: write the fresh page (write-through)")
            if cached != render_news_item(item.pk):
                raise Hint("the item's page in Redis is not the fresh one: render it after the save, from the database")
            if scene.client.pttl(key) < 0:
                raise Hint("the page you wrote has no TTL: give it one, so a missed invalidation heals by itself")
            with remote_database(0) as db:
                html = cached_news_item(scene.client, item.pk)
            if db.queries or html != render_news_item(item.pk):
                raise Hint("the next read of the item was not a fresh hit: store the page under news_item_key(item.pk)")
            _judge(scene, key, "the old title")
        with _rolled_back():
            scene = _scene(_newest())
            new = _new_item()
            _write(new.save, "on_news_saved")
            if scene.client.get(news_item_key(new.pk)) is None:
                raise Hint("a newly created item's page was not written: handle created=True the same way")
            _judge(scene, news_item_key(new.pk), "the old list", shift=True)
    finally:
        disconnect()
    return "after a save the next read is a hit with the fresh page, and no list page is stale"


@check("Exercise 3: the delete case", "write the post_delete receiver on_news_deleted(sender, instance, **kwargs)")
def check_delete_case(on_news_deleted) -> str:
    """After a delete the item's page is gone and no list page still shows the deleted item."""
    from ..newsroom.pages import news_item_key

    disconnect = _connect("post_delete", on_news_deleted)
    try:
        with _rolled_back():
            item = _newest()
            scene = _scene(item)
            pk, title = item.pk, item.title
            _write(item.delete, "on_news_deleted")
            if scene.client.get(news_item_key(pk)) is not None:
                raise Hint("the deleted item's page is still cached, so readers can still open it: drop its key")
            _judge(scene, news_item_key(pk), f"the deleted item {title[:30]!r}", shift=True)
    finally:
        disconnect()
    return "the deleted item's page is gone, no list still shows it, and unrelated pages stay cached"
