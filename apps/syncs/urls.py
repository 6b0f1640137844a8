from django.urls import path

from apps.syncs import views
from apps.syncs.runs import views as run_views
from apps.syncs.schedules import views as schedule_views
from apps.syncs.wizard import views as wizard

urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
    path("syncs/", views.sync_list, name="sync_list"),
    path("syncs/new/", wizard.sync_create, name="sync_create"),
    path("syncs/new/<slug:step>/", wizard.sync_create_step, name="sync_create_step"),
    path("syncs/<int:sync_id>/", views.sync_detail, name="sync_detail"),
    path("syncs/<int:sync_id>/edit/", wizard.sync_edit, name="sync_edit"),
    path("syncs/<int:sync_id>/edit/<slug:step>/", wizard.sync_edit_step, name="sync_edit_step"),
    path("syncs/<int:sync_id>/preview/", run_views.sync_preview, name="sync_preview"),
    path("syncs/<int:sync_id>/run/", run_views.sync_run_now, name="sync_run_now"),
    path("syncs/<int:sync_id>/pause/", views.sync_pause, name="sync_pause"),
    path("syncs/<int:sync_id>/refused/retry/", views.sync_refused_retry, name="sync_refused_retry"),
    path("syncs/<int:sync_id>/refused/stop/", views.sync_refused_stop, name="sync_refused_stop"),
    path("syncs/<int:sync_id>/record/", views.sync_record, name="sync_record"),
    path("syncs/<int:sync_id>/schedule/", schedule_views.sync_schedule, name="sync_schedule"),
    path("runs/", run_views.run_list, name="run_list"),
    path("runs/<int:run_id>/", run_views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/progress/", run_views.run_progress, name="run_progress"),
    path("previews/<int:preview_id>/", run_views.preview_progress, name="preview_progress"),
    path("previews/<int:preview_id>/cancel/", run_views.preview_cancel, name="preview_cancel"),
    path("runs/<int:run_id>/records.csv", run_views.run_records_csv, name="run_records_csv"),
    path("runs/<int:run_id>/cancel/", run_views.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/restore/", run_views.run_restore, name="run_restore"),
]
