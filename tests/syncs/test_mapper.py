"""The mapper of the sync wizard: suggestions by name and type, every custom attribute as a target, a custom
attribute created for a column in one click, type checks with the cast to use, and the event mapper."""

import pytest
from django.test import Client

from apps.connections.intercom.catalog import FieldType
from apps.syncs.engine.config import Option, Target
from apps.syncs.models import Sync
from apps.syncs.wizard import automap
from apps.syncs.wizard.typecheck import Verdict, cast_sql, check_pair
from tests.syncs.mapper_inputs import mapped
from tests.syncs.test_views import HTMX, answer, step_url, through_behavior, url

pytestmark = pytest.mark.django_db

PEOPLE_COLUMNS = [("id", "integer"), ("Email Address", "string"), ("user_id", "string"), ("full_name", "string"),
                  ("phone", "string"), ("created_at", "timestamp"), ("seats", "decimal"), ("plan", "string"),
                  ("company_id", "string"), ("score", "decimal"), ("notes", "json")]  # fmt: skip


def kinded(model, columns):
    model.columns = [{"name": n, "db_type": "", "kind": k} for n, k in columns]
    model.save()
    return model


@pytest.fixture
def people(warehouse):
    warehouse.table(
        "people",
        'id INTEGER, "Email Address" VARCHAR, user_id VARCHAR, full_name VARCHAR, phone VARCHAR, '
        "created_at TIMESTAMP, seats DECIMAL(10, 2), plan VARCHAR, company_id VARCHAR, score DECIMAL(10, 2), "
        "notes JSON",
        [(1, "ada@example.com", "u1", "Ada", "+44 1", "2024-01-02 03:04:05", 3.0, "pro", "c1", 9.5, "{}")],
    )
    return kinded(warehouse.model("SELECT * FROM people", "id", []), PEOPLE_COLUMNS)


def to_fields(client, workspace, model, destination, **kwargs):
    options = {"key_identifier": "external_id", "key_column": "user_id"} | kwargs
    through_behavior(client, workspace, model, destination, **options)
    return client.get(step_url(workspace, "fields"))


# --- suggestions --------------------------------------------------------------------------------------------


def test_suggestions_by_name_and_type_are_accepted_into_rows(owner_client, workspace, people, destination):
    form = to_fields(owner_client, workspace, people, destination).context["form"]
    suggested = {(s.column, s.slug) for s in form.suggestions}
    assert suggested == {
        ("Email Address", "std:email"),  # case, spaces and underscores do not matter
        ("full_name", "std:name"),
        ("phone", "std:phone"),
        ("created_at", "std:signed_up_at"),
        ("plan", "cus:plan"),  # an existing custom attribute
        ("seats", "cus:seats"),  # a decimal into an integer attribute: suggested, with its warning
        ("company_id", "company"),  # the contact's company
    }  # user_id is the sync key's column; score and notes fit nothing
    assert [r.blank for r in form.rows] == [True]  # one row to fill, beside the suggestions

    response = answer(owner_client, workspace, "fields", {"action": "accept:std:phone", "name": "People"})
    assert [(r.column, r.target_slug) for r in response.context["form"].rows] == [("phone", "std:phone")]
    data = dict(response.context["form"].name_form.data.items())
    response = answer(owner_client, workspace, "fields", data | {"action": "accept_all"}, headers=HTMX)
    form = response.context["form"]
    assert form.suggestions == []
    assert {(r.column, r.target_slug) for r in form.rows} == {
        ("phone", "std:phone"), ("Email Address", "std:email"), ("full_name", "std:name"),
        ("created_at", "std:signed_up_at"), ("plan", "cus:plan"), ("seats", "cus:seats"),
    }  # fmt: skip
    assert form.options["company_id_column"].value() == "company_id"
    seats = next(r for r in form.rows if r.column == "seats")
    assert seats.check.verdict is Verdict.WARNING and seats.check.cast == "CAST(ROUND(seats) AS BIGINT)"
    html = response.content.decode()
    assert '<code class="cast">CAST(ROUND(seats) AS BIGINT)</code>' in html and "type warning" in html

    # A warning does not stop the sync: values with a fraction are invalid records at run time.
    data = dict(response.context["form"].name_form.data.items()) | {"action": "next"}
    assert answer(owner_client, workspace, "fields", data).status_code == 302
    answer(owner_client, workspace, "preview", {"action": "schedule"})
    sync = Sync.objects.for_workspace(workspace).get()
    assert {(m["target"], m["column"], m["field_type"]) for m in sync.mappings} == {
        ("phone", "phone", "string"), ("email", "Email Address", "string"), ("name", "full_name", "string"),
        ("signed_up_at", "created_at", "date"), ("plan", "plan", "string"), ("seats", "seats", "integer"),
    }  # fmt: skip
    assert sync.options == {"company_id_column": "company_id"}


