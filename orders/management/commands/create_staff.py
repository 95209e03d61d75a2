import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders.ids import parse_public_id
from orders.models import Store, StoreMembership


class Command(BaseCommand):
    help = (
        "Create a staff login for one store's admin (or add an existing user to the store). "
        "Prints the password when it generated one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="The store's id (str_…)")
        parser.add_argument("--email", required=True, help="Also the username")
        parser.add_argument("--password", help="Default: a generated one, printed once")
        parser.add_argument("--role", choices=StoreMembership.Role.values, default="staff")

    @transaction.atomic
    def handle(self, *args, store: str, email: str, password: str | None, role: str, **options):
        try:
            found = Store.objects.filter(pk=parse_public_id(Store.PUBLIC_ID_PREFIX, store)).first()
        except ValueError:
            found = None
        if found is None:
            raise CommandError(f"No store '{store}'. Store ids look like str_0193…")
        email = email.strip().lower()
        if "@" not in email:
            raise CommandError(f"'{email}' is not an email address.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=email, defaults={"email": email, "is_staff": True}
        )
        generated = None
        if created or password:
            generated = None if password else secrets.token_urlsafe(12)
            user.set_password(password or generated)
        user.is_staff = True
        user.save()
        StoreMembership.objects.update_or_create(store=found, user=user, defaults={"role": role})
        self.stdout.write(f"{email} can now sign in to the admin for {found.name}.")
        if generated:
            self.stdout.write(f"Password (shown once): {generated}")
