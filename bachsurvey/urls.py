from django.conf import settings
from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from bachsurvey import api, views

urlpatterns = [
    path("", views.quiz, name="quiz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/participants/", api.ParticipantCreateApi.as_view(), name="participants"),
    path(
        "api/participants/<uuid:participant_id>/",
        api.ParticipantDetailApi.as_view(),
        name="participant",
    ),
    path(
        "api/participants/<uuid:participant_id>/answers/",
        api.AnswerCreateApi.as_view(),
        name="answers",
    ),
    path(
        "api/participants/<uuid:participant_id>/withdraw/",
        api.WithdrawApi.as_view(),
        name="withdraw",
    ),
    # Rendered clips and scores, with HTTP Range (see views.media).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.media, name="media"),
]
