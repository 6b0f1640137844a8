import pytest

from apps.tenancy.models import Role
from tests.factories import MembershipFactory

pytest_plugins = [
    "tests.fixtures.celery",
    "tests.fixtures.emulator",
    "tests.fixtures.intercom_requests",
    "tests.fixtures.syncs",
    "tests.fixtures.fake_snowflake",
    "tests.fixtures.fake_bigquery",
    "tests.fixtures.fake_sheets",
]


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


@pytest.fixture(autouse=True)
def _fresh_log_context():
    """A run executed in the test's thread binds its fields to the log context: not into the next test."""
    from apps.common import logs

    logs.clear()
    yield
    logs.clear()


@pytest.fixture(scope="session")
def demo_duckdb(tmp_path_factory) -> str:
    """A small demo warehouse (DuckDB file) shared by the tests that only read it."""
    from apps.connections.demo_warehouse import write_demo_warehouse

    return str(write_demo_warehouse(tmp_path_factory.mktemp("warehouse") / "demo.duckdb", users=200))


@pytest.fixture
def eager_tasks():
    """Tasks run in-process when their transaction commits (the outbox then shows what was sent)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def pytest_collection_modifyitems(config, items):
    """On SQLite (the test command's second pass over the `embedded` tests) leave out the tests marked
    `postgres_only`, each of which must say why."""
    from django.conf import settings

    for item in items:
        marker = item.get_closest_marker("postgres_only")
        if marker and not (marker.kwargs.get("reason") or marker.args):
            raise pytest.UsageError(f"{item.nodeid}: postgres_only needs a reason")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    left_out = [item for item in items if item.get_closest_marker("postgres_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
