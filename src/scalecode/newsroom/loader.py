"""Loads the committed data set (``data/newsroom/*.csv``) into the newsroom tables.

Idempotent: a checksum of the CSV files is stored in ``DatasetLoad``; when the tables
already hold that version, nothing happens. Otherwise the tables are emptied and
filled with ``bulk_create`` inside one transaction (a few seconds for ~20 000 rows).
Callers hold a cross-process lock (``setup_django`` does), so concurrent loads are safe.
"""

from __future__ import annotations

import csv
import hashlib
import time
from datetime import datetime
from pathlib import Path

from django.db import transaction

from ..config import data_dir

FILES = ("categories", "authors", "readers", "news", "comments")


def dataset_dir() -> Path:
    return data_dir() / "newsroom"


def dataset_checksum(folder: Path | None = None) -> str:
    """SHA-256 over the data set's CSV files (hex string)."""
    folder = folder or dataset_dir()
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((folder / f"{name}.csv").read_bytes())
    return digest.hexdigest()


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_newsroom(folder: Path | None = None, *, force: bool = False, verbose: bool = False) -> bool:
    """Fill the tables from ``folder`` (default ``data/newsroom``); returns True if it loaded.

    Raises ``FileNotFoundError`` naming the missing CSV file.
    """
    from .models import Author, Category, Comment, DatasetLoad, NewsItem, Reader

    folder = folder or dataset_dir()
    for name in FILES:
        if not (folder / f"{name}.csv").exists():
            raise FileNotFoundError(
                f"{folder / name}.csv is missing: regenerate the data set with python data/make_data.py"
            )
    checksum = dataset_checksum(folder)
    current = DatasetLoad.objects.filter(name="newsroom").values_list("checksum", flat=True).first()
    if current == checksum and not force:
        return False
    started = time.perf_counter()
    when = datetime.fromisoformat
    with transaction.atomic():
        for model in (Comment, NewsItem, Reader, Author, Category):
            model.objects.all().delete()
        Category.objects.bulk_create(
            Category(id=int(r["id"]), name=r["name"], slug=r["slug"]) for r in _rows(folder, "categories")
        )
        Author.objects.bulk_create(
            Author(id=int(r["id"]), name=r["name"], email=r["email"]) for r in _rows(folder, "authors")
        )
        Reader.objects.bulk_create(
            Reader(id=int(r["id"]), name=r["name"], email=r["email"], subscribed=r["subscribed"] == "1")
            for r in _rows(folder, "readers")
        )
        NewsItem.objects.bulk_create(
            (
                NewsItem(
                    id=int(r["id"]),
                    title=r["title"],
                    slug=r["slug"],
                    category_id=int(r["category_id"]),
                    author_id=int(r["author_id"]),
                    published_at=when(r["published_at"]),
                    summary=r["summary"],
                    body=r["body"],
                )
                for r in _rows(folder, "news")
            ),
            batch_size=500,
        )
        Comment.objects.bulk_create(
            (
                Comment(
                    id=int(r["id"]),
                    news_id=int(r["news_id"]),
                    reader_id=int(r["reader_id"]),
                    text=r["text"],
                    created_at=when(r["created_at"]),
                )
                for r in _rows(folder, "comments")
            ),
            batch_size=1000,
        )
        _reset_sequences()
        DatasetLoad.objects.update_or_create(name="newsroom", defaults={"checksum": checksum})
    if verbose:
        print(f"loaded the newsroom data set in {time.perf_counter() - started:.1f} s")
    return True


def _reset_sequences() -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection

    from .models import Author, Category, Comment, NewsItem, Reader

    statements = connection.ops.sequence_reset_sql(no_style(), [Category, Author, Reader, NewsItem, Comment])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
