"""Preview and extraction of a 100,000-row BigQuery model, against bqemulator (the real google-cloud-bigquery
client over HTTP): time and peak memory.

Starts bqemulator (tests/fixtures/fake_bigquery.py; it needs .venv-bqemulator, which ./syncline test makes),
loads 100,000 users with 10 columns, then runs each measurement three times, each in a fresh Python process
that reports its own peak resident memory (VmHWM), and prints medians:
  - idle:    a process that imports the adapter and runs the connection test, the floor under the others;
  - preview: ``BigQuerySource.preview`` (a dry run, then 100 rows);
  - stream:  ``BigQuerySource.stream`` of every row in pages of 10,000 (rows discarded).
The last line printed is the median peak memory of the streamed extraction, in MB.

Run: ``.venv/bin/python benchmarks/preview_large_model_bigquery.py [--users N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.preview_large_model import _peak_mb  # noqa: E402

RUNS = 3
TABLE = "syncline.users"
MODEL_SQL = f"SELECT * FROM {TABLE}"  # noqa: S608 - a constant


def _source(endpoint: str):
    from apps.connections.sources.registry import open_source
    from tests.fixtures.fake_bigquery import BIGQUERY_PROJECT, service_account_json

    values = {"project": BIGQUERY_PROJECT, "service_account_json": service_account_json()}
    return open_source("bigquery", values, bigquery_endpoint=endpoint)


def worker(kind: str, endpoint: str) -> dict:
    source = _source(endpoint)
    rows = 0
    started = time.perf_counter()
    if kind == "idle":
        source.test()
    elif kind == "preview":
        preview = source.preview(MODEL_SQL)
        assert len(preview.rows) == 100 and preview.has_more
        rows = len(preview.rows)
    elif kind == "stream":
        for batch in source.stream(MODEL_SQL, batch_size=10_000):
            rows += len(batch.rows)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "rows": rows}


def measure(kind: str, endpoint: str) -> list[dict]:
    results = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", kind, "--endpoint", endpoint],
            capture_output=True, text=True, check=True, timeout=900,
        )  # fmt: skip
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--worker", choices=["idle", "preview", "stream"])
    parser.add_argument("--endpoint")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.endpoint)))
        return 0

    from tests.fixtures.fake_bigquery import running_bqemulator

    with running_bqemulator() as server:
        started = time.perf_counter()
        server.run(
            f"CREATE OR REPLACE TABLE {TABLE} AS SELECT x + 1 AS id, "  # noqa: S608 - the benchmark's own
            "CONCAT('user', CAST(x AS STRING), '@example.com') AS email, CONCAT('User ', CAST(x AS STRING)) AS name, "
            "IF(MOD(x, 3) = 0, 'pro', 'free') AS plan, MOD(x, 1000) / 7.0 AS mrr, "
            "MOD(x, 50) AS seats, TO_HEX(MD5(CAST(x AS STRING))) AS external_id, 'Zoë 🚀' AS note, "
            "MOD(x, 2) = 0 AS active, CAST(NULL AS STRING) AS nothing "
            f"FROM UNNEST(GENERATE_ARRAY(0, {args.users - 1})) AS x"
        )
        print(f"loaded {args.users:,} users into bqemulator in {time.perf_counter() - started:.1f} s")
        print(f"model: {MODEL_SQL}   (10 columns; medians of {RUNS} fresh processes each)")
        medians = {}
        for kind in ("idle", "preview", "stream"):
            results = measure(kind, server.endpoint)
            medians[kind] = {
                "seconds": statistics.median(r["seconds"] for r in results),
                "peak_mb": statistics.median(r["peak_mb"] for r in results),
                "rows": results[0]["rows"],
            }
            m = medians[kind]
            print(
                f"{kind:8} rows={m['rows']:>9,}  time={m['seconds']:8.3f} s  peak RSS={m['peak_mb']:7.1f} MB"
            )
        above = medians["stream"]["peak_mb"] - medians["idle"]["peak_mb"]
        print(f"extraction peak RSS above the idle process (MB): {above:.1f}")
        print("extraction peak RSS (MB), median:")
        print(f"{medians['stream']['peak_mb']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
