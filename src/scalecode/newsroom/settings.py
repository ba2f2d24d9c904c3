"""Django settings of the newsroom app (a development setup, loopback only).

The database comes from ``scalecode.backends.database``: SQLite by default, PostgreSQL
when ``DATABASE_URL`` is set and reachable.
"""

from scalecode.backends.database import database_backend

SECRET_KEY = "workshop-only-not-secret"  # noqa: S105 - never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = ["scalecode.newsroom"]
MIDDLEWARE: list[str] = []
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
