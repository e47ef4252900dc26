"""University sign-in settings are checked once, at start-up, with a message naming the variable."""

from __future__ import annotations

import pytest

from helpdesk.config import ConfigError, load_settings

ISSUER = "https://login.campus.example/realms/campus"
CLIENT = {"HELPDESK_OIDC_CLIENT_ID": "helpdesk", "HELPDESK_OIDC_CLIENT_SECRET": "s3cret"}


def settings(tmp_path, **environ: str):
    base = {"HELPDESK_INSTANCE_PATH": str(tmp_path), "HELPDESK_SECRET_KEY": "k" * 32}
    return load_settings(environ={**base, **environ})


def test_the_oidc_settings_come_from_the_environment(tmp_path):
    loaded = settings(
        tmp_path,
        HELPDESK_OIDC_ISSUER=ISSUER,
        HELPDESK_OIDC_STAFF_GROUPS="helpdesk-staff, /it/support/ ,",
        HELPDESK_PASSWORD_LOGIN="false",
        **CLIENT,
    )
    assert loaded.oidc_enabled
    assert loaded.oidc_staff_groups == ("helpdesk-staff", "/it/support/")
    assert loaded.oidc_groups_claim == "groups"
    assert loaded.password_login is False


def test_without_an_issuer_university_sign_in_is_off_and_passwords_on(tmp_path):
    loaded = settings(tmp_path)
    assert not loaded.oidc_enabled
    assert loaded.password_login is True


@pytest.mark.parametrize(
    "issuer",
    ["http://login.campus.example", "ftp://login.campus.example", "https://", f"{ISSUER}?x=1"],
)
def test_an_issuer_must_be_https(tmp_path, issuer):
    with pytest.raises(ConfigError, match="HELPDESK_OIDC_ISSUER"):
        settings(tmp_path, HELPDESK_OIDC_ISSUER=issuer, **CLIENT)


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:8080", "http://localhost:9000/realm"])
def test_plain_http_is_allowed_only_to_this_machine(tmp_path, issuer):
    assert settings(tmp_path, HELPDESK_OIDC_ISSUER=issuer, **CLIENT).oidc_issuer == issuer


@pytest.mark.parametrize("missing", sorted(CLIENT))
def test_an_issuer_needs_its_client_id_and_secret(tmp_path, missing):
    client = {name: value for name, value in CLIENT.items() if name != missing}
    with pytest.raises(ConfigError, match=missing):
        settings(tmp_path, HELPDESK_OIDC_ISSUER=ISSUER, **client)


def test_passwords_cannot_be_turned_off_without_another_way_in(tmp_path):
    with pytest.raises(ConfigError, match="HELPDESK_PASSWORD_LOGIN"):
        settings(tmp_path, HELPDESK_PASSWORD_LOGIN="false")
