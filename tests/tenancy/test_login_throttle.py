"""Wrong passwords are throttled per account *and* address: a stranger who types a user's email with
wrong passwords is stopped, and the user, from their own address, still logs in."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

STRANGER, USER = "203.0.113.7", "198.51.100.20"


def log_in(address, email, password):
    client = Client(REMOTE_ADDR=address)
    return client.post(reverse("account_login"), {"login": email, "password": password})


def refused_for_too_many(response) -> bool:
    return response.status_code == 200 and "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_a_strangers_wrong_passwords_never_lock_the_user_out():
    user = UserFactory()
    answers = [log_in(STRANGER, user.email, f"guess-{n}") for n in range(10)]
    assert answers[0].status_code == 200 and not refused_for_too_many(answers[0])  # a plain wrong password
    assert refused_for_too_many(answers[-1])  # the stranger's address is throttled for this account

    assert refused_for_too_many(log_in(STRANGER, user.email, TEST_PASSWORD))  # even with the right one
    answer = log_in(USER, user.email, TEST_PASSWORD)  # the user, from their own address
    assert answer.status_code == 302, answer.content.decode()[:500]


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_throttled_too():
    users = UserFactory.create_batch(11)
    answers = [log_in(STRANGER, u.email, "wrong-password") for u in users]
    assert not refused_for_too_many(answers[0])
    assert refused_for_too_many(answers[-1])  # the 11th failure in a minute from one address
