import pytest

from apps.tenancy.models import Invitation, Membership, Role
from apps.tenancy.scoping import UnscopedQueryError
from tests.factories import MembershipFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "evaluate",
    [
        lambda qs: list(qs),
        lambda qs: qs.count(),
        lambda qs: qs.exists(),
        lambda qs: qs.first(),
        lambda qs: qs.get(pk=1),
        lambda qs: list(qs.iterator()),
        lambda qs: qs.update(role="owner"),
        lambda qs: qs.delete(),
        lambda qs: qs.aggregate(),
        lambda qs: list(qs.filter(role="owner").order_by("pk")),
        lambda qs: list(qs.values_list("pk", flat=True)),
    ],
)
def test_an_unscoped_query_of_a_tenant_model_raises(evaluate):
    MembershipFactory()
    with pytest.raises(UnscopedQueryError, match="not scoped to a workspace"):
        evaluate(Membership.objects.all())


@pytest.mark.django_db
def test_scoped_queries_see_only_their_workspace():
    a, b = MembershipFactory(), MembershipFactory()
    assert list(Membership.objects.for_workspace(a.workspace)) == [a]
    assert list(Membership.objects.filter(workspace_id=b.workspace_id)) == [b]
    assert Membership.objects.filter(workspace__pk=a.workspace_id).count() == 1


@pytest.mark.django_db
def test_rows_reached_from_a_parent_row_are_scoped_by_it():
    a = MembershipFactory()
    assert list(a.user.memberships.all()) == [a]


@pytest.mark.django_db
def test_the_bypass_has_a_loud_name():
    MembershipFactory(), MembershipFactory()
    assert Membership.objects.across_all_workspaces_unsafe().count() == 2


def test_every_tenant_model_fails_closed():
    from django.apps import apps

    from apps.tenancy.scoping import WorkspaceOwnedModel, WorkspaceScopedManager

    tenant_models = [m for m in apps.get_models() if issubclass(m, WorkspaceOwnedModel)]
    assert {Membership, Invitation} <= set(tenant_models)
    for model in tenant_models:
        assert isinstance(model._default_manager, WorkspaceScopedManager), model
        field = model._meta.get_field("workspace")
        assert not field.null, model


@pytest.mark.django_db
def test_role_order():
    assert Role(Role.OWNER).at_least(Role.EDITOR)
    assert not Role(Role.VIEWER).at_least(Role.EDITOR)