def test_a_json_column_is_never_suggested_and_its_pair_is_refused_with_a_cast(
    owner_client, workspace, people, destination
):
    to_fields(owner_client, workspace, people, destination)
    response = answer(owner_client, workspace, "fields", mapped(("std:name", "notes"), name="People"))
    assert response.status_code == 422
    row = response.context["form"].rows[0]
    assert row.check.verdict is Verdict.ERROR and row.check.cast == "CAST(notes AS TEXT)"
    assert "“notes” is JSON, but Name takes text" in row.error


@pytest.mark.parametrize(
    ("name", "names", "expected"),
    [
        ("EmailAddress", ["email_address"], True),
        ("e-mail", ["email"], True),
        ("User ID", ["user_id"], True),
        ("emails", ["email"], False),
    ],
)
def test_names_are_compared_by_letters_and_digits(name, names, expected):
    assert (automap.first_match([name], [automap.normalized(n) for n in names]) == name) is expected


# --- the types of every pair --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field_type", "verdict"),
    [
        ("decimal", "integer", Verdict.WARNING),
        ("float", "integer", Verdict.WARNING),
        ("integer", "boolean", Verdict.WARNING),
        ("string", "date", Verdict.ERROR),
        ("string", "integer", Verdict.ERROR),
        ("string", "boolean", Verdict.ERROR),
        ("boolean", "date", Verdict.ERROR),
        ("timestamp", "integer", Verdict.ERROR),
        ("json", "string", Verdict.ERROR),
        ("decimal", "date", Verdict.ERROR),
        ("integer", "date", Verdict.OK),  # epoch numbers, in the unit chosen on the row
        ("timestamp", "date", Verdict.OK),
        ("decimal", "float", Verdict.OK),
        ("boolean", "string", Verdict.OK),
        ("other", "integer", Verdict.OK),  # a kind the source does not name is not judged
    ],
)
def test_every_pair_has_a_verdict(kind, field_type, verdict):
    assert check_pair("c", kind, field_type, "F").verdict is verdict


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgres", "CAST(ROUND(amount) AS BIGINT)"),
        ("bigquery", "CAST(ROUND(amount) AS INT64)"),
        ("mysql", "CAST(ROUND(amount) AS SIGNED)"),
        ("snowflake", "CAST(ROUND(amount) AS BIGINT)"),
    ],
)
def test_the_cast_is_written_in_the_warehouse_dialect(dialect, expected):
    check = check_pair("amount", "decimal", FieldType.INTEGER, "Seats", dialect=dialect)
    assert check.cast == expected


def test_a_column_name_that_needs_quotes_is_quoted():
    assert cast_sql("Signup Date", FieldType.DATE, "postgres") == 'CAST("Signup Date" AS TIMESTAMP)'
    assert cast_sql("Amount", FieldType.INTEGER, "bigquery", rounded=True) == "CAST(ROUND(`Amount`) AS INT64)"


# --- rows: add, remove, problems by subject -----------------------------------------------------------------


def test_add_and_remove_rows_keep_what_was_typed(owner_client, workspace, people, destination):
    to_fields(owner_client, workspace, people, destination)
    data = mapped(("std:name", "full_name"), name="People", action="add_mapping")
    form = answer(owner_client, workspace, "fields", data, headers=HTMX).context["form"]
    assert [(r.index, r.column) for r in form.rows] == [(0, "full_name"), (1, "")]
    data = dict(form.name_form.data.items()) | {"map-1-column": "phone", "map-1-target": "std:phone"}
    form = answer(owner_client, workspace, "fields", data | {"action": "remove:0"}).context["form"]
    assert [(r.column, r.target_slug) for r in form.rows] == [("phone", "std:phone")]


def test_the_mapper_posts_need_the_csrf_token(workspace, people, destination, owner_client):
    to_fields(owner_client, workspace, people, destination)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = owner_client.cookies
    response = strict.post(step_url(workspace, "fields"), {"action": "add_mapping"}, headers=HTMX)
    assert response.status_code == 403


