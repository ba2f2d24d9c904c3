from django.urls import path

from . import views

urlpatterns = [
    path("noticias/", views.news_list, name="news-list"),
    path("health/", views.health, name="health"),
]
