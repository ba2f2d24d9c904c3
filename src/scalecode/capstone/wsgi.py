"""WSGI entry point of the capstone (``gunicorn scalecode.capstone.wsgi:application``).

It does not migrate or load data: the notebook (``setup_django()``) has done that already.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalecode.capstone.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
