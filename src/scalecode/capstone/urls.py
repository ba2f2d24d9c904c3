"""The capstone's URLs: ``/health/``, one front page per round (``/r0/`` … ``/r3/``), two exports."""

from django.urls import path

from . import app

urlpatterns = [
    path("health/", app.health, name="health"),
    *[
        path(r.path.strip("/") + "/", app.front_page_view(r.listing, r.trending, r.headline), name=f"round-{r.number}")
        for r in app.ROUNDS
    ],
    path("export/slow.csv", app.export_slow, name="export-slow"),
    path("export/stream.csv", app.export_streaming, name="export-stream"),
]
