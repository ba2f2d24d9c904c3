"""HTTP views of the newsroom (served by Django's test client or a loopback server)."""

from django.http import HttpRequest, HttpResponse

from .pages import render_news_page


def news_list(request: HttpRequest) -> HttpResponse:
    """``GET /noticias/?page=N&category=slug``: the talks' news list, rendered uncached."""
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return HttpResponse("page must be a whole number", status=400, content_type="text/plain")
    return HttpResponse(render_news_page(page, request.GET.get("category") or None))


def health(request: HttpRequest) -> HttpResponse:
    """``GET /health/``: answers ``ok`` (readiness probe for served apps)."""
    return HttpResponse("ok", content_type="text/plain")
