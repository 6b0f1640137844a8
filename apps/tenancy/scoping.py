"""Workspace scoping that fails closed.

Every tenant-owned model inherits `WorkspaceOwnedModel`. Its default manager refuses to run a query that
is not narrowed to a workspace: `Sync.objects.all()` raises `UnscopedQueryError` when evaluated, while
`Sync.objects.for_workspace(ws)` runs. Only equality with one workspace scopes a query: `workspace=`,
`workspace_id=`, `workspace__pk=` or `workspace__id=` given one workspace (a row or its id) as a keyword of
`filter()`/`get()`. Anything that can match several tenants (`workspace__in`, `workspace__isnull`,
`workspace__name__startswith`, a `Q` object, `exclude()`, an `F()`/subquery value, `|` of two workspaces)
does not, and the query raises. Rows reached from a parent row (`sync.runs.all()`,
`user.memberships.all()`) are scoped by that parent. System code that really must
cross tenants says so with `across_all_workspaces_unsafe()`, or, for a whole command that reads or writes
every tenant's rows through Django's own machinery (dumpdata, loaddata), with the block
`every_workspace_unsafe(reason)`.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from django.db import models


class UnscopedQueryError(RuntimeError):
    pass


# Keyword lookups that compare the workspace for equality (an optional `__exact` is stripped first).
_WORKSPACE_EQUALITY_LOOKUPS = {"workspace", "workspace_id", "workspace__pk", "workspace__id"}

# The scope of a query that used the loud bypass.
_EVERY_WORKSPACE = ("every workspace",)


def _one_workspace(value: object) -> str | None:
    """The key of the single workspace `value` names (a saved row or a plain id), else None. Lists,
    querysets, expressions (F, OuterRef, Subquery) and None can stand for several tenants or none."""
    if isinstance(value, models.Model):
        return None if value.pk is None else str(value.pk)
    if isinstance(value, int | str | UUID) and not isinstance(value, bool):
        return str(value)
    return None


def _workspace_scope_of(kwargs: Mapping[str, Any]) -> tuple | None:
    for lookup, value in kwargs.items():
        if lookup.removesuffix("__exact") in _WORKSPACE_EQUALITY_LOOKUPS:
            workspace = _one_workspace(value)
            if workspace is not None:
                return ("workspace", workspace)
    return None


# Why scoping is off in this thread or task right now (None: it is on). A context variable, so a block in
# one thread never opens another thread's queries.
_unscoped_because: ContextVar[str | None] = ContextVar("unscoped_because", default=None)


@contextmanager
def every_workspace_unsafe(reason: str) -> Iterator[None]:
    """Turn scoping off inside the block, for code that cannot call across_all_workspaces_unsafe() on each
    query because Django's machinery makes the queries (dumpdata, loaddata). Never for request handling."""
    token = _unscoped_because.set(reason)
    try:
        yield
    finally:
        _unscoped_because.reset(token)


_M = TypeVar("_M", bound=models.Model)


class WorkspaceScopedQuerySet(models.QuerySet[_M]):
    # What narrows the rows to one tenant: None (nothing; evaluating raises), ("workspace", pk),
    # ("parent", model label, pk) for a related manager's rows, or _EVERY_WORKSPACE after the bypass.
    # Kept as a value, not a flag, so `a | b` stays scoped only when both sides have the same scope.
    _workspace_scope: tuple | None = None

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]  # django-stubs leaves out QuerySet's private _clone
        clone._workspace_scope = self._workspace_scope
        return clone

    def _with_scope(self, scope: tuple | None) -> Self:
        clone: Self = self._chain()  # type: ignore[attr-defined]  # nor its private _chain
        clone._workspace_scope = scope
        return clone

    def for_workspace(self, workspace: models.Model | int | str | UUID) -> Self:
        return self.filter(workspace=workspace)

    def across_all_workspaces_unsafe(self) -> Self:
        """Every tenant's rows. Only for system work (admin, the run reaper, key rotation)."""
        return self._with_scope(_EVERY_WORKSPACE)

    def filter(self, *args: Any, **kwargs: Any) -> Self:
        # Only keywords can scope: a Q object may OR two workspaces together. exclude() never scopes.
        queryset = super().filter(*args, **kwargs)
        scope = _workspace_scope_of(kwargs)
        if scope is not None:
            queryset._workspace_scope = scope
        return queryset

    def _same_scope(self, others: Iterable[object]) -> tuple | None:
        """The scope of a union: the one every part shares, else none (it could span tenants)."""
        scopes = {self._workspace_scope} | {getattr(other, "_workspace_scope", None) for other in others}
        return scopes.pop() if len(scopes) == 1 else None

    def __or__(self, other: models.QuerySet[_M]) -> Self:
        combined = super().__or__(other)
        if isinstance(combined, WorkspaceScopedQuerySet):
            combined._workspace_scope = self._same_scope([other])
        return combined

    def __xor__(self, other: models.QuerySet[_M]) -> Self:
        combined: Self = super().__xor__(other)  # type: ignore[misc]  # the stubs lack Django 4.1's QuerySet.__xor__
        if isinstance(combined, WorkspaceScopedQuerySet):
            combined._workspace_scope = self._same_scope([other])
        return combined

    def union(self, *other_qs: models.QuerySet[Any], all: bool = False) -> Self:
        combined = super().union(*other_qs, all=all)
        if isinstance(combined, WorkspaceScopedQuerySet):
            combined._workspace_scope = self._same_scope(other_qs)
        return combined

    def _require_scope(self) -> None:
        if self._workspace_scope is None and _unscoped_because.get() is None:
            raise UnscopedQueryError(
                f"Query on {self.model.__name__} is not scoped to a workspace. Use "
                f".for_workspace(workspace), or across_all_workspaces_unsafe() for system work."
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Iterator[_M]:
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()


_ScopedManager = models.Manager.from_queryset(WorkspaceScopedQuerySet)


class WorkspaceScopedManager(_ScopedManager[_M]):
    def get_queryset(self) -> WorkspaceScopedQuerySet[_M]:
        # The stubs type the generated manager's queryset as a plain QuerySet; it is this class.
        queryset = cast("WorkspaceScopedQuerySet[_M]", super().get_queryset())
        # Related managers (`sync.runs`) carry the parent row as `instance`; their rows are the parent's.
        instance = getattr(self, "instance", None)
        if instance is not None:
            queryset._workspace_scope = ("parent", instance._meta.label, instance.pk)
        return queryset


class WorkspaceOwnedModel(models.Model):
    """Base of every tenant-owned table: a non-null workspace and a manager that fails closed."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceScopedManager()

    class Meta:
        abstract = True
