"""Intercom's data host regions, as users meet them: which host was tried, where to check the region, and
which region an access token really belongs to.

A token only works on its own region's host: elsewhere Intercom answers 401, exactly as for a revoked
token. So before telling someone to reconnect, Syncline asks the other regions; when one of them accepts
the token, the region is what is wrong, and the message says to check it instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from apps.connections.intercom.client import AuthFailure, TransientFailure
from apps.connections.intercom.oauth import REGIONS, fetch_me

# The address each region's workspaces open Intercom at: the quickest way for a user to tell their region.
APP_HOSTS = {"US": "app.intercom.com", "EU": "app.eu.intercom.com", "AU": "app.au.intercom.com"}

WHERE_TO_CHECK = (
    "Check your Intercom workspace's data host region: in Intercom, Settings → Workspace → General → "
    "Data hosting region; or look at the address you open Intercom at: app.intercom.com is US, "
    "app.eu.intercom.com is EU, app.au.intercom.com is AU."
)


def api_host(region: str) -> str:
    """The API host Syncline calls for a region (api.eu.intercom.io; the emulator's address in tests)."""
    url = urlsplit(settings.INTERCOM_API_BASE_URLS[region])
    return (url.netloc + url.path).rstrip("/")


def region_accepting(token: str, *, besides: str) -> str | None:
    """The other region whose host accepts `token`, or None (refused everywhere, or Intercom did not answer)."""
    for region in REGIONS:
        if region == besides:
            continue
        try:
            fetch_me(region=region, token=token)
        except AuthFailure:
            continue
        except TransientFailure:
            return None
        return region
    return None


def wrong_region_message(*, name: str, tried: str, accepted: str) -> str:
    return (
        f"Intercom refused the access token of {name} in the {tried} region ({api_host(tried)}) but accepts "
        f"it in {accepted} ({api_host(accepted)}): check the data host region, and set the connection's "
        f"region to {accepted} on its page. {WHERE_TO_CHECK}"
    )
