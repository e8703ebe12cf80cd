"""API authentication: the session (with CSRF on writes) or a personal token, stored hashed.

Tokens are created and revoked on the profile page; the key is shown once.
"""

import hashlib

import pytest
from django.middleware.csrf import get_token
from django.test import Client
from django.urls import path, reverse
from ninja import NinjaAPI

from bizdept.core.api import AUTH, install_error_handlers
from bizdept.core.models import ApiToken
from bizdept.core.services import api_token_create, api_token_revoke
from bizdept.org.services import employee_set_status

ME = "/api/v1/employees/me"


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def assert_401(response):
    assert response.status_code == 401, response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"] and body["errors"] == {}


# --- anonymous -----------------------------------------------------------------------
def test_anonymous_gets_401_with_the_error_body(client, db):
    for url in (ME, "/api/v1/employees", "/api/v1/units", "/api/v1/units/tree",
                "/api/v1/units/1", "/api/v1/employees/1"):
        assert_401(client.get(url))


# --- personal tokens -----------------------------------------------------------------
def test_a_token_authenticates_as_its_owner(client, dept):
    token, key = api_token_create(user=dept.lead.user, name="script")
    response = client.get(ME, headers=bearer(key))
    assert response.status_code == 200
    assert response.json()["id"] == dept.lead.pk
    # the token acts with its owner's scope
    names = {row["name"] for row in
             client.get("/api/v1/employees", headers=bearer(key)).json()["items"]}
    assert names == {"所长", "业务员甲", "业务员乙"}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_sets_no_session(client, dept):
    _, key = api_token_create(user=dept.sales.user, name="script")
    response = client.get(ME, headers=bearer(key))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert_401(client.get(ME))


def test_a_revoked_token_gets_401(client, dept):
    token, key = api_token_create(user=dept.sales.user, name="script")
    assert client.get(ME, headers=bearer(key)).status_code == 200
    api_token_revoke(user=dept.sales.user, token_id=token.pk)
    assert_401(client.get(ME, headers=bearer(key)))


def test_the_token_of_an_employee_who_left_gets_401(client, dept):
    _, key = api_token_create(user=dept.sales.user, name="script")
    assert client.get(ME, headers=bearer(key)).status_code == 200
    employee_set_status(employee=dept.sales, status="left")
    assert_401(client.get(ME, headers=bearer(key)))


def test_the_token_of_a_deactivated_login_gets_401(client, dept):
    _, key = api_token_create(user=dept.sales.user, name="script")
    dept.sales.user.is_active = False
    dept.sales.user.save()
    assert_401(client.get(ME, headers=bearer(key)))


@pytest.mark.parametrize("header", [
    "Bearer bd_not-a-real-token",
    "Bearer not-even-the-prefix",
    "Bearer ",
    "Bearer bd_" + "x" * 500,
    "Token {key}",
    "Basic {key}",
    "{key}",
    "bearer {key} extra",
])
def test_wrong_or_malformed_tokens_get_401(client, dept, header):
    _, key = api_token_create(user=dept.sales.user, name="script")
    assert_401(client.get(ME, HTTP_AUTHORIZATION=header.format(key=key)))


def test_the_scheme_name_is_case_insensitive(client, dept):
    _, key = api_token_create(user=dept.sales.user, name="script")
    assert client.get(ME, HTTP_AUTHORIZATION=f"bearer {key}").status_code == 200


def test_only_the_sha256_of_the_key_is_stored(dept):
    token, key = api_token_create(user=dept.sales.user, name="script")
    assert key.startswith("bd_") and len(key) > 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(row)
    assert all(key not in str(value) for value in row.values())
    assert row["prefix"] == key[:10]  # a hint to tell tokens apart, not the key


def test_each_token_is_unique(dept):
    keys = {api_token_create(user=dept.sales.user, name=f"t{i}")[1] for i in range(5)}
    assert len(keys) == 5
    assert ApiToken.objects.values("key_hash").distinct().count() == 5


