"""What the connection test says about the warehouse user's privileges.

Syncline only reads, behind its parser check and the database's read-only transaction. Neither wall
covers what a powerful user can do while reading: a MySQL user with FILE reads and writes files on the
server, a PostgreSQL superuser runs ``pg_read_file``, ``pg_terminate_backend`` or ``lo_import`` inside a
read-only transaction. So the test names each such privilege, with what to grant instead; it never
refuses the connection (the owner of the warehouse decides).
"""

from __future__ import annotations

import re
from typing import Any

from .base import ConnectionWarning

# --- MySQL / MariaDB -----------------------------------------------------------------------------------

_MYSQL_WRITE = (
    "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "CREATE VIEW", "TRIGGER", "EVENT",
    "CREATE ROUTINE", "ALTER ROUTINE", "DELETE HISTORY",
)  # fmt: skip
_MYSQL_ADMIN = (
    "SUPER", "SHUTDOWN", "RELOAD", "PROCESS", "CREATE USER", "GRANT OPTION", "CREATE TABLESPACE", "SET USER",
    "SYSTEM_USER",
)  # fmt: skip
_GRANT_LINE = re.compile(
    r"^GRANT\s+(?P<privileges>.+?)\s+ON\s+(?P<target>.+?)\s+TO\s", re.IGNORECASE | re.DOTALL
)


def mysql_warnings(grant_lines: list[str], *, user: str, database: str) -> list[ConnectionWarning]:
    """Read the lines of ``SHOW GRANTS`` (the session's, so active roles count too)."""
    write: dict[str, set[str]] = {}  # privilege -> where
    global_privileges: set[str] = set()
    for line in grant_lines:
        match = _GRANT_LINE.match(line.strip())
        if match is None:  # a role granted, SET DEFAULT ROLE …
            continue
        target = match.group("target").replace("`", "")
        privileges = _privilege_names(match.group("privileges"))
        if re.search(r"\bWITH\s+GRANT\s+OPTION\b", line, re.IGNORECASE):
            privileges.add("GRANT OPTION")
        if "ALL" in privileges:
            privileges = (privileges - {"ALL"}) | {"ALL PRIVILEGES"}
        if target == "*.*":
            global_privileges |= privileges
        for privilege in privileges & {"ALL PRIVILEGES", *_MYSQL_WRITE}:
            write.setdefault(privilege, set()).add(target)
    advice = (
        "Connect with a user that may only read: CREATE USER 'syncline'@'%' IDENTIFIED BY '…'; "
        f"GRANT SELECT ON `{database.replace('`', '``')}`.* TO 'syncline'@'%';"
    )
    warnings = []
    if write:
        names = [p for p in ("ALL PRIVILEGES", *_MYSQL_WRITE) if p in write]
        places = sorted({place for p in names for place in write[p]})
        warnings.append(
            ConnectionWarning(
                "can_write",
                f'The user "{user}" can change data ({", ".join(names)} on {_some(places)}). Syncline only '
                "reads, in read-only sessions, but a user that can only read is the safer wall.",
                advice,
            )
        )
    if global_privileges & {"FILE", "ALL PRIVILEGES"}:
        warnings.append(
            ConnectionWarning(
                "file",
                f'The user "{user}" has the FILE privilege: SQL run as it can read files on the database '
                "server (LOAD_FILE) and write new ones (SELECT … INTO OUTFILE), which no read-only "
                "transaction stops. Syncline refuses such SQL, but without FILE it cannot run at all.",
                advice,
            )
        )
    admin = [p for p in ("ALL PRIVILEGES", *_MYSQL_ADMIN) if p in global_privileges]
    admin += sorted(p for p in global_privileges if "ADMIN" in p or p.startswith(("REPLICA", "BINLOG")))
    if admin:
        warnings.append(
            ConnectionWarning(
                "admin",
                f'The user "{user}" has administrative privileges ({", ".join(admin)}): it can see and end '
                "other sessions, change server settings"
                + (
                    " (SUPER also bypasses the server's read_only mode)"
                    if {"SUPER", "ALL PRIVILEGES"} & set(admin)
                    else ""
                )
                + " or stop the server.",
                advice,
            )
        )
    return warnings


