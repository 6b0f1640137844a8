from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.tenancy.models import Invitation, Membership, User, Workspace


class AcrossWorkspacesAdmin(admin.ModelAdmin):
    """The admin is for operators of the whole installation, so it reads every tenant's rows."""

    def get_queryset(self, request):
        return self.model.objects.across_all_workspaces_unsafe()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(AcrossWorkspacesAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role"]


@admin.register(Invitation)
class InvitationAdmin(AcrossWorkspacesAdmin):
    list_display = ["email", "workspace", "role", "expires_at", "accepted_at"]
    exclude = ["token_hash"]
