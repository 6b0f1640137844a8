from django.urls import path

from apps.connections import views
from apps.connections.intercom import views as intercom_views

urlpatterns = [
    path("connections/", views.connection_list, name="connection_list"),
    path("connections/sources/new/", views.source_create, name="source_create"),
    path("connections/sources/<int:connection_id>/edit/", views.source_edit, name="source_edit"),
    path("connections/<int:connection_id>/test/", views.connection_test, name="connection_test"),
    path("connections/<int:connection_id>/delete/", views.connection_delete, name="connection_delete"),
    path("connections/intercom/new/", intercom_views.intercom_new, name="intercom_new"),
    path(
        "connections/intercom/<int:destination_id>/", intercom_views.intercom_detail, name="intercom_detail"
    ),
    path(
        "connections/intercom/<int:destination_id>/reconnect/",
        intercom_views.intercom_reconnect,
        name="intercom_reconnect",
    ),
    path(
        "connections/intercom/<int:destination_id>/disconnect/",
        intercom_views.intercom_disconnect,
        name="intercom_disconnect",
    ),
    path(
        "connections/intercom/<int:destination_id>/attributes/refresh/",
        intercom_views.intercom_attributes_refresh,
        name="intercom_attributes_refresh",
    ),
    path(
        "connections/intercom/<int:destination_id>/attributes/new/",
        intercom_views.intercom_attribute_create,
        name="intercom_attribute_create",
    ),
]