def _privilege_names(text: str) -> set[str]:
    without_columns = re.sub(r"\([^)]*\)", "", text)  # SELECT (`a`, `b`) → SELECT
    return {" ".join(name.split()).upper() for name in without_columns.split(",") if name.strip()}


# --- PostgreSQL ----------------------------------------------------------------------------------------

_WRITABLE_TABLES = """
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')"""
# Run without parameters (so '%' is plain SQL). The predefined roles came with PostgreSQL 11; on older
# servers they are simply not found.
POSTGRES_PRIVILEGES_SQL = f"""
SELECT
  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  ARRAY(SELECT rolname::text FROM pg_roles
        WHERE rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
          AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname),
  (SELECT count(*) {_WRITABLE_TABLES}),
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) {_WRITABLE_TABLES} ORDER BY 1 LIMIT 3),
  ARRAY(SELECT nspname::text FROM pg_namespace WHERE nspname <> 'information_schema'
        AND nspname NOT LIKE 'pg\\_%' AND has_schema_privilege(oid, 'CREATE') ORDER BY 1),
  has_database_privilege(current_database(), 'CREATE')
"""  # noqa: S608 - no user input in it


def postgres_warnings(row: tuple[Any, ...], *, user: str, database: str) -> list[ConnectionWarning]:
    """Read the row ``POSTGRES_PRIVILEGES_SQL`` returns."""
    superuser, server_roles, writable_count, writable_examples, create_schemas, create_database = row
    role, db = _pg_identifier(user), _pg_identifier(database)
    advice = (
        f"Connect with a role that may only read: CREATE ROLE syncline LOGIN PASSWORD '…'; GRANT CONNECT ON "
        f"DATABASE {db} TO syncline; then GRANT pg_read_all_data TO syncline (PostgreSQL 14 and later) or, per "
        "schema, GRANT USAGE ON SCHEMA public TO syncline; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "
        "syncline;"
    )
    if superuser:  # a superuser holds every other privilege below, so one warning says it all
        return [
            ConnectionWarning(
                "superuser",
                f'The role "{user}" is a superuser: SQL run as it can read files on the database server '
                "(pg_read_file, lo_import), end other sessions (pg_terminate_backend) and reload the "
                "server's configuration, all inside a read-only transaction.",
                advice,
            )
        ]
    warnings = []
    if "pg_execute_server_program" in server_roles:
        warnings.append(
            ConnectionWarning(
                "server_program",
                f'The role "{user}" is a member of pg_execute_server_program: it can run programs on the '
                "database server.",
                f"REVOKE pg_execute_server_program FROM {role}; or {advice[0].lower()}{advice[1:]}",
            )
        )
    files = [name for name in ("pg_read_server_files", "pg_write_server_files") if name in server_roles]
    if files:
        warnings.append(
            ConnectionWarning(
                "server_files",
                f'The role "{user}" is a member of {" and ".join(files)}: it can '
                + " and ".join("read" if "read" in name else "write" for name in files)
                + " files on the database server.",
                f"REVOKE {', '.join(files)} FROM {role}; or {advice[0].lower()}{advice[1:]}",
            )
        )
    can = []
    if writable_count:
        can.append(
            f"INSERT, UPDATE or DELETE rows of {writable_count} tables (e.g. {', '.join(writable_examples)})"
        )
    if create_schemas:
        can.append(f"CREATE tables in {_some(create_schemas)}")
    if create_database:
        can.append(f"CREATE schemas in the database {db}")
    if can:
        extra = (
            "In PostgreSQL 14 and older every role may create tables in the schema public: REVOKE CREATE ON "
            "SCHEMA public FROM PUBLIC; "
            if "public" in create_schemas
            else ""
        )
        warnings.append(
            ConnectionWarning(
                "can_write",
                f'The role "{user}" can change data: it can {"; ".join(can)}. Syncline only reads, inside '
                "read-only transactions, but a role that can only read is the safer wall.",
                extra + advice,
            )
        )
    return warnings


