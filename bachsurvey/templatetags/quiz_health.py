"""``{% quiz_health as pool %}``: the live pool's health for the admin's front page."""

from __future__ import annotations

from django import template

from bachsurvey.quiz.health import Health, health

register = template.Library()


@register.simple_tag
def quiz_health() -> Health:
    return health()
