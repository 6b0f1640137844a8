"""What only Snowflake has: its account identifier, key-pair authentication, the session it opens (one
statement at a time, a time limit, a preview's row cap), its errors in the user's words, and the warnings
about a role that can write.

fakesnow accepts any user and password, so what Snowflake's login answers to a wrong password, an
ungranted role or a missing database comes from a stand-in of the login endpoint below, answering as
Snowflake documents it, to the real connector."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse
from snowflake.connector.errors import ProgrammingError

from apps.connections.sources.errors import (
    AuthenticationFailed,
    DatabaseNotFound,
    InvalidSourceConfig,
    QueryError,
    QueryTimeout,
    UnsafeQueryError,
)
from apps.connections.sources.privileges import snowflake_warnings
from apps.connections.sources.registry import clean_config
from apps.connections.sources.snowflake import (
    AccountNotFound,
    PrivateKeyInvalid,
    RoleNotGranted,
    SnowflakeSource,
    WarehouseUnavailable,
    account_identifier,
    load_private_key,
)

from .conftest import snowflake_config


class LoginStandIn:
    """Answers every login with one Snowflake error; keeps the login bodies the connector sent."""

    def __init__(self, code: str, message: str):
        self.logins: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path.startswith("/session/v1/login-request"):
                    stand_in.logins.append(json.loads(body))
                answer = json.dumps(
                    {
                        "data": {"nextAction": "RETRY_LOGIN"},
                        "code": code,
                        "message": message,
                        "success": False,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def source(self, **overrides) -> SnowflakeSource:
        values = {"account": "syncline-test", "user": "SYNCLINE", "role": "SYNCLINE_READER", "warehouse": "WH",
                  "database": "ANALYTICS", "schema": "PUBLIC", "password": "wrong", "connect_timeout_seconds": 5,
                  **overrides}  # fmt: skip
        return SnowflakeSource(clean_config("snowflake", values), endpoint=self.endpoint)


@pytest.fixture
def stand_in(request):
    code, message = request.param
    server = LoginStandIn(code, message)
    yield server
    server.server.shutdown()


WRONG_PASSWORD = ("390100", "Incorrect username or password was specified.")


@pytest.mark.parametrize("stand_in", [WRONG_PASSWORD], indirect=True)
def test_a_wrong_password_names_the_user_and_the_session_asks_for_one_statement(stand_in):
    with pytest.raises(
        AuthenticationFailed, match='Snowflake refused the user "SYNCLINE": wrong user name or password'
    ):
        stand_in.source().test()
    (login,) = stand_in.logins
    parameters = login["data"]["SESSION_PARAMETERS"]
    assert parameters["MULTI_STATEMENT_COUNT"] == 1  # Snowflake refuses a second statement
    assert parameters["STATEMENT_TIMEOUT_IN_SECONDS"] == 30  # the preview limit, in Snowflake's own hands
    assert parameters["CLIENT_TELEMETRY_ENABLED"] is False
    assert parameters["CLIENT_RESULT_CHUNK_SIZE"] == 48  # the smallest chunks: an extraction holds one
    assert login["data"]["LOGIN_NAME"] == "SYNCLINE" and login["data"]["PASSWORD"] == "wrong"


@pytest.mark.parametrize("stand_in", [WRONG_PASSWORD], indirect=True)
def test_a_preview_session_caps_the_result_at_101_rows(stand_in):
    with pytest.raises(AuthenticationFailed):
        stand_in.source().preview("SELECT 1")
    assert stand_in.logins[0]["data"]["SESSION_PARAMETERS"]["ROWS_PER_RESULTSET"] == 101


@pytest.mark.parametrize(
    ("stand_in", "error", "words"),
    [
        (
            ("390189", "Role 'SYNCLINE_READER' specified in the connect string is not granted to this user."),
            RoleNotGranted,
            "GRANT ROLE SYNCLINE_READER TO USER SYNCLINE",
        ),
        (
            ("390201", "The requested database does not exist or not authorized."),
            DatabaseNotFound,
            '"ANALYTICS"',
        ),
        (("390144", "JWT token is invalid."), AuthenticationFailed, "ALTER USER SYNCLINE SET RSA_PUBLIC_KEY"),
    ],
    indirect=["stand_in"],
)
def test_login_errors_say_which_field_and_what_to_do(stand_in, error, words):
    with pytest.raises(error) as failed:
        stand_in.source().test()
    assert words in str(failed.value)


@pytest.mark.django_db
@pytest.mark.parametrize("stand_in", [WRONG_PASSWORD], indirect=True)
def test_the_form_shows_a_wrong_password_next_to_the_password(stand_in, owner_client, workspace, settings):
    settings.SNOWFLAKE_ENDPOINT = stand_in.endpoint
    data = {"type": "snowflake", "name": "Snow", "account": "syncline-test", "user": "SYNCLINE", "warehouse": "WH",
            "database": "ANALYTICS", "authentication": "password", "password": "hunter2-secret",
            "connect_timeout_seconds": "5", "preview_timeout_seconds": "30", "extract_timeout_seconds": "3600"}  # fmt: skip
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert "hunter2-secret" not in page
    password_block = page[page.index('name="password"') - 1500 : page.index('name="password"') + 1500]
    assert "wrong user name or password" in password_block


@pytest.mark.parametrize(
    "sql",
    [
        "COPY INTO @stage FROM (SELECT 1)",
        "PUT file:///etc/passwd @~",
        "CALL writer()",
        "EXECUTE IMMEDIATE $$ BEGIN DROP TABLE canary; END $$",
        "CREATE TEMPORARY TABLE t AS SELECT 1 AS one",
        "ALTER SESSION SET MULTI_STATEMENT_COUNT = 0",
        "USE ROLE ACCOUNTADMIN",
        "UNDROP TABLE canary",
        "INSERT OVERWRITE INTO canary SELECT 1, 'x'",
        "BEGIN TRANSACTION",
    ],
)
def test_snowflakes_own_writes_and_session_changes_are_refused(snowflake_backend, sql):
    with pytest.raises(UnsafeQueryError, match="Syncline only runs a single read-only query"):
        snowflake_backend.make_source().preview(sql)
    assert snowflake_backend.read_canary() == [(1, "alpha"), (2, "beta"), (3, "gamma")]


def test_an_account_that_does_not_resolve_is_named():
    source = SnowflakeSource(clean_config("snowflake", {"account": "no-such-account-zz", "user": "U",
                             "warehouse": "W", "database": "D", "password": "p"}))  # fmt: skip
    with pytest.raises(AccountNotFound, match='"no-such-account-zz".*orgname-accountname'):
        source.test()


@pytest.mark.parametrize(
    ("typed", "account"),
    [
        ("xy12345.eu-west-1", "xy12345.eu-west-1"),
        ("  MyOrg-Analytics ", "MyOrg-Analytics"),
        ("https://myorg-analytics.snowflakecomputing.com/console#/", "myorg-analytics"),
        ("xy12345.us-east-2.aws.snowflakecomputing.com", "xy12345.us-east-2.aws"),
    ],
)
def test_the_account_identifier_is_read_from_what_users_paste(typed, account):
    assert account_identifier(typed) == account


@pytest.mark.parametrize("typed", ["evil.com/path", "user@host", "a b", "http://", "-x", "x:443"])
def test_anything_but_an_account_identifier_is_refused(typed):
    with pytest.raises(InvalidSourceConfig, match="not a Snowflake account identifier"):
        account_identifier(typed)


@pytest.mark.django_db
def test_the_form_says_a_wrong_account_next_to_the_account(owner_client, workspace):
    data = {"type": "snowflake", "name": "Snow", "account": "evil.example/path", "user": "U", "warehouse": "WH",
            "database": "D", "authentication": "password", "password": "p", "connect_timeout_seconds": "5",
            "preview_timeout_seconds": "30", "extract_timeout_seconds": "3600"}  # fmt: skip
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), data)
    assert response.status_code == 422
    assert "not a Snowflake account identifier" in " ".join(response.context["form"].errors["account"])


def _pem(passphrase: bytes | None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def test_private_keys_are_read_or_refused_in_the_users_words():
    plain, locked = _pem(None), _pem(b"s3same")
    assert load_private_key(plain)[:1] == b"\x30"  # DER
    assert load_private_key(locked, "s3same")[:1] == b"\x30"
    for pem, passphrase, words in [
        ("ssh-rsa AAAA… me@laptop", "", "must be the text of a PEM file"),
        (locked, "", "is encrypted: enter its passphrase"),
        (locked, "nope", "could not be decrypted: check its passphrase"),
        (plain, "extra", "is not encrypted: leave its passphrase empty"),
        (plain[:200], "", "could not be read"),
    ]:
        with pytest.raises(PrivateKeyInvalid, match=words) as refused:
            load_private_key(pem, passphrase)
        assert "MII" not in str(refused.value)  # never the key itself


def test_key_pair_authentication_reaches_fakesnow(snowflake_tables):
    source = SnowflakeSource(
        snowflake_config(snowflake_tables, authentication="key_pair", password="", private_key=_pem(None)),
        endpoint=snowflake_tables.endpoint,
    )
    assert source.preview("SELECT id FROM canary ORDER BY id").rows == [(1,), (2,), (3,)]


def test_query_errors_carry_snowflakes_words_and_codes(snowflake_backend):
    source = snowflake_backend.make_source()
    with pytest.raises(QueryError, match="(?i)no_such_table"):
        source.preview("SELECT id FROM no_such_table")
    translate = source._query_error
    compile_error = ProgrammingError(
        msg="SQL compilation error:\nsyntax error line 3 at position 5 unexpected 'big'.", errno=1003
    )
    located = translate(compile_error, 30)
    assert (located.line, located.column) == (3, 6) and "(line 3, column 6)" in str(located)
    assert isinstance(
        translate(
            ProgrammingError(
                msg="Statement reached its statement or warehouse timeout of 30 second(s) and was canceled.",
                errno=630,
            ),
            30,
        ),
        QueryTimeout,
    )
    no_warehouse = translate(
        ProgrammingError(msg="No active warehouse selected in the current session.", errno=606), 30
    )
    assert isinstance(no_warehouse, WarehouseUnavailable)
    assert "GRANT USAGE ON WAREHOUSE SYNCLINE_WH TO ROLE SYNCLINE_READER" in str(no_warehouse)
    second = translate(
        ProgrammingError(
            msg="Actual statement count 2 did not match the desired statement count 1.", errno=8
        ),
        30,
    )
    assert isinstance(second, UnsafeQueryError) and second.refused_by == "database"


# --- the role's privileges --------------------------------------------------------------------------------


def grant(privilege, granted_on, name):
    return {"privilege": privilege, "granted_on": granted_on, "name": name, "grantee_name": "X"}


READER = [grant("USAGE", "WAREHOUSE", "WH"), grant("USAGE", "DATABASE", "ANALYTICS"),
          grant("USAGE", "SCHEMA", "ANALYTICS.PUBLIC"), grant("SELECT", "TABLE", "ANALYTICS.PUBLIC.USERS")]  # fmt: skip


def test_a_reading_role_gets_no_warning():
    assert snowflake_warnings("SYNCLINE_READER", READER, lambda role: []) == []


def test_a_role_that_can_write_directly_or_through_another_role_is_warned_about():
    inherited = {
        "LOADER": [grant("INSERT", "TABLE", "ANALYTICS.PUBLIC.USERS"), grant("USAGE", "ROLE", "LOADER")]
    }
    grants = [*READER, grant("USAGE", "ROLE", "LOADER"), grant("CREATE TABLE", "SCHEMA", "ANALYTICS.PUBLIC")]
    (warning,) = snowflake_warnings("SYNCLINE_READER", grants, lambda role: inherited.get(role, []))
    assert warning.code == "can_write"
    assert "CREATE TABLE on schema ANALYTICS.PUBLIC" in warning.message
    assert "INSERT on table ANALYTICS.PUBLIC.USERS (through LOADER)" in warning.message
    assert "GRANT SELECT ON ALL TABLES IN DATABASE" in warning.advice


def test_an_administrative_role_is_warned_about():
    warnings = snowflake_warnings(
        "ACCOUNTADMIN", [grant("OWNERSHIP", "DATABASE", "ANALYTICS")], lambda role: []
    )
    assert [w.code for w in warnings] == ["admin", "can_write"]
    inheriting = snowflake_warnings("ANALYST", [grant("USAGE", "ROLE", "SYSADMIN")], lambda role: [])
    assert [w.code for w in inheriting] == ["admin"] and "SYSADMIN" in inheriting[0].message
