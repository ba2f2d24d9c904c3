"""The newsroom's data model: categories, authors, readers, news items and comments."""

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(unique=True)

    def __str__(self) -> str:
        return self.name


class Reader(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(unique=True)
    subscribed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class NewsItem(models.Model):
    """One article (the talks' ``Noticia``)."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="news")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="news")
    published_at = models.DateTimeField(db_index=True)
    summary = models.TextField()
    body = models.TextField()

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    news = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="comments")
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class DatasetLoad(models.Model):
    """Which version (checksum) of ``data/newsroom`` the tables hold, so loading runs once."""

    name = models.CharField(max_length=60, unique=True)
    checksum = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)


class PageView(models.Model):
    """One page-view event (module 10: writes under load), written in batches by a worker.

    ``event_id`` is the idempotency key: the producer gives every event a unique id, so
    a batch replayed after a worker crash inserts nothing twice
    (``bulk_create(..., ignore_conflicts=True)``). ``news_id`` and ``reader_id`` are plain
    integers, not foreign keys, so an event log never blocks or cascades with the newsroom's
    own tables.
    """

    event_id = models.CharField(max_length=64, unique=True)
    news_id = models.IntegerField(db_index=True)
    reader_id = models.IntegerField(null=True, blank=True)
    viewed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"view {self.event_id} of news {self.news_id}"
