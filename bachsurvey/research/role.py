"""Who may see the results: the Django group "researcher" (created by a data migration;
``create_researcher`` adds people to it)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

RESEARCHER_GROUP = "researcher"


def researcher_group() -> Group:
    """The group, created if missing (a flushed test database has lost the migration's row)."""
    return Group.objects.get_or_create(name=RESEARCHER_GROUP)[0]


def is_researcher(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=RESEARCHER_GROUP).exists()
