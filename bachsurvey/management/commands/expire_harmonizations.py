from django.core.management.base import BaseCommand

from bachsurvey.harmonize.expiry import delete_expired


class Command(BaseCommand):
    help = "Delete harmonizations past HARMONIZATION_TTL_SECONDS, their files and rows."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"deleted {delete_expired()} expired harmonizations")
