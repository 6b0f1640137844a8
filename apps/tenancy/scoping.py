"""Workspace scoping that fails closed.

Every tenant-owned model inherits `WorkspaceOwnedModel`. Its default manager refuses to run a query that
is not narrowed to a workspace: `Sync.objects.all()` raises `UnscopedQueryError` when evaluated, while
`Sync.objects.for_workspace(ws)` (or any filter on `workspace`) runs. Rows reached from a parent row
(`sync.runs.all()`, `user.memberships.all()`) are scoped by that parent. System code that really must
cross tenants says so with `across_all_workspaces_unsafe()`, or, for a whole command that reads or writes
every tenant's rows through Django's own machinery (dumpdata, loaddata), with the block
`every_workspace_unsafe(reason)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models


class UnscopedQueryError(RuntimeError):
    pass


_WORKSPACE_LOOKUPS = {"workspace", "workspace_id"}

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


class WorkspaceScopedQuerySet(models.QuerySet):
    _workspace_scoped = False

    def _clone(self):
        clone = super()._clone()
        clone._workspace_scoped = self._workspace_scoped
        return clone

    def _scoped(self):
        clone = self._chain()
        clone._workspace_scoped = True
        return clone

    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def across_all_workspaces_unsafe(self):
        """Every tenant's rows. Only for system work (admin, the run reaper, key rotation)."""
        return self._scoped()

    def filter(self, *args, **kwargs):
        queryset = super().filter(*args, **kwargs)
        if any(lookup.split("__", 1)[0] in _WORKSPACE_LOOKUPS for lookup in kwargs):
            queryset._workspace_scoped = True
        return queryset

    def _require_scope(self):
        if not self._workspace_scoped and _unscoped_because.get() is None:
            raise UnscopedQueryError(
                f"Query on {self.model.__name__} is not scoped to a workspace. Use "
                f".for_workspace(workspace), or across_all_workspaces_unsafe() for system work."
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self):
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()


class WorkspaceScopedManager(models.Manager.from_queryset(WorkspaceScopedQuerySet)):
    def get_queryset(self):
        queryset = super().get_queryset()
        # Related managers (`sync.runs`) carry the parent row as `instance`; their rows are the parent's.
        if getattr(self, "instance", None) is not None:
            queryset._workspace_scoped = True
        return queryset


class WorkspaceOwnedModel(models.Model):
    """Base of every tenant-owned table: a non-null workspace and a manager that fails closed."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceScopedManager()

    class Meta:
        abstract = True
