import factory

from apps.alerts import signing
from apps.alerts.models import WebhookEndpoint, WebhookEvent
from tests.factories import WorkspaceFactory

SECRET = signing.new_secret()


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint saved as is (no URL check); every event; a known secret (SECRET)."""

    class Meta:
        model = WebhookEndpoint

    workspace = factory.SubFactory(WorkspaceFactory)
    url = "https://hooks.example.com/syncline"
    events = factory.LazyFunction(lambda: list(WebhookEvent.values))
    signing = factory.LazyFunction(lambda: {"secret": SECRET})
    secret_hint = SECRET[-4:]
