from django.urls import path

from apps.api import views
from apps.api.endpoints import api

urlpatterns = [
    path("api/v1/", api.urls),
    # The settings page lives with the other workspace settings (/w/<slug>/settings/…).
    path("w/<slug:workspace_slug>/settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path(
        "w/<slug:workspace_slug>/settings/api-keys/<int:api_key_id>/revoke/",
        views.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
]
