"""Optional error reporting to a Sentry-protocol service (Sentry, GlitchTip, ...): every
unhandled exception in a request or a Celery task, with its traceback, sent to
``ERROR_REPORTING_DSN`` when it is set. Nothing is sent when it is not (the default).

No personal data goes with a report (``send_default_pii=False``: no cookies, no user, no client
address), and no performance tracing: the logs and ADMINS' mails stay the primary record
(bachsurvey.observability), this is where an operator sees errors grouped and counted.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


def start_error_reporting(dsn: str | None, environment: str) -> bool:
    """Start the reporting client for ``dsn``; False (and nothing started) without one."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn as error:
        raise ImproperlyConfigured(
            f"ERROR_REPORTING_DSN must be a DSN like https://KEY@host/PROJECT: {error}"
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    return True
