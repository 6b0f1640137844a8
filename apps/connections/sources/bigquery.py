"""Google BigQuery through its official client (google-cloud-bigquery).

How user SQL is kept read-only and bounded, in the order it happens:
1. ``safety.checked_query`` (parser, BigQuery dialect): one statement, a query.
2. A dry run before anything runs: BigQuery compiles the SQL and names its statement type; anything but
   SELECT is refused with the user's message (`UnsafeQueryError`, refused by the database). The dry run
   also says how many bytes the query scans, which the preview shows (BigQuery bills by it).
3. The service account: the connection page asks for one with only BigQuery Data Viewer (on the datasets)
   and BigQuery Job User (on the project), which cannot write to any table.
4. Time: every job gets BigQuery's own ``job_timeout_ms`` (BigQuery cancels it), and the client's wait is
   bounded too; at the limit (or on an interrupt, a run's Cancel) the job is cancelled.
5. Rows come page by page (``jobs.getQueryResults`` with a page size), so an extraction holds one page at a
   time; a preview asks for at most 101 rows and reads no further.

Fingerprints are BigQuery's own 64-bit ``FARM_FINGERPRINT`` of the salt and the columns written out as one
JSON text (``TO_JSON_STRING`` of a STRUCT: NULL, '', 'NULL' and 'a,b' all differ), taken modulo 2^60 as
`base.FINGERPRINT` asks; the digest sums them as BIGNUMERIC (an INT64 sum would overflow). The passes of a
fingerprinted read are separate jobs: a row changed between them is simply read again on the next run.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from .base import (
    DEFAULT_BATCH_SIZE,
    PREVIEW_ROW_LIMIT,
    Column,
    ConnectionCheck,
    FingerprintQueries,
    PairBatch,
    PairDigest,
    ParserCheckedSource,
    Preview,
    RowBatch,
    Timeouts,
)
from .catalog import CatalogUnavailable
from .errors import (
    ConnectionLost,
    InvalidSourceConfig,
    QueryError,
    QueryTimeout,
    SourceConnectionError,
    SourceError,
    UnsafeQueryError,
)
from .safety import READ_ONLY_HINT

_FINGERPRINT_MODULUS = 2**60
_PROJECT = re.compile(r"[a-z][a-z0-9:.-]{3,127}")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")  # a dataset name, safe to write into a literal
_POSITION = re.compile(r"at \[(\d+):(\d+)\]")
_SCOPES = ("https://www.googleapis.com/auth/bigquery",)
GRANTS_ADVICE = (
    "Give the service account BigQuery Data Viewer (roles/bigquery.dataViewer) on the datasets the models "
    "read and BigQuery Job User (roles/bigquery.jobUser) on the project."
)

# BigQuery's legacy type names (SchemaField.field_type) and what they are here.
_KINDS = {
    "INTEGER": "integer",
    "INT64": "integer",
    "NUMERIC": "decimal",
    "BIGNUMERIC": "decimal",
    "FLOAT": "float",
    "FLOAT64": "float",
    "STRING": "string",
    "BOOLEAN": "boolean",
    "BOOL": "boolean",
    "DATE": "date",
    "DATETIME": "timestamp",
    "TIMESTAMP": "timestamp",
    "JSON": "json",
}


class ServiceAccountInvalid(InvalidSourceConfig):
    """The service-account key is not one (not JSON, another kind of key, a field missing)."""


class ServiceAccountRefused(SourceConnectionError):
    """Google refused the key (deleted, disabled, or from another project's rotation)."""


class ProjectNotFound(SourceConnectionError):
    def __init__(self, project: str):
        super().__init__(
            f'BigQuery has no project "{project}" that this service account can see. Check the project ID '
            "(the ID, like my-project-123456, not the project's display name)."
        )
        self.project = project


class PermissionDenied(SourceError):
    """The service account may not do what was asked; the message says which role to grant."""


def service_account_info(text: str) -> dict[str, Any]:
    """The service-account key (the JSON file Google Cloud gives) as a dict, or ServiceAccountInvalid in
    words that say what to fetch instead. The key's text is never part of a message."""
    if not text.strip():
        raise ServiceAccountInvalid(
            "Paste or upload the service account's JSON key (IAM & Admin → Service accounts → Keys → Add key "
            "→ JSON)."
        )
    try:
        info = json.loads(text)
    except ValueError:
        raise ServiceAccountInvalid(
            "The service-account key is not JSON. Upload the .json file Google Cloud downloaded when the key "
            "was made, unchanged."
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ServiceAccountInvalid(
            'The JSON is not a service-account key (its "type" must be "service_account"). Make a key for a '
            "service account: IAM & Admin → Service accounts → Keys → Add key → JSON."
        )
    missing = [name for name in ("client_email", "private_key", "project_id") if not info.get(name)]
    if missing:
        raise ServiceAccountInvalid(
            f"The service-account key has no {', '.join(missing)}. Upload the whole .json file, unchanged."
        )
    return info


class BigQuerySource(ParserCheckedSource):
    type_key = "bigquery"
    dialect = "bigquery"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        block_private_hosts: bool = False,
        endpoint: str | None = None,
    ):
        self._info = service_account_info(str(config.get("service_account_json") or ""))
        self.project: str = (config.get("project") or "").strip() or self._info["project_id"]
        if not _PROJECT.fullmatch(self.project):
            raise InvalidSourceConfig(
                f'"{self.project}" is not a Google Cloud project ID: use the ID (lower-case letters, digits '
                "and hyphens, like my-project-123456), not the project's display name."
            )
        self.location: str = (config.get("location") or "").strip()
        self.dataset: str = (config.get("dataset") or "").strip()
        self.client_email: str = self._info["client_email"]
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
            connect_seconds=float(config["connect_timeout_seconds"]),
        )
        # The client only ever talks to Google's API host; there is no user-given host to guard.
        self.block_private_hosts = block_private_hosts
        # Tests (and only they, through settings.BIGQUERY_ENDPOINT) point the client at a stand-in, with
        # anonymous credentials: the stand-in checks none.
        self.endpoint = endpoint

    def __repr__(self) -> str:  # never a secret
        return f"<{type(self).__name__} {self.client_email} {self.project}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        seconds = self.timeouts.preview_seconds
        list(self._run(self._client(), "SELECT 1", seconds, time.monotonic() + seconds, max_results=1))
        where = f", location {self.location}" if self.location else ""
        return ConnectionCheck(server_version=f"BigQuery (project {self.project}{where})")

    def dry_run(self, sql: str):
        """BigQuery's compile of ``sql`` (the job of a dry run): its statement type, schema and bytes."""
        return self._dry_run(self._client(), sql)

    # --- unchecked paths: the dry run's statement type and the service account stand here ---------------

    def _describe(self, sql: str) -> list[Column]:
        job = self._dry_run(self._client(), sql)
        return [_column(field) for field in job.schema or []]

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        limit = max(0, min(limit, PREVIEW_ROW_LIMIT))
        started = time.monotonic()
        seconds = self.timeouts.preview_seconds
        client = self._client()
        planned = self._dry_run(client, sql)
        result = self._run(
            client, sql, seconds, started + seconds, max_results=limit + 1, page_size=limit + 1
        )
        rows = [tuple(row.values()) for row in result]
        return Preview(
            columns=[_column(field) for field in result.schema or []],
            rows=rows[:limit],
            has_more=len(rows) > limit,
            elapsed_seconds=time.monotonic() - started,
            scanned_bytes=planned.total_bytes_processed,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        seconds = self.timeouts.extract_seconds
        deadline = time.monotonic() + seconds
        client = self._client()
        self._dry_run(client, sql)
        yield from self._batches(client, sql, seconds, deadline, batch_size)

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries) -> Iterator[_FingerprintedRead]:
        client = self._client()
        self._dry_run(client, queries.sql)  # the model itself: a SELECT
        yield _FingerprintedRead(self, client, queries)

    def _quote(self, name: str) -> str:
        return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        # One JSON text of the salt and the values (NULL is null, a string is quoted): unambiguous.
        values = ", ".join(f"{column} AS c{i}" for i, column in enumerate(columns))
        return (
            f"MOD(FARM_FINGERPRINT(TO_JSON_STRING(STRUCT('{salt}' AS s, {values}))), {_FINGERPRINT_MODULUS})"
        )

    def _text_sql(self, expression: str) -> str:
        return f"CAST({expression} AS STRING)"

    plain_identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

    def _catalog_sql(self, search: str, limit: int) -> str:
        # With a location, every dataset of the project in that region; else the default dataset's tables.
        # (INFORMATION_SCHEMA is billed like a query: 10 MB at least, whatever it returns.)
        if self.location:
            source = f"{self._quote(self.project)}.{self._quote('region-' + self.location.lower())}"
            first = f"table_schema = '{self.dataset}' DESC" if _DATASET.fullmatch(self.dataset) else ""
        elif self.dataset:
            source, first = f"{self._quote(self.project)}.{self._quote(self.dataset)}", ""
        else:
            raise CatalogUnavailable(
                "Set the connection's default dataset (or its location) to list its tables: BigQuery lists "
                "tables per dataset, or per region."
            )
        return self._information_schema_catalog_sql(
            search, limit, scope="TRUE", source=f"{source}.INFORMATION_SCHEMA.COLUMNS", first=first
        )

    def _sum_sql(self, expression: str) -> str:
        # An INT64 sum overflows past a few rows; BIGNUMERIC holds 10^38 (bqemulator reads NUMERIC as 15 digits and 3
        # decimals, and drops a written-out precision).
        return f"SUM(CAST({expression} AS BIGNUMERIC))"

    # --- the client, jobs and pages -----------------------------------------------------------------

    def _client(self):
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        self.interrupts.check()
        if self.endpoint:
            from google.auth.credentials import AnonymousCredentials

            credentials, options = AnonymousCredentials(), ClientOptions(api_endpoint=self.endpoint)
        else:
            from google.oauth2 import service_account

            try:
                credentials = service_account.Credentials.from_service_account_info(
                    self._info, scopes=_SCOPES
                )
            except ValueError:
                raise ServiceAccountInvalid(
                    "The service-account key's private key could not be read. Upload the .json file Google "
                    "Cloud downloaded, unchanged."
                ) from None
            options = None
        return bigquery.Client(
            project=self.project,
            credentials=credentials,
            location=self.location or None,
            client_options=options,
        )

    def _dry_run(self, client, sql: str):
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False, **self._job_options())
        seconds = self.timeouts.preview_seconds
        try:
            job = client.query(sql, job_config=config, timeout=seconds)
        except Exception as error:  # noqa: BLE001 - translated, or raised as it is
            raise self._error(error, seconds) from error
        # BigQuery names the type of every statement it compiles; a stand-in that leaves it out
        # (bqemulator, for UNION queries) leaves the parser's check standing alone.
        if job.statement_type not in ("SELECT", None):
            what = job.statement_type.replace("_", " ")
            raise UnsafeQueryError(
                f"This SQL was refused: BigQuery reads it as a {what} statement, not a query. {READ_ONLY_HINT}",
                refused_by="database",
            )
        return job

    def _job_options(self) -> dict[str, Any]:
        return {"default_dataset": f"{self.project}.{self.dataset}"} if self.dataset else {}

    def _run(self, client, sql: str, seconds: float, deadline: float, **options):
        """Start a job for ``sql`` and wait for its first page of rows (an iterator over the rest), until
        ``deadline`` at most; at the limit, or on an interrupt, the job is cancelled. The job's ID is made
        here, so it can be cancelled even while BigQuery is still answering the request that starts it."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            job_timeout_ms=max(1000, round(seconds * 1000)),
            labels={"application": "syncline"},
            **self._job_options(),
        )
        job_id = f"syncline_{uuid.uuid4().hex}"
        timed_out = threading.Event()

        def cancel() -> None:
            client.cancel_job(job_id, location=self.location or None, timeout=5)

        def on_time_limit() -> None:
            timed_out.set()
            with suppress(Exception):
                cancel()

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), on_time_limit)
        timer.daemon = True
        with self.interrupts.running(cancel):
            timer.start()
            try:
                left = max(1.0, deadline - time.monotonic())
                job = client.query(
                    sql,
                    job_config=config,
                    job_id=job_id,
                    job_retry=None,  # a job ID is used once
                    retry=bigquery.DEFAULT_RETRY.with_timeout(left),  # no retries past the limit
                    timeout=left,
                )
                result = self._waited(job, seconds, deadline, options)
            except SourceError:
                raise
            except Exception as error:  # noqa: BLE001 - translated, or raised as it is
                self.interrupts.check()
                if timed_out.is_set() or time.monotonic() >= deadline:
                    raise QueryTimeout(seconds) from error
                raise self._error(error, seconds) from error
            finally:
                timer.cancel()
        self.interrupts.check()
        if timed_out.is_set():  # the answer came, but after the limit (the cancel did not stop it)
            raise QueryTimeout(seconds)
        return result

    def _waited(self, job, seconds: float, deadline: float, options: dict):
        import concurrent.futures

        while True:  # short waits, so an interrupt is seen within a second
            self.interrupts.check()
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryTimeout(seconds)
            try:
                return job.result(timeout=min(1.0, left), **options)
            except concurrent.futures.TimeoutError:
                continue

    def _batches(
        self, client, sql: str, seconds: float, deadline: float, batch_size: int
    ) -> Iterator[RowBatch]:
        result = self._run(client, sql, seconds, deadline, page_size=batch_size)
        columns = [_column(field) for field in result.schema or []]
        rows: list[tuple] = []
        pages = iter(result.pages)
        while True:
            try:
                page = next(pages, None)
            except Exception as error:  # noqa: BLE001
                self.interrupts.check()
                raise self._error(error, seconds) from error
            if page is None:
                break
            for row in page:
                rows.append(tuple(row.values()))
                if len(rows) >= batch_size:
                    yield RowBatch(columns=columns, rows=self._checked(rows, deadline, seconds))
                    rows = []
        if rows:
            yield RowBatch(columns=columns, rows=self._checked(rows, deadline, seconds))

    def _checked(self, rows: list[tuple], deadline: float, seconds: float) -> list[tuple]:
        self.interrupts.check()
        if time.monotonic() > deadline:
            raise QueryTimeout(seconds)
        return rows

    # --- errors in the user's words -------------------------------------------------------------------

    def _error(self, error: Exception, seconds: float) -> SourceError:
        if isinstance(error, SourceError):
            return error
        from google.api_core import exceptions as google
        from google.auth.exceptions import RefreshError, TransportError

        message = _message(error)
        if isinstance(error, RefreshError):
            return ServiceAccountRefused(
                f'Google refused the key of the service account "{self.client_email}": it was deleted or '
                "disabled, or the service account was. Make a new JSON key and upload it."
            )
        if isinstance(error, TransportError) or _is_network_error(error):
            return ConnectionLost(f"BigQuery could not be reached ({message}). Try again in a moment.")
        if isinstance(error, google.Forbidden):
            if "bigquery.jobs.create" in message:
                return PermissionDenied(
                    f'The service account "{self.client_email}" may not run queries in the project '
                    f'"{self.project}": grant it BigQuery Job User (roles/bigquery.jobUser) on the project.'
                )
            if "quota" in message.lower() or "billing" in message.lower():
                return QueryError(message, reported_by="BigQuery")
            return PermissionDenied(
                f'The service account "{self.client_email}" may not read what this query reads: {message} '
                "Grant it BigQuery Data Viewer (roles/bigquery.dataViewer) on the dataset."
            )
        if isinstance(error, google.NotFound) and f"project {self.project}" in message.lower():
            return ProjectNotFound(self.project)
        if isinstance(error, google.NotFound) and "location" in message.lower():
            return QueryError(
                f"{message} Set the connection's location to the datasets' location (US, EU, or a region "
                "like europe-west2).",
                reported_by="BigQuery",
            )
        if isinstance(error, google.Unauthorized):
            return ServiceAccountRefused(
                f'Google did not accept the service account "{self.client_email}": {message} Upload a current '
                "JSON key."
            )
        if isinstance(error, google.GoogleAPICallError) and "timeout" in message.lower():
            return QueryTimeout(seconds)
        if isinstance(error, google.GoogleAPICallError):
            position = _POSITION.search(message)
            line, column = (int(position[1]), int(position[2])) if position else (None, None)
            return QueryError(message, line=line, column=column, reported_by="BigQuery")
        return QueryError(message, reported_by="BigQuery")


class _FingerprintedRead:
    """The passes of a fingerprinted read, each its own job."""

    def __init__(self, source: BigQuerySource, client, queries: FingerprintQueries):
        self.source, self.client, self.queries = source, client, queries
        self.seconds = source.timeouts.extract_seconds
        self.deadline = time.monotonic() + self.seconds

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        for batch in self._run(self.queries.keys, batch_size):
            yield PairBatch.of(batch.rows)

    def digest(self) -> PairDigest:
        (batch,) = list(self._run(self.queries.digest, 1))
        return self.queries.pair_digest(batch.rows[0])

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        return self._run(self.queries.rows(only), batch_size)

    def _run(self, statement: str, batch_size: int) -> Iterator[RowBatch]:
        return self.source._batches(self.client, statement, self.seconds, self.deadline, batch_size)


def _column(field) -> Column:
    db_type = field.field_type
    if field.mode == "REPEATED":
        return Column(name=field.name, db_type=f"ARRAY<{db_type}>", kind="other")
    return Column(name=field.name, db_type=db_type, kind=_KINDS.get(db_type, "other"))


def _message(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error)
    return re.sub(r"^\d{3} [A-Z]+ https?://\S+: ", "", text.strip())


def _is_network_error(error: Exception) -> bool:
    import requests

    return isinstance(error, requests.ConnectionError | requests.Timeout)
