"""One error body everywhere under /api/, in the user's language."""


def test_unknown_api_path_answers_json_404(client, dept):
    client.force_login(dept.sales.user)
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "errors": {}}


def test_wrong_method_answers_json_405(client, dept):
    client.force_login(dept.sales.user)
    response = client.delete("/api/v1/employees/me")
    assert response.status_code in (403, 405)  # CSRF refuses a session DELETE first
    assert set(response.json()) == {"detail", "errors"}


def test_wrong_method_with_a_token_answers_json_405(client, dept):
    from bizdept.core.services import api_token_create

    _, key = api_token_create(user=dept.sales.user, name="t")
    response = client.delete("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405
    assert set(response.json()) == {"detail", "errors"}


def test_input_errors_are_named_and_translated(client, dept):
    client.force_login(dept.sales.user)
    body = client.get("/api/v1/employees", {"page_size": "0"}).json()
    assert body["errors"] == {"page_size": ["不能小于 1。"]}
    dept.sales.user.language = "en"
    dept.sales.user.save()
    body = client.get("/api/v1/employees", {"page": "x"}).json()
    assert body["detail"] == "The request is not valid."
    assert body["errors"] == {"page": ["Enter a whole number."]}


def test_a_query_parameter_given_twice_is_refused_naming_it(client, dept):
    client.force_login(dept.director.user)
    for path in ("/api/v1/customers?q=a&q=b", "/api/v1/employees?page=1&page=2",
                 "/api/v1/approvals/requests?status=pending&status=approved"):
        response = client.get(path)
        assert response.status_code == 422, path
        body = response.json()
        assert body["detail"] and list(body["errors"]) in (["q"], ["page"], ["status"])


def test_an_unreadable_multipart_body_answers_400_not_500(client, dept):
    """Found by the fuzzer: a part whose headers exceed Django's limit made the upload
    endpoint answer 500. Any body Django cannot parse is the client's error."""
    from bizdept.core.services import api_token_create

    _, key = api_token_create(user=dept.director.user, name="t")
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.xlsx\"\r\nX-Padding: {'x' * 20_000}\r\n\r\ndata\r\n"
            f"--{boundary}--\r\n").encode()
    response = client.post("/api/v1/customers/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
