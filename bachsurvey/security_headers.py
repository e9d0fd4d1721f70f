"""Headers every page and every API reply carries (issue 19, item 5).

HTML pages get a Content-Security-Policy that allows no inline script and no inline style: the
quiz's script, the stylesheets, clips and scores all come from the site itself. The templates
hold no inline ``<script>`` (``json_script`` data blocks are not scripts: the browser never runs
them), no ``on*=`` handler and no ``style=`` attribute (tests/bachsurvey/test_security_headers.py
checks ours and Django's admin templates); the dashboard's inline SVG plots carry presentation
attributes instead of ``style=`` (bachsurvey.research.plots). Django 5.2's admin has no inline
script either; its one inline ``<style>`` (the change list of a model without actions) is allowed
on admin pages by its hash, read from Django's own template, so the admin's policy is only that
much looser. A response that has a policy of its own (clips and scores:
bachsurvey.quiz.clip_files) keeps it.

Every /api/ reply, and every HTML page that does not say otherwise, is ``Cache-Control:
no-store``: the browser's Back and Forward then ask the server again, instead of showing a
question the participant has already answered.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import django.contrib.admin
from django.http import HttpRequest, HttpResponse

ADMIN_TEMPLATES = Path(django.contrib.admin.__file__).parent / "templates"
# Django's admin templates with an inline <style> (a test finds every one of them).
ADMIN_INLINE_STYLES = ("admin/change_list.html",)


def _policy(style_src: str) -> str:
    return "; ".join(_DIRECTIVES).replace("style-src 'self'", f"style-src {style_src}")


def _style_hashes(templates: tuple[str, ...]) -> str:
    """CSP source expressions for the <style> elements of Django's admin ``templates``."""
    sources = []
    for name in templates:
        text = (ADMIN_TEMPLATES / name).read_text()
        for content in re.findall(r"<style>(.*?)</style>", text, re.DOTALL):
            digest = hashlib.sha256(content.encode()).digest()
            sources.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return " ".join(sources)


_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the quiz's empty placeholders and the favicon are data: URLs
    "media-src 'self' data:",  # the quiz unlocks audio with a tiny data: WAV of silence
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)
CONTENT_SECURITY_POLICY = _policy("'self'")
ADMIN_CONTENT_SECURITY_POLICY = _policy(f"'self' {_style_hashes(ADMIN_INLINE_STYLES)}")
NO_STORE = "no-store"


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "text/html"


class SecurityHeadersMiddleware:
    """Content-Security-Policy on HTML pages; Cache-Control: no-store on the API and pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        html = is_html(response)
        if html and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                ADMIN_CONTENT_SECURITY_POLICY
                if request.path.startswith("/admin/")
                else CONTENT_SECURITY_POLICY
            )
        if request.path.startswith("/api/"):
            # Keep a stricter value a view set itself (the export's "private, no-store").
            if NO_STORE not in response.get("Cache-Control", ""):
                response["Cache-Control"] = NO_STORE
        elif html and "Cache-Control" not in response:
            response["Cache-Control"] = NO_STORE
        return response
