"""The REST route table: path templates as the spec names them, matched without a framework router."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.intercom.store import State, Workspace


@dataclass
class Call:
    """What a handler gets: the authenticated workspace and the already validated input."""

    state: State
    workspace: Workspace
    app_key: str
    body: Any
    query: dict[str, str]
    params: dict[str, str]
    search_lag: float = 0.0
    deleted_hold: float = 0.0
    base_path: str = ""


Handler = Callable[[Call], tuple[int, Any]]


@dataclass
class Route:
    method: str
    template: str  # e.g. "/contacts/{contact_id}", exactly the spec's path key
    handler: Handler
    regex: re.Pattern = field(init=False)
    param_count: int = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        self.regex = re.compile(f"^{pattern}$")
        self.param_count = self.template.count("{")


class Router:
    def __init__(self, routes: list[Route]):
        self.routes = sorted(routes, key=lambda route: route.param_count)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """Return (route, path params, allowed methods); route is None for 404 (no allowed) or 405."""
        allowed: list[str] = []
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict(), []
            allowed.append(route.method)
        return None, {}, sorted(set(allowed))

    def operations(self) -> list[tuple[str, str]]:
        return [(route.method, route.template) for route in self.routes]
