from django.apps import AppConfig


class BachsurveyConfig(AppConfig):
    name = "bachsurvey"
    verbose_name = "Bach or Bot survey"
