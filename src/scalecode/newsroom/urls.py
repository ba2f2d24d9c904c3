from django.urls import path

from . import cached_views, views

urlpatterns = [
    path("noticias/", views.news_list, name="news-list"),
    path("health/", views.health, name="health"),
    # module 05: Django's cache framework
    path("cache/noticias/", cached_views.news_list_cached, name="news-list-cached"),
    path("noticias/para-voce/", cached_views.front_page, name="front-page"),
    path("leitor/entrar/", cached_views.reader_login, name="reader-login"),
    path("leitor/sair/", cached_views.reader_logout, name="reader-logout"),
]