def test_a_field_mapped_twice_is_said_on_both_rows_and_a_half_row_on_its_own(
    owner_client, workspace, people, destination
):
    to_fields(owner_client, workspace, people, destination)
    data = mapped(("std:name", "full_name"), ("std:name", "plan"), ("", "phone"), name="People")
    response = answer(owner_client, workspace, "fields", data)
    assert response.status_code == 422
    rows = response.context["form"].rows
    assert rows[0].error == rows[1].error == "Field “name” is mapped 2 times."
    assert rows[2].error == "Choose the Intercom field for column “phone”, or remove the row."


def test_engine_problems_are_placed_by_subject_not_by_words(owner_client, workspace, people, destination):
    from apps.common.problems import Problem

    to_fields(owner_client, workspace, people, destination)
    data = mapped(("cus:plan", "plan"), ("std:name", "full_name"), name="People", action="check")
    form = answer(owner_client, workspace, "fields", data).context["form"]
    assert form.options.is_valid()
    # Words naming another field do not move a problem: only its subject does.
    form.place_problems([
        Problem(Target("plan", custom=True), "x", "Field “name” is wrong."),
        Problem(Option("company_id_column"), "y", "About the plan attribute."),
        Problem("elsewhere", "z", "Custom attribute “plan”."),
    ])  # fmt: skip
    assert [r.error for r in form.rows] == ["Field “name” is wrong.", ""]
    assert form.options.errors["company_id_column"] == ["About the plan attribute."]
    assert form.problems == ["Custom attribute “plan”."]


# --- custom attributes ----------------------------------------------------------------------------------------


def test_create_a_custom_attribute_for_a_column_in_one_click(
    owner_client, workspace, people, destination, intercom_emulator, intercom_workspace
):
    to_fields(owner_client, workspace, people, destination)
    data = mapped(("", "score"), name="People", action="create_for:0")
    response = answer(owner_client, workspace, "fields", data, headers=HTMX)
    form = response.context["form"]
    assert [(r.column, r.target_slug) for r in form.rows] == [("score", "cus:score")]  # mapped at once
    assert form.rows[0].check.verdict is Verdict.OK
    assert "Custom attribute “score” (Decimal number) created in Intercom and mapped to “score”." in (
        response.content.decode()
    )
    attributes = intercom_emulator.workspace_state(intercom_workspace.id_code)["data_attributes"]
    assert {a["name"]: a["data_type"] for a in attributes if a.get("custom", True)}["score"] == "float"

    # An attribute of that name that exists is mapped, not created again.
    data = mapped(("", "plan"), name="People", action="create_for:0")
    form = answer(owner_client, workspace, "fields", data).context["form"]
    assert [(r.column, r.target_slug) for r in form.rows] == [("plan", "cus:plan")]
    # No column chosen yet: said on the row.
    form = answer(owner_client, workspace, "fields", mapped(("", ""), action="create_for:0")).context["form"]
    assert form.rows[0].error == "Choose the model column first: the attribute takes its name."


def test_intercoms_refusal_of_a_new_attribute_is_said_on_its_row(
    owner_client, workspace, people, destination
):
    to_fields(owner_client, workspace, people, destination)
    data = mapped(("", "full_name"), name="People", action="create_for:0")
    kinded(people, [*PEOPLE_COLUMNS, ("name", "string")])
    data["map-0-column"] = "name"  # Intercom's own attribute: "You already have 'name'"
    form = answer(owner_client, workspace, "fields", data).context["form"]
    assert "already have 'name'" in form.rows[0].error and form.rows[0].target is None


# --- objects and identifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["company_id", "name", "plan", "industry", "website"], "company"),
        (["id", "name", "employees", "industry"], "company"),
        (["event_id", "user_id", "event_name", "occurred_at"], "event"),
        (["id", "email", "name", "company_id"], "user"),
        (["id", "total"], None),
    ],
)
def test_the_object_is_guessed_from_the_columns(columns, expected):
    assert automap.guess_object(columns) == expected


def test_a_companies_model_does_not_preselect_users(owner_client, workspace, warehouse, destination):
    model = warehouse.model("SELECT 1", "company_id", ["company_id", "name", "industry", "website"])
    owner_client.get(url("sync_create", workspace))
    answer(owner_client, workspace, "data", {"source": model.source_id, "model": model.pk})
    form = owner_client.get(step_url(workspace, "destination")).context["form"]
    assert form["object_key"].value() == "company"
    anonymous = warehouse.model("SELECT 2", "id", ["id", "total"])
    answer(owner_client, workspace, "data", {"source": anonymous.source_id, "model": anonymous.pk})
    assert owner_client.get(step_url(workspace, "destination")).context["form"]["object_key"].value() is None


