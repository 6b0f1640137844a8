"""The Content-Security-Policy header (django-csp), with one addition the settings cannot make statically.

The policy itself is CONTENT_SECURITY_POLICY in config/settings/base.py. Connecting Intercom posts a form
whose answer redirects to Intercom's consent page, and browsers check a form's redirects against
form-action too: the Intercom hosts (settings that the emulator replaces in development and tests) are
added to it on every response.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        consent_hosts = sorted({_origin(url) for url in settings.INTERCOM_APP_BASE_URLS.values()})
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), *consent_hosts]
        parts.update = update
        return parts
