from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    name = "scalecode.newsroom"
    label = "newsroom"
    verbose_name = "Newsroom (the workshop's running example)"
    default_auto_field = "django.db.models.BigAutoField"
