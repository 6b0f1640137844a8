from django.urls import path

from apps.alerts import views

# Mounted under /w/<workspace_slug>/.
urlpatterns = [
    path("settings/alerts/", views.alert_settings, name="alert_settings"),
    path("syncs/<int:sync_id>/alerts/", views.sync_alerts, name="sync_alerts"),
    path("settings/webhooks/", views.webhook_list, name="webhook_settings"),
    path("settings/webhooks/<int:webhook_id>/", views.webhook_detail, name="webhook_settings_edit"),
    path("settings/webhooks/<int:webhook_id>/test/", views.webhook_test, name="webhook_settings_test"),
    path(
        "settings/webhooks/<int:webhook_id>/rotate/",
        views.webhook_rotate_secret,
        name="webhook_settings_rotate",
    ),
    path("settings/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_settings_delete"),
]