def _pg_identifier(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _some(items: list[str], shown: int = 3) -> str:
    listed = ", ".join(items[:shown])
    return listed + (f" and {len(items) - shown} more" if len(items) > shown else "")


# --- Snowflake -----------------------------------------------------------------------------------------

SNOWFLAKE_ADVICE = (
    "Connect with a role that may only read: CREATE ROLE syncline_reader; GRANT USAGE ON WAREHOUSE <warehouse> "
    "TO ROLE syncline_reader; GRANT USAGE ON DATABASE <database> TO ROLE syncline_reader; GRANT USAGE ON "
    "ALL SCHEMAS IN DATABASE <database> TO ROLE syncline_reader; GRANT SELECT ON ALL TABLES IN DATABASE "
    "<database> TO ROLE syncline_reader; GRANT SELECT ON ALL VIEWS IN DATABASE <database> TO ROLE "
    "syncline_reader; GRANT ROLE syncline_reader TO USER <user>;"
)
_SNOWFLAKE_ADMIN_ROLES = ("ACCOUNTADMIN", "ORGADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN")
_SNOWFLAKE_WRITE = ("OWNERSHIP", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALL", "ALL PRIVILEGES", "MODIFY")
_SNOWFLAKE_ROLES_READ = 25  # inherited roles looked at, at most (each one a SHOW GRANTS)


def snowflake_warnings(role: str, grants: list[dict[str, Any]], grants_of) -> list[ConnectionWarning]:
    """Read ``SHOW GRANTS TO ROLE`` of the session's role (rows as dicts, lower-case keys) and, through
    ``grants_of(role)``, of the roles it inherits: the admin roles by name, and any privilege that
    writes (INSERT, UPDATE, DELETE, TRUNCATE, OWNERSHIP, CREATE …, MODIFY, ALL)."""
    seen = {role.upper()}
    writes: list[str] = []
    admin = [role] if role.upper() in _SNOWFLAKE_ADMIN_ROLES else []
    queue = [(role, grants)]
    while queue:
        holder, rows = queue.pop(0)
        for row in rows:
            privilege = str(row.get("privilege", "")).upper()
            granted_on = str(row.get("granted_on", "")).upper()
            name = str(row.get("name", ""))
            if granted_on == "ROLE" and privilege == "USAGE":  # an inherited role
                if name.upper() in _SNOWFLAKE_ADMIN_ROLES:
                    admin.append(name)
                if name.upper() not in seen and len(seen) < _SNOWFLAKE_ROLES_READ:
                    seen.add(name.upper())
                    queue.append((name, grants_of(name)))
                continue
            if privilege in _SNOWFLAKE_WRITE or privilege.startswith("CREATE "):
                via = "" if holder.upper() == role.upper() else f" (through {holder})"
                writes.append(f"{privilege} on {granted_on.lower()} {name}{via}")
    warnings = []
    if admin:
        warnings.append(
            ConnectionWarning(
                "admin",
                f'The role "{role}" is or inherits an administrative role ({", ".join(admin)}): SQL run as it '
                "can change any data, users and grants of the account.",
                SNOWFLAKE_ADVICE,
            )
        )
    if writes:
        warnings.append(
            ConnectionWarning(
                "can_write",
                f'The role "{role}" can change data ({_some(writes)}). Snowflake has no read-only session: '
                "Syncline runs one query per statement, never a write, but a role that can only read is the "
                "wall that stands behind that.",
                SNOWFLAKE_ADVICE,
            )
        )
    return warnings
