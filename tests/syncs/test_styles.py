"""The staff-only style page: every component with its variants for staff; a 404 for anyone else, the login
page first for someone logged out."""

import pytest
from django.urls import reverse

from apps.syncs.models import RunStatus
from tests.factories import UserFactory

URL = "/staff/styles/"


@pytest.mark.django_db
def test_staff_see_every_component(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for component in (
        'class="card',
        'class="table-scroll"',
        'class="empty-state"',
        'class="flash flash-error"',
    ):
        assert component in html, component
    for value, label in RunStatus.choices:
        assert f'<span class="status status-{value}">{label}</span>' in html
    assert 'aria-invalid="true"' in html  # a field with its error, from includes/field.html
    assert "This form&#x27;s own error" in html  # includes/form_errors.html


@pytest.mark.django_db
def test_a_member_who_is_not_staff_gets_a_404(client, owner):
    client.force_login(owner)
    assert client.get(URL).status_code == 404


@pytest.mark.django_db
def test_someone_logged_out_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
