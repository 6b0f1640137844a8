"""Syncs: a saved SQL model kept in step with Intercom, and the runs that do it.

Map of the house (each package owns its services, selectors, views and forms; dependencies point down this
list, and the import contracts in pyproject.toml hold them there):

    models.py, tasks.py   the tables (Sync, SyncRun, LedgerEntry, RecordResult) and the Celery entry points
    engine/               plain Python, no Django: the sync's configuration (`SyncConfig`), the planner, the
                          payload builder, the loader, the outcome vocabulary (`RunCounts`) and date units
    runs/                 a run from start to end: start, cancel, restore and the reaper (services); the
                          plan of a run (planning), its preview (a dry run
                          planned by a worker: preview_runs), the recorder of counts, ledger writes and
                          record results, the Intercom loop, the watch (heartbeat, cancel, shutdown), the
                          executor that ties them; the ledger in the database, drift, events in flight, how
                          a run's end is announced (lifecycle), its status rules and metrics; the run pages
    schedules/            when a sync runs next (compute: pure), saving a schedule and the beat's pass over
                          due syncs and sequences (services), the schedule page
    wizard/               the sync wizard: its step forms and views
    services.py,          the sync itself: saving and validating its configuration, pausing, the refused
    selectors.py,         records' "Retry now" and "Stop retrying"; the sync list, the sync page, a record's
    views.py              page and the workspace's home dashboard
"""
