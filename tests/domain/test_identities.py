"""What the provider's claims make of an account: its username, name, email and role."""

from __future__ import annotations

import pytest

from helpdesk.domain.identities import Identity, groups_of, role_for, username_base
from helpdesk.models import Role

STAFF = frozenset({"helpdesk-staff"})


@pytest.mark.parametrize(
    ("preferred", "username"),
    [
        ("Maya.K@campus.example", "maya.k"),
        ("José Ramírez", "jose-ramirez"),
        ("li", "user-li"),
        ("", "user"),
        ("a" * 40, "a" * 28),
        ("--x__", "user-x"),
    ],
)
def test_a_preferred_username_is_cleaned_to_the_username_rules(preferred, username):
    assert username_base(preferred) == username


def test_groups_may_be_a_list_or_one_name():
    assert groups_of(["a", "b", 3]) == {"a", "b"}
    assert groups_of("a") == {"a"}
    assert groups_of(None) == frozenset()


@pytest.mark.parametrize(
    ("current", "groups", "role"),
    [
        (None, {"helpdesk-staff"}, Role.STAFF),
        (None, {"students"}, Role.USER),
        (Role.STAFF, set(), Role.USER),
        (Role.USER, {"helpdesk-staff", "x"}, Role.STAFF),
        (Role.ADMIN, set(), Role.ADMIN),
    ],
)
def test_the_role_follows_the_groups_but_admins_stay_admins(current, groups, role):
    assert role_for(current, frozenset(groups), STAFF) == role


def test_an_email_is_kept_only_when_verified_and_a_bad_name_is_dropped():
    claims = {"sub": "s1", "email": "a@campus.example", "email_verified": "true", "name": ""}
    identity = Identity.from_claims("https://idp", claims, "groups")
    assert identity.email is None
    assert identity.name is None
    verified = Identity.from_claims("https://idp", {**claims, "email_verified": True}, "groups")
    assert verified.email == "a@campus.example"
