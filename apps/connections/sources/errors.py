"""The one exception hierarchy of source adapters.

Every message is written for the person who configured the connection or wrote the SQL: it says what
went wrong in their terms and, where possible, what to change. Messages never contain a password.

``transient`` tells the sync engine whether retrying the same thing later may succeed (a server that is
restarting) or not (a wrong password, a syntax error).
"""

from __future__ import annotations


class SourceError(Exception):
    """Base class: anything that went wrong talking to a warehouse."""

    transient = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- Reaching the server -------------------------------------------------------------------------------


class SourceConnectionError(SourceError):
    """The connection could not be opened (or was lost); nothing of the user's SQL ran."""


class UnknownHost(SourceConnectionError):
    def __init__(self, host: str):
        super().__init__(f'The host name "{host}" could not be found. Check the spelling of the host.')
        self.host = host


class ConnectionRefused(SourceConnectionError):
    transient = True  # a server being restarted refuses connections for a while

    def __init__(self, host: str, port: int):
        super().__init__(
            f"{host}:{port} refused the connection. Check the port, and that the database server is "
            "running and accepts connections from Syncline's address."
        )
        self.host, self.port = host, port


class ConnectTimeout(SourceConnectionError):
    transient = True

    def __init__(self, host: str, port: int, seconds: float):
        super().__init__(
            f"{host}:{port} did not answer within {seconds:g} seconds. Check the host and port, and "
            "that a firewall lets Syncline's address through."
        )
        self.host, self.port, self.seconds = host, port, seconds


class AuthenticationFailed(SourceConnectionError):
    def __init__(self, user: str):
        super().__init__(f'The server refused the user "{user}": wrong user name or password.')
        self.user = user


class DatabaseNotFound(SourceConnectionError):
    def __init__(self, database: str):
        super().__init__(f'The database "{database}" does not exist on this server. Check its name.')
        self.database = database


class SslRequired(SourceConnectionError):
    """The two sides disagree about SSL; the message says which side wants what."""


class HostNotAllowed(SourceConnectionError):
    """Refused by the multi-tenant network guard before any packet was sent."""

    def __init__(self, host: str, address: str):
        super().__init__(
            f'The host "{host}" resolves to {address}, a loopback, private, link-local or otherwise '
            "non-public address, which this Syncline installation does not connect to."
        )
        self.host, self.address = host, address


class ConnectionLost(SourceConnectionError):
    transient = True

    def __init__(self, detail: str):
        super().__init__(f"The connection to the database was lost: {detail}")


class InvalidSourceConfig(SourceError):
    """A configuration value is missing or malformed (caught before connecting)."""


# --- Running the user's SQL ----------------------------------------------------------------------------


class QueryError(SourceError):
    """The database rejected the SQL. Carries the database's own message and, when the database gives
    one, the 1-based line and column in the user's SQL."""

    def __init__(
        self,
        db_message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        code: str | None = None,
        reported_by: str = "The database",
    ):
        where = f" (line {line}, column {column})" if line is not None and column is not None else ""
        where = where or (f" (line {line})" if line is not None else "")
        super().__init__(f"{reported_by} reported an error{where}: {db_message}")
        self.db_message = db_message
        self.line, self.column, self.code = line, column, code


class UnsafeQueryError(SourceError):
    """The SQL would write, or is not a single read-only query. ``refused_by`` is "parser" when Syncline's
    check refused it before it reached the database, "database" when the database itself refused."""

    def __init__(self, message: str, *, refused_by: str = "parser"):
        super().__init__(message)
        self.refused_by = refused_by


class QueryTimeout(SourceError):
    def __init__(self, seconds: float):
        super().__init__(
            f"The query was cancelled after {seconds:g} seconds, the time limit of this connection. "
            "Make it faster (filter earlier, add an index) or raise the connection's time limit."
        )
        self.seconds = seconds


class QueryInterrupted(SourceError):
    """Syncline itself stopped the query (see ``Interrupts``): a run was cancelled, or its worker is
    shutting down. The caller knows which, and says so in its own words."""

    def __init__(self):
        super().__init__("The query was stopped before it finished.")


def line_and_column(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based character offset in ``sql``."""
    offset = max(0, min(offset, len(sql)))
    before = sql[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column
