from django.urls import path

from apps.connections import views

urlpatterns = [
    path("connections/", views.connection_list, name="connection_list"),
    path("connections/sources/new/", views.source_create, name="source_create"),
    path("connections/sources/<int:connection_id>/edit/", views.source_edit, name="source_edit"),
    path("connections/<int:connection_id>/test/", views.connection_test, name="connection_test"),
    path("connections/<int:connection_id>/delete/", views.connection_delete, name="connection_delete"),
]
