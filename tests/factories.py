import factory
from django.utils import timezone

from apps.tenancy.models import Membership, Role, User, Workspace

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member of one workspace; the user and the workspace are created with it unless given."""

    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class SourceConnectionFactory(factory.django.DjangoModelFactory):
    """A DuckDB source by default; pass type/config/credentials for another."""

    class Meta:
        model = "connections.Connection"

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = "source"
    type = "duckdb"
    config = factory.LazyFunction(dict)
    credentials = factory.LazyFunction(dict)
    status = "connected"


class SqlModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sql_models.SqlModel"

    workspace = factory.SubFactory(WorkspaceFactory)
    source = factory.SubFactory(SourceConnectionFactory, workspace=factory.SelfAttribute("..workspace"))
    name = factory.Sequence(lambda n: f"Model {n}")
    sql = "SELECT 1 AS id"
    primary_key = "id"
    columns = factory.LazyFunction(lambda: [{"name": "id", "db_type": "INTEGER", "kind": "integer"}])


class IntercomConnectionFactory(factory.django.DjangoModelFactory):
    """An Intercom destination; pass `credentials={"access_token": …}` and a region from the emulator."""

    class Meta:
        model = "connections.Connection"

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Intercom {n}")
    kind = "destination"
    type = "intercom"
    config = factory.LazyFunction(lambda: {"region": "US", "workspace_id": "abc", "workspace_name": "Acme"})
    credentials = factory.LazyFunction(lambda: {"access_token": "token-of-the-factory"})
    status = "connected"


class SyncFactory(factory.django.DjangoModelFactory):
    """A Company "Update or Create" sync keyed by the model's `id`, with its model and destination in the
    same workspace (saved as is: use `tests.fixtures.syncs.make_sync` for a validated, runnable one)."""

    class Meta:
        model = "syncs.Sync"

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Sync {n}")
    model = factory.SubFactory(SqlModelFactory, workspace=factory.SelfAttribute("..workspace"))
    destination = factory.SubFactory(
        IntercomConnectionFactory, workspace=factory.SelfAttribute("..workspace")
    )
    object_key = "company"
    behavior = "upsert"
    key_column = "id"
    key_identifier = "company_id"
    mappings = factory.LazyFunction(list)
    options = factory.LazyFunction(dict)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncs.SyncRun"

    workspace = factory.SubFactory(WorkspaceFactory)
    sync = factory.SubFactory(SyncFactory, workspace=factory.SelfAttribute("..workspace"))
    status = "succeeded"
    trigger = "manual"
    counts = factory.LazyFunction(lambda: {"source_rows": 1, "created": 1})


class DbtProjectFactory(factory.django.DjangoModelFactory):
    """A warehouse's dbt project, as a loaded manifest left it (tests/models/dbt_manifests.py writes real ones)."""

    class Meta:
        model = "sql_models.DbtProject"

    workspace = factory.SubFactory(WorkspaceFactory)
    source = factory.SubFactory(SourceConnectionFactory, workspace=factory.SelfAttribute("..workspace"))
    project_name = "jaffle_shop"
    schema_version = 12
    loaded_at = factory.LazyFunction(timezone.now)


class DbtModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sql_models.DbtModel"

    workspace = factory.SubFactory(WorkspaceFactory)
    project = factory.SubFactory(DbtProjectFactory, workspace=factory.SelfAttribute("..workspace"))
    unique_id = factory.Sequence(lambda n: f"model.jaffle_shop.model_{n}")
    name = factory.Sequence(lambda n: f"model_{n}")
    schema = "analytics"
    alias = factory.SelfAttribute("name")
