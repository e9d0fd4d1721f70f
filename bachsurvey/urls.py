from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bachsurvey import api_docs, readiness, translations
from bachsurvey.consent import views as consent_views
from bachsurvey.harmonize import api as harmonize_api
from bachsurvey.harmonize import views as harmonize_views
from bachsurvey.logins.forms import (
    LockoutAdminAuthenticationForm,
    LockoutAuthenticationForm,
    refuse_locked_out,
)
from bachsurvey.quiz import api, clip_urls, views
from bachsurvey.research import api as research_api
from bachsurvey.research import public as research_public
from bachsurvey.research import views as research_views

# Both login pages lock out a user name at an address after repeated failures (bachsurvey.logins).
admin.site.login_form = LockoutAdminAuthenticationForm

# A database error outside a view (e.g. saving the session) is a 503 too, not a 500.
handler500 = "bachsurvey.db_outage.server_error"
# JSON under /api/ (a participant id that is not a UUID matches no route), the usual page elsewhere.
handler404 = "bachsurvey.quiz.api.not_found"

urlpatterns = [
    path("", views.quiz, name="quiz"),
    path("results/", research_public.public_results, name="public-results"),
    path("healthz", views.healthz, name="healthz"),
    # The language switcher (POST to set_language: the cookie) and the scripts' catalog.
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", translations.javascript_catalog, name="javascript-catalog"),
    # The study as participants read it, and withdrawing by code from any device.
    path("about/", consent_views.about, name="about"),
    path("withdraw/", consent_views.withdraw, name="withdraw-by-code"),
    # Readiness: database, cache, broker (when set) and media, each tried (bachsurvey.readiness).
    path("readyz", readiness.readyz, name="readyz"),
    # Before the admin's own URLs, so that its login page answers 429 while locked out.
    path("admin/login/", refuse_locked_out(admin.site.login)),
    path("admin/", admin.site.urls),
    # The schema (YAML for tools, text for a browser) and the reference page written from it.
    path("api/schema/", api_docs.SchemaView.as_view(), name="schema"),
    path("api/docs/", api_docs.api_docs, name="api-docs"),
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
        "api/participants/<uuid:participant_id>/again/",
        api.PlayAgainApi.as_view(),
        name="play-again",
    ),
    path(
        "api/participants/<uuid:participant_id>/withdraw/",
        api.WithdrawApi.as_view(),
        name="withdraw",
    ),
    # A participant's clips and scores, by URLs of their own (bachsurvey.quiz.clip_urls), and the
    # stored files for staff (the admin's review pages); both with HTTP Range.
    path(clip_urls.URL_PREFIX.strip("/") + "/<str:token>", views.assignment_media, name="clip"),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.media, name="media"),
    # The public harmonizer: the page, its API, and each result's files by its random id.
    path("harmonize/", harmonize_views.page, name="harmonize"),
    path(
        "harmonize/<uuid:harmonization_id>/<str:kind>",
        harmonize_views.result_file,
        name="harmonization-file",
    ),
    path(
        "api/harmonizations/",
        harmonize_api.HarmonizationCreateApi.as_view(),
        name="harmonizations",
    ),
    path(
        "api/harmonizations/<uuid:harmonization_id>/",
        harmonize_api.HarmonizationDetailApi.as_view(),
        name="harmonization",
    ),
    # Researchers: the dashboard (session login) and the results API (token or session).
    path("research/", research_views.dashboard, name="research"),
    path("research/plots/<slug:name>.<slug:fmt>", research_views.plot_file, name="research-plot"),
    path(
        "accounts/login/",
        refuse_locked_out(
            auth_views.LoginView.as_view(
                template_name="research/login.html",
                authentication_form=LockoutAuthenticationForm,
                next_page="research",
                redirect_authenticated_user=True,
            )
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("api/results/summary/", research_api.SummaryApi.as_view(), name="results-summary"),
    path("api/results/items/", research_api.ItemsApi.as_view(), name="results-items"),
    path("api/results/codebook/", research_api.CodebookApi.as_view(), name="results-codebook"),
    path(
        "api/results/answers.csv", research_api.AnswersCsvApi.as_view(), name="results-answers-csv"
    ),
    path(
        "api/results/answers.json",
        research_api.AnswersJsonApi.as_view(),
        name="results-answers-json",
    ),
]
