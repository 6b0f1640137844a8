"""Enumerate the URLconf so that access tests cover every view, including the ones added later."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, for reverse()
    route: str  # the whole pattern text, for messages
    callback: object
    kwargs: tuple[str, ...]

    @property
    def is_workspace_scoped(self) -> bool:
        return "workspace_slug" in self.kwargs


def _kwarg_names(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    return list(pattern.regex.groupindex)


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str, kwargs: list[str]):
        for entry in patterns:
            text = prefix + str(entry.pattern)
            names = kwargs + _kwarg_names(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, text, ns, names)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}{entry.name}" if entry.name else ""
                routes.append(Route(name=name, route=text, callback=entry.callback, kwargs=tuple(names)))

    walk(get_resolver().url_patterns, "", "", [])
    return routes


def workspace_routes() -> list[Route]:
    return [r for r in all_routes() if r.is_workspace_scoped]
