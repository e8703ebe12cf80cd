"""Sign-in: login, lockout, left employees, language remembered, session expiry."""

from django.conf import settings
from django.urls import reverse

from bizdept.org import services
from bizdept.org.tests.factories import PASSWORD


def login(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip)


def test_sign_in_and_out(client, dept):
    response = login(client, "sales")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, dept):
    response = login(client, "sales", "wrong")
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


def test_left_employee_cannot_sign_in(client, dept):
    services.employee_set_status(employee=dept.sales, status="left")
    response = login(client, "sales")
    assert response.status_code == 200  # the form again, with an error
    assert client.get(reverse("home")).status_code == 302


def test_left_employee_is_signed_out_of_an_open_session(client, dept):
    login(client, "sales")
    assert client.get(reverse("home")).status_code == 200
    services.employee_set_status(employee=dept.sales, status="left")
    assert client.get(reverse("home")).status_code == 302


def test_five_failures_lock_the_account_from_that_address(client, dept):
    for _ in range(5):
        login(client, "sales", "wrong")
    locked = login(client, "sales")  # even the right password
    assert locked.status_code in (403, 429)
    assert "locked-out" in locked.content.decode()
    # Another address can still sign in to the same account (per account AND address).
    assert login(client, "sales", ip="10.0.0.2").status_code == 302


def test_four_failures_do_not_lock(client, dept):
    for _ in range(4):
        login(client, "sales", "wrong")
    assert login(client, "sales").status_code == 302


def test_lockout_settings_match_the_rule():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_sessions_expire(client, dept):
    login(client, "sales")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_language_choice_is_remembered_on_the_account(client, dept):
    login(client, "sales")
    response = client.post(reverse("set_language"), {"language": "en", "next": "/org/units/"})
    assert response.status_code == 302 and response["Location"] == "/org/units/"
    dept.sales.user.refresh_from_db()
    assert dept.sales.user.language == "en"
    # A new session on another browser that asks for Chinese still gets English.
    client.cookies.clear()
    login(client, "sales")
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in html and "Org chart" in html


def test_default_language_is_simplified_chinese(client, dept):
    login(client, "sales")
    html = client.get(reverse("home")).content.decode()
    assert 'lang="zh-hans"' in html


def test_language_switch_refuses_foreign_redirects(client, dept):
    login(client, "sales")
    response = client.post(reverse("set_language"),
                           {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_password_change(client, dept):
    login(client, "sales")
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Another-Pass-2026",
        "new_password2": "Another-Pass-2026"})
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert login(client, "sales", "Another-Pass-2026").status_code == 302
