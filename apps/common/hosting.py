"""The hosting mode (settings.HOSTING_MODE, README "Hosting mode"): who may share one installation, and so
what its users may point Syncline at.

- team: one organisation. Warehouses on private networks and on this machine are allowed, DuckDB files
  anywhere under the data folder (except other workspaces' upload folders), webhooks to private networks.
- shared: unrelated tenants. Warehouses and webhooks on public addresses only; DuckDB only as files
  uploaded into the workspace's own folder.
"""

from __future__ import annotations

import enum

from django.conf import settings


class HostingMode(enum.StrEnum):
    TEAM = "team"
    SHARED = "shared"


def hosting_mode() -> HostingMode:
    return HostingMode(settings.HOSTING_MODE)


def shared_hosting() -> bool:
    return hosting_mode() is HostingMode.SHARED