def test_leads_offer_no_external_id(owner_client, workspace, people, destination):
    through_behavior(
        owner_client, workspace, people, destination, object_key="lead", key_column="Email Address"
    )
    behavior = owner_client.get(step_url(workspace, "behavior")).context["form"]
    assert [k for k, _ in behavior.fields["key_identifier"].choices] == ["email", "id"]
    form = owner_client.get(step_url(workspace, "fields")).context["form"]
    assert "std:external_id" not in {t.slug for t in form.targets}
    assert "user_id" not in {s.column for s in form.suggestions}


# --- the event mapper ---------------------------------------------------------------------------------------


@pytest.fixture
def events_model(warehouse):
    warehouse.table(
        "events",
        "event_id INTEGER, user_id VARCHAR, email VARCHAR, event_name VARCHAR, occurred_at TIMESTAMP, "
        "plan VARCHAR, amount DECIMAL(10, 2)",
        [],
    )
    columns = [("event_id", "integer"), ("user_id", "string"), ("email", "string"), ("event_name", "string"),
               ("occurred_at", "timestamp"), ("plan", "string"), ("amount", "decimal")]  # fmt: skip
    return kinded(warehouse.model("SELECT * FROM events", "event_id", []), columns)


def to_events(client, workspace, model, destination):
    through_behavior(client, workspace, model, destination, object_key="event", behavior="send",
                     key_identifier="event_id", key_column="event_id")  # fmt: skip
    return client.get(step_url(workspace, "fields"))


def test_the_event_mapper_marks_required_parts_and_prefills_them(
    owner_client, workspace, events_model, destination
):
    response = to_events(owner_client, workspace, events_model, destination)
    html = response.content.decode()
    assert "What should each event say?" in html and "Which fields should be updated?" not in html
    assert html.count('<span class="badge badge-required">required</span>') == 3
    assert "(optional)</small>" not in html.split('id="metadata-title"')[0]
    options = response.context["form"].options
    assert options["event_name_column"].value() == "event_name"
    assert options["created_at_column"].value() == "occurred_at"
    # The contact as the model holds it (its own user id), not Intercom's id.
    assert (options["contact_column"].value(), options["contact_key"].value()) == ("user_id", "user_id")
    assert "<select multiple" not in html  # metadata are rows, not a Ctrl-click list


def test_event_contact_defaults_to_email_when_the_model_has_no_user_id():
    guess = automap.guess_event([{"name": "id"}, {"name": "Email"}, {"name": "ts", "kind": "timestamp"}])
    assert (guess.contact_column, guess.contact_key, guess.created_at_column) == ("Email", "email", "ts")


def test_metadata_rows_are_added_removed_and_saved(owner_client, workspace, events_model, destination):
    options = to_events(owner_client, workspace, events_model, destination).context["form"].options
    data = {f"opt-{k}": v for k in options.fields if (v := options[k].value())}
    data |= {"name": "Events", "opt-first_run": "send_all", "action": "add_metadata"}
    form = answer(owner_client, workspace, "fields", data, headers=HTMX).context["form"]
    assert form.metadata == [(0, "")]
    data |= {"meta-0-column": "plan", "action": "add_metadata"}
    data = dict(answer(owner_client, workspace, "fields", data).context["form"].name_form.data.items())
    data |= {"meta-1-column": "amount", "action": "add_metadata"}
    data = dict(answer(owner_client, workspace, "fields", data).context["form"].name_form.data.items())
    form = answer(owner_client, workspace, "fields", data | {"action": "remove_meta:2"}).context["form"]
    assert form.metadata == [(0, "plan"), (1, "amount")]

    response = answer(owner_client, workspace, "fields", data | {"meta-2-column": "plan", "action": "next"})
    assert response.status_code == 422
    assert response.context["form"].metadata_row_errors == {2: "“plan” is already a metadata key."}
    del data["meta-2-column"]
    assert answer(owner_client, workspace, "fields", data | {"action": "next"}).status_code == 302
    answer(owner_client, workspace, "preview", {"action": "schedule"})
    sync = Sync.objects.for_workspace(workspace).get()
    assert sync.options["event"] == {
        "contact_column": "user_id", "contact_key": "user_id", "created_at_column": "occurred_at",
        "metadata_columns": ["plan", "amount"], "first_run": "send_all", "event_name_column": "event_name",
    }  # fmt: skip

    # Editing the sync shows the same rows.
    owner_client.get(url("sync_edit", workspace, sync.pk))
    form = owner_client.get(step_url(workspace, "fields", sync)).context["form"]
    assert form.metadata == [(0, "plan"), (1, "amount")]