# --- session -------------------------------------------------------------------------
def test_the_session_authenticates_reads(client, dept):
    client.force_login(dept.manager.user)
    response = client.get(ME)
    assert response.status_code == 200 and response.json()["id"] == dept.manager.pk


def test_session_reads_need_no_csrf_token(dept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept.manager.user)
    assert client.get(ME).status_code == 200


def test_a_session_of_an_employee_who_left_gets_401(client, dept):
    client.force_login(dept.sales.user)
    assert client.get(ME).status_code == 200
    employee_set_status(employee=dept.sales, status="left")
    assert_401(client.get(ME))


# Writes: the project has no unsafe endpoint yet, so a probe API with the project's own
# AUTH and error handlers stands in for the first one.
probe_api = NinjaAPI(urls_namespace="csrf-probe", auth=AUTH, docs_url=None, openapi_url=None)
install_error_handlers(probe_api)


@probe_api.post("/write")
def write(request):
    return {"user": request.user.get_username()}


@probe_api.get("/csrf", auth=None)
def csrf(request):
    return {"token": get_token(request)}


urlpatterns = [path("probe/", probe_api.urls)]


@pytest.mark.urls(__name__)
def test_a_session_write_without_the_csrf_token_is_refused(dept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept.sales.user)
    response = client.post("/probe/write")
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]


@pytest.mark.urls(__name__)
def test_a_session_write_with_the_csrf_token_is_accepted(dept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept.sales.user)
    token = client.get("/probe/csrf").json()["token"]
    assert "csrftoken" in client.cookies
    response = client.post("/probe/write", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json() == {"user": "sales"}


@pytest.mark.urls(__name__)
def test_a_token_write_needs_no_csrf_token(dept):
    _, key = api_token_create(user=dept.sales.user, name="script")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/probe/write", headers=bearer(key))
    assert response.status_code == 200 and response.json() == {"user": "sales"}


@pytest.mark.urls(__name__)
def test_an_anonymous_write_is_refused(db):
    response = Client(enforce_csrf_checks=True).post("/probe/write")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail", "errors"}


# --- the profile page ----------------------------------------------------------------
def test_profile_creates_a_token_and_shows_the_key_once(client, dept):
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "create_token", "name": "报表脚本"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key and key.startswith("bd_")
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=dept.sales.user)
    assert token.name == "报表脚本" and token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # shown once: the next visit lists the token by its prefix, never the key
    html = client.get(reverse("profile")).content.decode()
    assert "报表脚本" in html and token.prefix in html and key not in html
    # and the key works
    assert Client().get(ME, headers=bearer(key)).json()["id"] == dept.sales.pk


def test_profile_token_needs_a_name(client, dept):
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "create_token", "name": "  "})
    assert response.status_code == 200
    assert response.context["new_key"] is None
    assert "name" in response.context["errors"]
    assert "is-invalid" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_profile_revokes_my_token(client, dept):
    token, key = api_token_create(user=dept.sales.user, name="script")
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "revoke_token", "token_id": token.pk})
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_401(Client().get(ME, headers=bearer(key)))


def test_profile_cannot_revoke_another_users_token(client, dept):
    token, key = api_token_create(user=dept.lead.user, name="lead's script")
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "revoke_token", "token_id": token.pk})
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get(ME, headers=bearer(key)).status_code == 200


@pytest.mark.parametrize("token_id", ["", "abc", "999999", "-1"])
def test_profile_revoke_with_a_bad_id_answers_404(client, dept, token_id):
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "revoke_token", "token_id": token_id})
    assert response.status_code == 404


def test_profile_lists_only_my_tokens(client, dept):
    api_token_create(user=dept.lead.user, name="not mine")
    api_token_create(user=dept.sales.user, name="mine")
    client.force_login(dept.sales.user)
    html = client.get(reverse("profile")).content.decode()
    assert "mine" in html and "not mine" not in html


def test_profile_writes_need_the_csrf_token(dept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept.sales.user)
    response = client.post(reverse("profile"), {"action": "create_token", "name": "x"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()
