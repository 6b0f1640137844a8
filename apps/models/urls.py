from django.urls import path

from apps.models import views
from apps.models.dbt import views as dbt_views

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:model_id>/", views.model_edit, name="model_edit"),
    path("models/<int:model_id>/delete/", views.model_delete, name="model_delete"),
    path("models/sources/<int:connection_id>/catalog/", views.source_catalog, name="model_source_catalog"),
    path("models/dbt/", dbt_views.dbt_projects, name="dbt_projects"),
    path("models/dbt/load/", dbt_views.dbt_manifest_load, name="dbt_manifest_load"),
    path("models/dbt/<int:dbt_project_id>/reload/", dbt_views.dbt_project_reload, name="dbt_project_reload"),
    path("models/dbt/models/<int:dbt_model_id>/use/", dbt_views.dbt_model_use, name="dbt_model_use"),
]
