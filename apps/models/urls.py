from django.urls import path

from apps.models import views

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:model_id>/", views.model_edit, name="model_edit"),
    path("models/<int:model_id>/delete/", views.model_delete, name="model_delete"),
]
