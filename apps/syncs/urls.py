from django.urls import path

from apps.syncs import views

urlpatterns = [
    path("syncs/", views.sync_list, name="sync_list"),
    path("runs/", views.run_list, name="run_list"),
]
