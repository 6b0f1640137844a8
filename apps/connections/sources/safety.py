"""The parser half of "user SQL can only read": exactly one statement, and that statement a query.

This is the first of two locks. The second is the database itself (a read-only transaction, a read-only
file, a driver that refuses multiple statements), applied by each adapter whatever this module says, so a
write the parser cannot see (a function with side effects) is still refused.

The check is an allow-list at the top (SELECT, WITH … SELECT, VALUES, TABLE, set operations) and a
deny-list inside the tree (data-modifying CTEs, SELECT … INTO, row locks, commands the parser did not
understand).
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from .errors import QueryError, UnsafeQueryError, line_and_column

# sqlglot logs a warning when it falls back to an opaque Command (e.g. for CALL); we refuse those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)

# What a statement is, in the words the refusal uses.
_REFUSED_NODES: tuple[tuple[type[exp.Expression], str], ...] = (
    (exp.Insert, "INSERT writes rows"),
    (exp.Update, "UPDATE writes rows"),
    (exp.Delete, "DELETE removes rows"),
    (exp.Merge, "MERGE writes rows"),
    (exp.Create, "CREATE changes the schema"),
    (exp.Drop, "DROP changes the schema"),
    (exp.Alter, "ALTER changes the schema"),
    (exp.TruncateTable, "TRUNCATE removes rows"),
    (exp.Copy, "COPY reads or writes files and programs"),
    (exp.Set, "SET changes session settings"),
    (exp.Transaction, "BEGIN controls transactions"),
    (exp.Commit, "COMMIT controls transactions"),
    (exp.Rollback, "ROLLBACK controls transactions"),
    (exp.Into, "SELECT … INTO creates a table"),
    (exp.Lock, "SELECT … FOR UPDATE/SHARE locks rows"),
    (exp.Pragma, "PRAGMA changes database settings"),
    (exp.Use, "USE changes the current database"),
    (exp.LoadData, "LOAD DATA writes rows"),
    (exp.Grant, "GRANT changes permissions"),
    (exp.Command, "this statement is not a query"),
)

READ_ONLY_HINT = "Syncline only runs a single read-only query (SELECT, WITH … SELECT or VALUES)."

# MySQL and MariaDB run the text inside /*! … */ (MariaDB also /*M! … */) as SQL, and read /*+ … */ as
# optimizer hints (MAX_EXECUTION_TIME lifts the statement time limit); every other parser, sqlglot
# included, skips them as comments, so the check would pass SQL it never saw (INTO OUTFILE, UNION …).
# Refused anywhere in the text, even inside a string literal: where a string ends depends on the
# server's sql_mode, and the check must not guess.
_MYSQL_EXECUTED_COMMENT = re.compile(r"/\*(?:[Mm]?!|\+)")


def checked_query(sql: str, dialect: str) -> str:
    """Return ``sql`` trimmed to its one statement (no trailing semicolon or comment) if it is a single
    read-only query in ``dialect``; otherwise raise ``UnsafeQueryError`` (or ``QueryError`` for SQL the
    parser cannot read, with its line and column)."""
    if dialect == "mysql":
        _refuse_executed_comments(sql)
    body, tokens = _single_statement(sql, dialect)
    try:
        statements = [s for s in sqlglot.parse(body, read=dialect) if s is not None]
        refusal = _refusal(statements[0]) if len(statements) == 1 else None
    except ParseError as error:
        # sqlglot does not know every corner of every dialect (and cannot tell a typo from one). If the
        # tokens alone show a plain query, let the database parse it: it gives the better error, and
        # its read-only transaction still stands behind this check.
        _lenient_check(tokens, error)
        return body
    except RecursionError:
        # The parser recurses once per nesting level; past Python's stack limit it cannot read the SQL,
        # so it cannot vouch for it either.
        depth = _deepest_nesting(tokens)
        raise QueryError(
            "the SQL is too deeply nested"
            + (f" ({depth} levels of parentheses)" if depth > 1 else "")
            + " for Syncline's check to read. Flatten it, for example with WITH … AS (…) steps or fewer "
            "nested expressions.",
            reported_by="Syncline's SQL check",
        ) from None
    if len(statements) != 1:  # the tokenizer and the parser disagree; refuse rather than guess
        raise UnsafeQueryError(f"Only one statement can be run; found {len(statements)}. {READ_ONLY_HINT}")
    statement = statements[0]
    if refusal:
        raise UnsafeQueryError(f"This SQL was refused: {refusal}. {READ_ONLY_HINT}")
    if not isinstance(statement, _QUERY_ROOTS):
        raise UnsafeQueryError(
            f"This SQL was refused: a {statement.key.upper()} statement is not a query. {READ_ONLY_HINT}"
        )
    return body


def _refusal(statement: exp.Expression) -> str | None:
    for node in statement.walk():
        for node_type, reason in _REFUSED_NODES:
            if isinstance(node, node_type):
                if node_type is exp.Command:
                    return f"{str(node.this).upper()} is not a query"
                return reason
    return None


def _refuse_executed_comments(sql: str) -> None:
    match = _MYSQL_EXECUTED_COMMENT.search(sql)
    if match is None:
        return
    line, column = line_and_column(sql, match.start())
    if match.group().endswith("+"):
        what = "an optimizer hint (/*+ … */), which can lift the connection's time limit"
    else:
        what = (
            f"a MySQL/MariaDB executable comment ({match.group()} … */): the server runs what is inside it "
            "as SQL, unseen by Syncline's check"
        )
    raise UnsafeQueryError(
        f"This SQL was refused: line {line}, column {column} starts {what}. Write that SQL without the "
        "comment markers, or remove it (inside a string, split the marker: CONCAT('/*', '!')). "
        + READ_ONLY_HINT
    )


def _deepest_nesting(tokens: list) -> int:
    depth = deepest = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
    return deepest


# Keywords that never belong in a read-only query (checked only when the full parser gave up).
_WRITE_TOKENS = frozenset(
    {
        TokenType.INSERT,
        TokenType.UPDATE,
        TokenType.DELETE,
        TokenType.MERGE,
        TokenType.INTO,
        TokenType.CREATE,
        TokenType.DROP,
        TokenType.ALTER,
        TokenType.COPY,
        TokenType.COMMAND,
        TokenType.SET,
        TokenType.COMMIT,
        TokenType.ROLLBACK,
        TokenType.BEGIN,
        TokenType.TRUNCATE,
        TokenType.PRAGMA,
        TokenType.USE,
        TokenType.GRANT,
        TokenType.REPLACE,
        TokenType.LOAD,
    }
)
_QUERY_START_TOKENS = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.L_PAREN})


def _lenient_check(tokens: list, error: ParseError) -> None:
    writes = [t for t in tokens if t.token_type in _WRITE_TOKENS]
    if tokens[0].token_type in _QUERY_START_TOKENS and not writes:
        return
    detail = error.errors[0] if error.errors else {}
    raise UnsafeQueryError(
        "This SQL was refused: Syncline could not parse it "
        f"({detail.get('description', 'unexpected syntax')}, line {detail.get('line')}, "
        f"column {detail.get('col')}) and it contains "
        + (f"the keyword {writes[0].text.upper()}" if writes else "no leading SELECT, WITH or VALUES")
        + f". {READ_ONLY_HINT}"
    )


def _single_statement(sql: str, dialect: str) -> tuple[str, list]:
    """Split on semicolons with the dialect's tokenizer (so a ';' inside a string or comment does not
    count) and return the text of the only statement, cut after its last token."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except TokenError as error:
        raise QueryError(f"it could not read this SQL: {error}", reported_by="Syncline's SQL check") from None
    statements: list[list] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    non_empty = [s for s in statements if s]
    if not non_empty:
        raise QueryError("the SQL is empty. Write a SELECT query.", reported_by="Syncline's SQL check")
    if len(non_empty) > 1:
        raise UnsafeQueryError(
            f"Only one statement can be run; found {len(non_empty)} separated by semicolons. {READ_ONLY_HINT}"
        )
    only = non_empty[0]
    return sql[: only[-1].end + 1], only
