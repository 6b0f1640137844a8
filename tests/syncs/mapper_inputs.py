"""The mapper's posted inputs, written as the rows a user sees (apps/syncs/wizard/mapper.py)."""

from __future__ import annotations


def mapped(*rows: tuple, **extra: str) -> dict[str, str]:
    """Each row is (target, value) or (target, value, {"null": …, "unit": …}): the target a slug (`std:name`,
    `cus:plan`), the value a column name or `=constant`. Keyword arguments are the step's other inputs."""
    data: dict[str, str] = {}
    for index, (target, value, *more) in enumerate(rows):
        prefix = f"map-{index}-"
        data[f"{prefix}target"] = target
        if value.startswith("="):
            data[f"{prefix}constant"] = value[1:]
        else:
            data[f"{prefix}column"] = value
        for name, given in (more[0] if more else {}).items():
            data[f"{prefix}{name}"] = given
    return data | extra
