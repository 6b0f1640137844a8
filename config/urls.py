from django.contrib import admin
from django.urls import include, path

from apps.ascode.views import schema as ascode_schema
from apps.common.views import healthz, readyz
from apps.connections.intercom.views import intercom_callback
from apps.syncs.runs.metrics import metrics
from apps.syncs.styles import styles
from apps.tenancy import views as tenancy_views

workspace_patterns = [
    path("", include("apps.tenancy.urls")),
    path("", include("apps.connections.urls")),
    path("", include("apps.models.urls")),
    path("", include("apps.syncs.urls")),
    path("", include("apps.alerts.urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("schema/syncline-v1.json", ascode_schema, name="ascode_schema"),
    path("staff/styles/", styles, name="staff_styles"),
    path("workspaces/new/", tenancy_views.workspace_create, name="workspace_create"),
    path("connections/intercom/callback/", intercom_callback, name="intercom_callback"),
    path("invitations/<str:token>/", tenancy_views.invitation_accept, name="invitation_accept"),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
    path("", include("apps.api.urls")),  # /api/v1/ and /w/<slug>/settings/api-keys/
]
