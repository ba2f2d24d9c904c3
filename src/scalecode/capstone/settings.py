"""Django settings of the capstone: the newsroom's, with the capstone's URLs and a remote database.

``CAPSTONE_EXTERNAL_URL`` (the external service) and ``CAPSTONE_DB_ROUND_TRIP_S`` (seconds
per query) come from the environment; ``scalecode.capstone.serve`` sets them.
"""

import os

from scalecode.newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "scalecode.capstone.urls"
MIDDLEWARE = ["scalecode.capstone.app.RemoteDatabaseMiddleware"]
CAPSTONE_EXTERNAL_URL = os.environ.get("CAPSTONE_EXTERNAL_URL", "")
CAPSTONE_DB_ROUND_TRIP_S = float(os.environ.get("CAPSTONE_DB_ROUND_TRIP_S", "0.002"))
# Persistent database connections: each gunicorn worker keeps its connection between
# requests instead of opening one per request (Django docs, "Persistent connections").
DATABASES = {"default": {**DATABASES["default"], "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}}  # noqa: F405
