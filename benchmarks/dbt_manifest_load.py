"""Cost of loading a large dbt project's manifest.json (apps/models/dbt): reading it, the first load, and a
reload after a dbt run that moved 1 % of the relations and dropped 1 % of the models, with 200 Syncline
models reading dbt models.

The manifest is written here: N models (5 documented columns each) and, as in real projects, many more
macros and tests than models, so that its size is that of a large project's manifest. Each phase runs
three times side by side (the first load in a fresh project each time); prints seconds and SQL queries for
each, and their medians. The LAST line is the number of SQL queries of a reload.

Run: ``.venv/bin/python benchmarks/dbt_manifest_load.py [--models 5000]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import django_setup, drop_database, peak_mb  # noqa: E402

DATABASE = "syncline_bench_dbt21"


def manifest(models: int, *, moved: int = 0, dropped: int = 0) -> bytes:
    nodes = {}
    for i in range(dropped, models):
        schema = "marts_v2" if i < dropped + moved else "marts"
        nodes[f"model.shop.m{i}"] = {
            "resource_type": "model", "name": f"m{i}", "package_name": "shop", "unique_id": f"model.shop.m{i}",
            "database": "dev", "schema": schema, "alias": f"m{i}", "relation_name": f'"dev"."{schema}"."m{i}"',
            "config": {"materialized": "table", "tags": [], "meta": {}}, "description": f"Model {i}. " * 8,
            "columns": {f"c{j}": {"name": f"c{j}", "description": "A column. " * 5, "data_type": "varchar"}
                        for j in range(5)},
            "raw_code": "select * from {{ ref('x') }} " * 20, "depends_on": {"nodes": [], "macros": []},
        }  # fmt: skip
    for i in range(models * 3):  # tests: several per model
        nodes[f"test.shop.t{i}"] = {
            "resource_type": "test",
            "name": f"t{i}",
            "raw_code": "{{ test() }} " * 20,
        }
    macros = {f"macro.pkg.x{i}": {"name": f"x{i}", "macro_sql": "{% macro x() %} select 1 {% endmacro %} " * 10}
              for i in range(models * 4)}  # fmt: skip
    return json.dumps(
        {
            "metadata": {
                "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                "dbt_version": "1.9.4",
                "project_name": "shop",
            },
            "nodes": nodes,
            "macros": macros,
            "sources": {},
            "docs": {},
        }
    ).encode()


def timed(step):
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = step()
        elapsed = time.perf_counter() - started
    return result, elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=5000)
    args = parser.parse_args()
    django_setup(DATABASE)
    try:
        run(args.models)
    finally:
        drop_database(DATABASE)


def run(n: int) -> None:
    from apps.models.dbt.manifest import parse_manifest
    from apps.models.dbt.services import dbt_manifest_upload
    from apps.models.models import DbtModel, SqlModel
    from apps.tenancy.models import Workspace
    from tests.factories import SourceConnectionFactory

    first, second = manifest(n), manifest(n, moved=n // 100, dropped=n // 100)
    print(f"manifest: {n:,} models, {len(first) / 1024 / 1024:.1f} MB")
    phases: dict[str, list[tuple[float, int]]] = {"parse": [], "first load": [], "reload": []}
    for repeat in range(3):
        workspace = Workspace.objects.create(name=f"Bench {repeat}", slug=f"bench-{repeat}")
        source = SourceConnectionFactory(workspace=workspace, type="postgres", name="Warehouse")
        _, seconds, _ = timed(partial(parse_manifest, first))
        phases["parse"].append((seconds, 0))
        load = partial(dbt_manifest_upload, workspace=workspace, user=None, source=source)
        _, seconds, queries = timed(partial(load, content=first))
        phases["first load"].append((seconds, queries))
        readers = [f"m{i}" for i in range(200)]  # m0-m9 dropped next, m10-m19 moved (with n=1,000)
        for dbt_model in DbtModel.objects.for_workspace(workspace).filter(name__in=readers):
            SqlModel.objects.create(
                workspace=workspace, name=dbt_model.name, source=source, sql="SELECT 1", primary_key="c0",
                dbt_model=dbt_model,
            )  # fmt: skip
        result, seconds, queries = timed(partial(load, content=second))
        phases["reload"].append((seconds, queries))
        assert len(result.changed) == n // 100 and len(result.missing) == n // 100, result.summary
        moved = SqlModel.objects.for_workspace(workspace).filter(sql__contains="marts_v2").count()
        assert moved == n // 100, moved  # the readers of moved models follow them
        for phase, figures in phases.items():
            print(f"run {repeat + 1}  {phase:<10} {figures[-1][0]:7.3f} s  {figures[-1][1]:>6,} queries")
    for phase, figures in phases.items():
        median = statistics.median(seconds for seconds, _ in figures)
        print(f"median {phase:<10} {median:7.3f} s  {figures[0][1]:>6,} queries")
    print(f"peak memory {peak_mb():.0f} MB")
    print(f"reload of {n:,} models: {phases['reload'][0][1]:,} SQL queries")


if __name__ == "__main__":
    main()
