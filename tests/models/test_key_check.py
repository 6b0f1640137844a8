"""The key check at save: one query over the whole result names the repeated and the missing keys as a
warning after the save (which still succeeds), escaped; a check that cannot run says so. On the real
PostgreSQL (the app's test database, SQL over VALUES) and on a DuckDB file with dirty rows."""

import duckdb
import pytest
from django.urls import reverse

from apps.models.models import SqlModel
from tests.factories import SourceConnectionFactory

DIRTY = [("b@x.com", "B"), ("<script>alert(1)</script>", "S"), (None, "N1"), ("Zoë 🚀", "Z"),
         ("b@x.com", "B2"), ("c@x.com", "C"), ("<script>alert(1)</script>", "S2"), (None, "N2"),
         ("Zoë 🚀", "Z2"), ("b@x.com", "B3")]  # fmt: skip


@pytest.fixture
def dirty_duck(workspace, tmp_path):
    path = str(tmp_path / "dirty.duckdb")
    with duckdb.connect(path) as conn:
        conn.execute("CREATE TABLE people (email VARCHAR, name VARCHAR)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", DIRTY)
        conn.execute("CREATE TABLE many AS SELECT range % 500 AS k FROM range(2000)")
    return SourceConnectionFactory(workspace=workspace, name="Dirty", type="duckdb", config={"path": path})


def save(client, workspace, source, sql, key, name="People"):
    data = {
        "name": name,
        "description": "",
        "source": source.pk,
        "sql": sql,
        "primary_key": key,
        "action": "save",
    }
    return client.post(reverse("model_create", args=[workspace.slug]), data, follow=True)


def warnings(response) -> list[str]:
    return [m.message for m in response.context["messages"] if m.level_tag == "warning"]


@pytest.mark.django_db
def test_repeated_and_missing_keys_are_named_after_the_save(owner_client, workspace, dirty_duck):
    response = save(owner_client, workspace, dirty_duck, "SELECT email, name FROM people", "email")
    assert response.status_code == 200
    assert SqlModel.objects.for_workspace(workspace).get(name="People").primary_key == "email"  # saved
    (warning,) = warnings(response)
    assert warning.startswith("Key check of “email”: 3 keys appear more than once: 'b@x.com' (3 rows), ")
    assert "'<script>alert(1)</script>' (2 rows)" in warning and "'Zoë 🚀' (2 rows)" in warning
    assert "; 2 rows have no key (NULL)." in warning
    assert "'c@x.com'" not in warning  # once only: not a problem
    html = response.content.decode()
    assert "&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; (2 rows)" in html  # shown as text
    assert "<script>alert(1)" not in html
    assert "flash-warning" in html and "Model “People” saved" in html


@pytest.mark.django_db
def test_at_most_ten_keys_are_named_and_the_others_counted(owner_client, workspace, dirty_duck):
    (warning,) = warnings(save(owner_client, workspace, dirty_duck, "SELECT k FROM many", "k"))
    assert warning.startswith("Key check of “k”: 500 keys appear more than once: ")
    assert warning.count("(4 rows)") == 10
    assert "and 490 others" in warning and "no key" not in warning


@pytest.mark.django_db
def test_a_unique_key_says_nothing(owner_client, workspace, dirty_duck):
    response = save(owner_client, workspace, dirty_duck, "SELECT name FROM people", "name")
    assert warnings(response) == []


@pytest.mark.django_db
def test_postgresql_keys_in_any_order_one_repeated_one_missing(owner_client, workspace, pg_source):
    sql = "SELECT * FROM (VALUES (3, 'c'), (NULL, 'n'), (1, 'a'), (3, 'c2'), (2, 'b')) AS t(id, name)"
    (warning,) = warnings(save(owner_client, workspace, pg_source, sql, "id"))
    assert warning == (
        "Key check of “id”: 1 key appears more than once: 3 (2 rows); 1 row has no key (NULL). Syncs skip "
        "these rows as invalid records: make the key unique and never empty, or choose another key column."
    )


@pytest.mark.django_db
def test_a_check_past_the_time_limit_says_it_could_not_run_and_the_model_is_saved(
    owner_client, workspace, pg_source
):
    # Describing the query does not run it; checking its keys does, and sleeps past the 2-second limit.
    sql = "SELECT id FROM (VALUES (1)) AS t(id) WHERE pg_sleep(5) IS NOT NULL"
    (warning,) = warnings(save(owner_client, workspace, pg_source, sql, "id"))
    assert warning.startswith("The model is saved, but its key check could not run: ")
    assert "cancelled after 2 seconds" in warning
    assert SqlModel.objects.for_workspace(workspace).filter(name="People").exists()


@pytest.mark.django_db
def test_a_key_that_is_not_a_column_is_refused_before_any_check(owner_client, workspace, dirty_duck):
    response = save(owner_client, workspace, dirty_duck, "SELECT email FROM people", "user_id")
    assert response.status_code == 422
    assert "“user_id” is not a column of this query" in response.content.decode()
    assert warnings(response) == []
    assert not SqlModel.objects.for_workspace(workspace).exists()
