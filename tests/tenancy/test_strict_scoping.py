"""Only equality with one workspace scopes a query; a filter that merely mentions `workspace` does not.

Every probe below used to return several tenants' rows (any keyword starting with `workspace` counted as
scoped). Each test makes two workspaces with a row each, so a query that leaked would see both.
"""

import pytest
from django.db.models import F, Q

from apps.syncs.models import Sync, SyncRun
from apps.tenancy.models import Workspace
from apps.tenancy.scoping import UnscopedQueryError, every_workspace_unsafe
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs():
    """A run (and its sync) in each of two workspaces."""
    return SyncRunFactory(), SyncRunFactory()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace__isnull=False), id="workspace__isnull"),
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace__in=[a, b]), id="workspace__in"),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace_id__in=[a.pk, b.pk]), id="workspace_id__in"
        ),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace__name__startswith="W"),
            id="workspace__name__startswith",
        ),
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace__slug=a.slug), id="workspace__slug"),
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace_id__gte=0), id="workspace_id__gte"),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace__pk__in=[a.pk, b.pk]), id="workspace__pk__in"
        ),
        pytest.param(lambda a, b: SyncRun.objects.filter(Q(workspace=a) | Q(workspace=b)), id="Q-or"),
        pytest.param(lambda a, b: SyncRun.objects.filter(Q(workspace=a)), id="Q-alone"),
        pytest.param(lambda a, b: SyncRun.objects.exclude(workspace=a), id="exclude"),
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace=F("sync__workspace")), id="F-expression"),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace__in=Workspace.objects.all()),
            id="workspace__in-queryset",
        ),
        pytest.param(lambda a, b: SyncRun.objects.filter(workspace=None), id="workspace-None"),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace=a) | SyncRun.objects.filter(workspace=b),
            id="or-of-two",
        ),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace=a) | SyncRun.objects.all(), id="or-with-unscoped"
        ),
        pytest.param(
            lambda a, b: SyncRun.objects.filter(workspace=a).union(SyncRun.objects.filter(workspace=b)),
            id="union-of-two",
        ),
    ],
)
def test_a_query_that_can_match_several_workspaces_raises(two_runs, query):
    a, b = (run.workspace for run in two_runs)
    queryset = query(a, b)
    with pytest.raises(UnscopedQueryError, match="not scoped to a workspace"):
        list(queryset)
    with pytest.raises(UnscopedQueryError):
        queryset.count()


def test_the_issue_probes_raise_on_every_kind_of_evaluation(two_runs):
    a, b = (run.workspace for run in two_runs)
    probes = [
        SyncRun.objects.filter(workspace__isnull=False),
        SyncRun.objects.filter(workspace__in=[a, b]),
        SyncRun.objects.filter(workspace__name__startswith="W"),
    ]
    for probe in probes:
        for evaluate in (
            list,
            lambda qs: qs.exists(),
            lambda qs: qs.first(),
            lambda qs: qs.update(status="failed"),
        ):
            with pytest.raises(UnscopedQueryError):
                evaluate(probe)
        with pytest.raises(UnscopedQueryError):
            probe.delete()
    # Nothing was changed or deleted by the refused queries.
    with every_workspace_unsafe("test: check nothing changed"):
        assert sorted(SyncRun.objects.values_list("status", flat=True)) == ["succeeded", "succeeded"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda ws: SyncRun.objects.filter(workspace=ws), id="workspace=row"),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace=ws.pk), id="workspace=pk"),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace_id=ws.pk), id="workspace_id="),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace_id=str(ws.pk)), id="workspace_id=str"),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace__pk=ws.pk), id="workspace__pk="),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace__id=ws.pk), id="workspace__id="),
        pytest.param(lambda ws: SyncRun.objects.filter(workspace__exact=ws), id="workspace__exact="),
        pytest.param(lambda ws: SyncRun.objects.for_workspace(ws), id="for_workspace"),
        pytest.param(lambda ws: SyncRun.objects.for_workspace(ws.pk), id="for_workspace-id"),
        pytest.param(
            lambda ws: SyncRun.objects.filter(workspace=ws, status__in=["succeeded", "failed"]),
            id="with-more-filters",
        ),
        pytest.param(
            lambda ws: SyncRun.objects.filter(workspace=ws).exclude(status="failed"), id="then-exclude"
        ),
        pytest.param(
            lambda ws: SyncRun.objects.filter(Q(status="succeeded"), workspace=ws), id="Q-and-keyword"
        ),
        pytest.param(
            lambda ws: SyncRun.objects.filter(workspace=ws) | SyncRun.objects.filter(workspace_id=ws.pk),
            id="or-same-workspace",
        ),
    ],
)
def test_equality_with_one_workspace_scopes_the_query_to_it(two_runs, query):
    run = two_runs[0]
    assert list(query(run.workspace)) == [run]
    assert query(run.workspace).count() == 1


def test_get_with_a_workspace_is_scoped(two_runs):
    run = two_runs[1]
    assert SyncRun.objects.get(workspace=run.workspace, pk=run.pk) == run
    with pytest.raises(SyncRun.DoesNotExist):
        SyncRun.objects.get(workspace=two_runs[0].workspace, pk=run.pk)
    with pytest.raises(UnscopedQueryError):
        SyncRun.objects.get(pk=run.pk)


def test_rows_reached_through_a_parent_are_scoped_by_it(two_runs):
    run = two_runs[0]
    sync = run.sync
    assert list(sync.runs.all()) == [run]
    assert sync.runs.filter(status="succeeded").count() == 1
    assert list(sync.model.syncs.all()) == [sync]
    assert list(Sync.objects.for_workspace(run.workspace).prefetch_related("runs")[0].runs.all()) == [run]


def test_the_loud_bypasses_still_cross_workspaces(two_runs):
    assert SyncRun.objects.across_all_workspaces_unsafe().count() == 2
    assert SyncRun.objects.across_all_workspaces_unsafe().filter(status="succeeded").count() == 2
    with every_workspace_unsafe("test: like dumpdata"):
        assert len(list(SyncRun.objects.all())) == 2
        assert SyncRun.objects.filter(workspace__isnull=False).count() == 2
    with pytest.raises(UnscopedQueryError):
        list(SyncRun.objects.all())
