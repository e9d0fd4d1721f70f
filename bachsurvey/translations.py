"""The scripts' translations: Django's JavaScript catalog (/jsi18n/), English or German.

The quiz, consent and harmonizer scripts load it as an ordinary external script before their own
(the CSP allows only 'self' scripts; the catalog defines gettext, ngettext and interpolate
without eval). Only our own catalog (locale/<lang>/LC_MESSAGES/djangojs.mo) is sent, not the
admin's. The language is the request's (LocaleMiddleware: the switcher's cookie, else
Accept-Language), so a browser may keep the reply only as long as both stay the same.
"""

from __future__ import annotations

from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import JavaScriptCatalog

# An hour: a new deployment's strings reach a browser at most this late; a language switch
# changes the Cookie header, which the reply varies on, so it is fetched again at once.
CATALOG_SECONDS = 3600

javascript_catalog = require_safe(
    vary_on_headers("Accept-Language", "Cookie")(
        cache_control(private=True, max_age=CATALOG_SECONDS)(
            JavaScriptCatalog.as_view(packages=["bachsurvey"])
        )
    )
)
