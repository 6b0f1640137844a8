from django.urls import path

from apps.tenancy import views

# Mounted under /w/<workspace_slug>/.
urlpatterns = [
    path("settings/", views.workspace_settings, name="workspace_settings"),
    path("settings/members/", views.member_list, name="member_list"),
    path("settings/members/<int:membership_id>/role/", views.member_change_role, name="member_change_role"),
    path("settings/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path("leave/", views.workspace_leave, name="workspace_leave"),
]
