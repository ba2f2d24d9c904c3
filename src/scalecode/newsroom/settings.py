"""Django settings of the newsroom app (a development setup, loopback only).

The database comes from ``scalecode.backends.database`` (SQLite by default, PostgreSQL
when ``DATABASE_URL`` is set and reachable) and the cache from
``scalecode.backends.django_cache`` (Django's RedisCache on ``REDIS_URL`` when set and
reachable, else on the embedded fakeredis that ``get_redis()`` uses; keys look like
``scalecode:1:<key>``).
"""

from scalecode.backends.database import database_backend
from scalecode.backends.django_cache import cache_settings

SECRET_KEY = "workshop-only-not-secret"  # noqa: S105 - never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# django.contrib.sessions is installed only so that module 05 can compare cache sessions
# with database sessions (its django_session table).
INSTALLED_APPS = ["scalecode.newsroom", "django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
ROOT_URLCONF = "scalecode.newsroom.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
DATABASES = {"default": database_backend().config}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "pt-br"
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = False
USE_TZ = True
# Pages of the news list (the talks' /noticias).
NEWS_PER_PAGE = 20

# Django's cache framework (module 05). Sessions live in the cache, not in the database
# (Iuri de Silvio, "Escalando para o imprevisível": "can't read from the database").
CACHES = cache_settings()
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
