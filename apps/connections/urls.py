from django.urls import path

from apps.connections import views

urlpatterns = [
    path("connections/", views.connection_list, name="connection_list"),
]
