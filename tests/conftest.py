import pytest

from apps.tenancy.models import Role
from tests.factories import MembershipFactory

pytest_plugins = ["tests.fixtures.celery"]


@pytest.fixture
def owner_membership(db):
    return MembershipFactory(role=Role.OWNER)


@pytest.fixture
def workspace(owner_membership):
    return owner_membership.workspace


@pytest.fixture
def owner(owner_membership):
    return owner_membership.user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def member_of(workspace, role):
    return MembershipFactory(workspace=workspace, role=role)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and other cached state must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
