"""Absolute links for messages read outside the app (emails, webhook bodies), from SYNCLINE_SITE_URL."""

from django.conf import settings
from django.urls import reverse


def absolute_url(name: str, *args) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def run_url(run) -> str:
    return absolute_url("run_detail", run.workspace.slug, run.pk)
