"""Make USERNAME a researcher (creating the user if needed) and print their API token.

    python manage.py create_researcher alice               # token only: no password, no login page
    python manage.py create_researcher alice --password    # asks for a password (twice)
    python manage.py create_researcher alice --password S  # sets it (visible in shell history)

Running it again for the same user changes nothing and prints the same token; an existing
user keeps their password unless --password is given, and a deactivated one is reactivated
(naming them here is taken as the decision to let them in).
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from bachsurvey.research.role import RESEARCHER_GROUP, researcher_group

PROMPT = object()  # --password given without a value


class Command(BaseCommand):
    help = "Create a researcher (or add an existing user to the researcher group); print the token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--password",
            nargs="?",
            const=PROMPT,
            default=None,
            help="set a password for the dashboard login; without a value, ask for it",
        )
        parser.add_argument("--email", default="", help="for a new user")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        if not username:
            raise CommandError("The username must not be empty.")
        password = options["password"]
        if password is PROMPT:
            password = self._ask_password()
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model._default_manager.get_or_create(
                **{user_model.USERNAME_FIELD: username},
                defaults={"email": options["email"]} if hasattr(user_model, "email") else {},
            )
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as error:
                    raise CommandError("; ".join(error.messages)) from None
                user.set_password(password)
            elif created:
                user.set_unusable_password()  # token only, until a password is set
            user.is_active = True
            user.save()
            user.groups.add(researcher_group())
            token, _ = Token.objects.get_or_create(user=user)
        what = "Created user" if created else "Existing user"
        self.stderr.write(f"{what} {username!r} is in the {RESEARCHER_GROUP!r} group.")
        if password is None and created:
            self.stderr.write("No password set: API token only (run again with --password).")
        self.stdout.write(token.key)

    def _ask_password(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
