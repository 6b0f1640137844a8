from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.tenancy import services
from apps.tenancy.models import Membership, Role, User, Workspace

DEMO_EMAIL = "demo@syncline.local"
DEMO_PASSWORD = "syncline-demo"  # noqa: S105 - printed by the run command; a local demo account only
DEMO_WORKSPACE = ("Demo", "demo")


class Command(BaseCommand):
    help = "Create the demo user and workspace (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        user, created = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"name": "Demo User"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        name, slug = DEMO_WORKSPACE
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            workspace = services.workspace_create(user=user, name=name, slug=slug)
        Membership.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, user=user, defaults={"role": Role.OWNER}
        )
        self.stdout.write(f"{DEMO_EMAIL} / {DEMO_PASSWORD} (workspace /w/{workspace.slug}/)")
