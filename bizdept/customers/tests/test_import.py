"""CUS-12: customers and contacts imported from Excel, with the services' own rules, a
row-by-row report, two modes, constant queries per batch; the pages and the API."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from bizdept.customers import services
from bizdept.customers.choices import OwnerChangeKind
from bizdept.customers.models import Contact, Customer, OwnerChange
from bizdept.customers.tests.factories import credit_code, make_customer, mobile, unique_name
from bizdept.imports import services as imports
from bizdept.imports.models import ImportIssue, ImportJob

CUSTOMER_HEADER = ["名称", "类型", "统一社会信用代码", "电话", "行业", "地区", "来源", "阶段",
                   "地址", "备注", "负责人工号"]
CONTACT_HEADER = ["Customer's credit code", "Customer", "Name", "Title", "Mobile", "Phone",
                  "Email", "WeChat", "Key person", "Notes"]


def xlsx(customers=None, contacts=None, *, customer_header=CUSTOMER_HEADER,
         contact_header=CONTACT_HEADER, name="customers.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.remove(workbook.active)
    if customers is not None:
        ws = workbook.create_sheet("客户")
        ws.append(customer_header)
        for row in customers:
            ws.append(row)
    if contacts is not None:
        ws = workbook.create_sheet("Contacts")
        ws.append(contact_header)
        for row in contacts:
            ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def customer_row(name=None, *, code="", phone="", owner="", kind="", source="", stage="",
                 region=""):
    name = unique_name() if name is None else name
    return [name, kind, code, phone, "", region, source, stage, "", "", owner]


def run(employee, upload, *, mode="keep_valid", sheets=None, batch_size=None,
        capture=None) -> ImportJob:
    if employee.user.language != "en":  # the report speaks the importer's language
        employee.user.language = "en"
        employee.user.save(update_fields=["language"])
    job = ImportJob.objects.create(kind="customers", mode=mode, created_by=employee.user,
                                   sheets=",".join(sheets or ["customers", "contacts"]),
                                   filename=upload.name)
    job.file.save("upload.xlsx", upload)
    if sheets is None:  # the sheets the file has
        names = load_workbook(upload.file, read_only=True).sheetnames
        upload.file.seek(0)
        sheets = [s for s, title in (("customers", "客户"), ("contacts", "Contacts"))
                  if title in names] or ["customers"]
        job.sheets = ",".join(sheets)
        job.save(update_fields=["sheets"])
    kwargs = {"batch_size": batch_size} if batch_size else {}
    imports.run_import(job.pk, **kwargs)
    job.refresh_from_db()
    return job


def issues(job) -> list[tuple]:
    return list(job.issues.order_by("pk").values_list("sheet", "row", "column", "message"))


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


# --- rules, row by row -----------------------------------------------------------------
def test_a_valid_file_imports_customers_and_contacts(dept):
    code = credit_code()
    job = run(dept.sales, xlsx(
        [customer_row("上海甲科技有限公司", code=code, phone="138 0013 8000", kind="个人",
                      source="Exhibition", stage="active", region="上海")],
        [[code, "", "张三", "经理", "13900139000", "", "z@example.com", "", "是", ""],
         ["", "上海甲科技有限公司", "李四", "", "", "", "", "", "", ""]]))
    assert (job.status, job.rows_seen, job.rows_created, job.rows_rejected) == ("done", 3, 3, 0)
    assert issues(job) == []
    customer = Customer.objects.get(credit_code=code)
    assert (customer.kind, customer.source, customer.stage, customer.phone, customer.region) == (
        "individual", "exhibition", "active", "+8613800138000", "上海")
    assert customer.owner == dept.sales
    contacts = {c.name: c for c in customer.contacts.all()}
    assert contacts["张三"].mobile == "+8613900139000" and contacts["张三"].is_key
    assert set(contacts) == {"张三", "李四"}


def test_row_errors_name_sheet_row_column_and_message(dept):
    taken = make_customer(dept.other_sales, phone=mobile(7001))
    job = run(dept.sales, xlsx(
        [customer_row(code="91310000ABCDEFGHIJ"),  # row 2: bad credit code
         customer_row(phone="12345"),  # row 3: bad phone
         customer_row(name="", region="上海"),  # row 4: name missing
         customer_row(name=taken.name),  # row 5: duplicate in the database
         customer_row(name="重复公司"),  # row 6
         customer_row(name="重复公司"),  # row 7: duplicate inside the file
         customer_row(stage="whatever")],  # row 8: unknown stage
        [["", "没有这个客户", "王五", "", "", "", "", "", "", ""]]))  # contact: unknown customer
    with translation.override("en"):
        refusal = services._duplicate(taken, "name").message
    found = issues(job)
    assert found[0][:3] == ("客户", 2, "统一社会信用代码")
    assert found[1][:3] == ("客户", 3, "电话")
    assert found[2] == ("客户", 4, "名称", "Enter the customer's name.")
    assert found[3] == ("客户", 5, "名称", refusal)
    assert "杭州所" in found[3][3] and taken.owner.name in found[3][3]
    assert found[4] == ("客户", 7, "名称", "Row 6 of sheet “客户” has the same name.")
    assert found[5][:3] == ("客户", 8, "阶段")
    assert found[6] == ("Contacts", 2, "Customer", "No customer with this name is in the file "
                        "or among the customers you may edit.")
    assert (job.rows_seen, job.rows_created, job.rows_rejected) == (8, 1, 7)




def test_a_contact_phone_that_is_another_customers_is_refused_naming_its_owner(dept):
    taken = make_customer(dept.other_sales, phone=mobile(7101))
    code = credit_code()
    job = run(dept.sales, xlsx(
        [customer_row(code=code, phone=mobile(7102))],
        [[code, "", "甲", "", mobile(7101), "", "", "", "", ""],   # another customer's phone
         [code, "", "乙", "", mobile(7102), "", "", "", "", ""],   # its own customer's: fine
         [code, "", "丙", "", mobile(7103), "", "", "", "", ""],
         ["", unique_name(), "丁", "", mobile(7103), "", "", "", "", ""]]))
    with translation.override("en"):
        refusal = services._duplicate(taken, "phone", field="mobile").message
    assert issues(job) == [
        ("Contacts", 2, "Mobile", refusal),
        ("Contacts", 5, "Customer", "No customer with this name is in the file or among the "
                                    "customers you may edit."),
    ]
    assert Contact.objects.filter(customer__credit_code=code).count() == 2


def test_the_same_phone_for_two_customers_in_one_file_is_refused(dept):
    job = run(dept.sales, xlsx([customer_row(phone=mobile(7201)),
                                customer_row(phone=f"+86 {mobile(7201)[3:]}")]))
    assert issues(job) == [("客户", 3, "电话", "Row 2 of sheet “客户” has the same phone number.")]


def test_owner_column_follows_the_rule_of_customer_create(dept):
    upload = xlsx([customer_row(owner=dept.sales_mate.number),
                   customer_row(owner=dept.other_sales.number),
                   customer_row(owner="NOBODY")])
    job = run(dept.lead, upload)
    assert [i[1:3] for i in issues(job)] == [(3, "负责人工号"), (4, "负责人工号")]
    assert issues(job)[1][3] == "No employee has the number NOBODY."
    assert Customer.objects.get().owner == dept.sales_mate
    job = run(dept.sales, xlsx([customer_row(owner=dept.sales_mate.number)]))
    assert issues(job)[0][1:3] == (2, "负责人工号") and job.rows_created == 0


# --- modes ---------------------------------------------------------------------------
def _mixed_file():
    code = credit_code()
    return xlsx([customer_row(code=code), customer_row(phone="not a phone"),
                 customer_row()],
                [[code, "", "张三", "", "", "", "", "", "", ""],
                 [code, "", "李四", "", "", "", "bad email", "", "", ""]])


def test_all_or_nothing_writes_nothing_when_a_row_is_wrong_and_reports_them_all(dept):
    job = run(dept.sales, _mixed_file(), mode="all_or_nothing")
    assert job.status == "done" and job.rows_created == 0 and job.rows_rejected == 2
    assert [i[:2] for i in issues(job)] == [("客户", 3), ("Contacts", 3)]
    assert not Customer.objects.exists() and not Contact.objects.exists()
    assert not OwnerChange.objects.exists() and not Customer.history.exists()


def test_keep_valid_keeps_exactly_the_valid_rows(dept):
    job = run(dept.sales, _mixed_file(), mode="keep_valid")
    assert (job.rows_seen, job.rows_created, job.rows_rejected) == (5, 3, 2)
    assert Customer.objects.count() == 2 and Contact.objects.get().name == "张三"


def test_all_or_nothing_imports_everything_when_every_row_is_right(dept):
    code = credit_code()
    job = run(dept.sales, xlsx([customer_row(code=code), customer_row()],
                               [[code, "", "张三", "", "", "", "", "", "", ""]]),
              mode="all_or_nothing", batch_size=1)
    assert (job.status, job.rows_created, job.progress) == ("done", 3, 100)
    assert Customer.objects.count() == 2 and Contact.objects.count() == 1


def test_a_crash_while_writing_all_or_nothing_leaves_nothing_half_written(dept, monkeypatch):
    from bizdept.customers import imports as customer_imports

    def broken(contacts, run):
        raise RuntimeError("disk full")

    monkeypatch.setattr(customer_imports.CONTACTS_SHEET, "write", broken)
    code = credit_code()
    job = run(dept.sales, xlsx([customer_row(code=code)],
                               [[code, "", "张三", "", "", "", "", "", "", ""]]),
              mode="all_or_nothing")
    assert job.status == "failed" and job.failure and job.rows_created == 0
    assert not Customer.objects.exists() and not OwnerChange.objects.exists()


def test_a_customer_created_meanwhile_aborts_all_or_nothing(dept, monkeypatch):
    """Right when checked, a duplicate when written: everything rolls back."""
    from bizdept.customers import imports as customer_imports

    name = unique_name()
    original = customer_imports.CUSTOMERS_SHEET.check

    def racing(rows, run):
        if run.writing and not Customer.objects.filter(name=name).exists():
            make_customer(dept.other_sales, name=name)
        return original(rows, run)

    monkeypatch.setattr(customer_imports.CUSTOMERS_SHEET, "check", racing)
    job = run(dept.sales, xlsx([customer_row(), customer_row(name)]), mode="all_or_nothing",
              batch_size=1)
    assert job.status == "failed" and "Row 3" in job.failure and job.rows_created == 0
    # (the racing customer was made in the import's own transaction here, so it went too)
    assert not Customer.objects.exclude(name=name).exists()


# --- the same customer as customer_create makes -------------------------------------------
def test_an_imported_customer_is_what_customer_create_makes(dept):
    code = credit_code()
    job = run(dept.lead, xlsx([customer_row("导入科技有限公司", code=code,
                                            owner=dept.sales.number)]))
    assert job.rows_created == 1
    imported = Customer.objects.get(credit_code=code)
    made = services.customer_create(by=dept.lead.user, name="手工科技有限公司",
                                    credit_code=credit_code(), owner=dept.sales)
    for field in ("kind", "source", "stage", "grade", "next_revisit_on", "owner_id",
                  "grade_is_manual", "pooled_at", "last_followup_at"):
        assert getattr(imported, field) == getattr(made, field), field
    assert imported.name_key and imported.graded_at
    for customer in (imported, made):
        change = OwnerChange.objects.get(customer=customer)
        assert (change.kind, change.to_owner, change.by) == (
            OwnerChangeKind.CREATED, dept.sales, dept.lead)
        history = customer.history.get()
        assert (history.history_type, history.history_user) == ("+", dept.lead.user)
        assert history.owner_id == dept.sales.pk and history.grade == customer.grade


# --- queries: constant per batch ------------------------------------------------------------
def test_queries_per_batch_do_not_grow_with_the_rows(dept):
    def cost(n):
        rows = [customer_row(code=credit_code(), phone=mobile()) for _ in range(n)]
        contacts = [[r[2], "", "联系人", "", mobile(), "", "", "", "", ""] for r in rows]
        upload = xlsx(rows, contacts)
        with CaptureQueriesContext(connection) as queries:
            job = run(dept.sales, upload, batch_size=50)
        assert job.rows_created == 2 * n
        return len(queries)

    cost(50)  # warm the process-wide caches (content types...)
    per_batch = cost(100) - cost(50)  # two more batches (a customers one, a contacts one)
    assert cost(500) - cost(50) == 9 * per_batch
    assert per_batch < 2 * 50  # far below a query per row


# --- export, template, round trip ------------------------------------------------------------
def test_the_customer_list_exports_the_template_columns_and_it_imports_again(as_user, dept,
                                                                            settings):
    make_customer(dept.sales, credit_code=credit_code(), phone=mobile(), region="上海",
                  stage="active")
    client = as_user(dept.sales)
    response = client.get(reverse("customers:customer_list"), {"export": "xlsx"})
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    template = load_workbook(io.BytesIO(b"".join(client.get(
        reverse("customers:customer_import_template")).streaming_content)))
    template_header = [c.value for c in template.worksheets[0][1]]
    assert header[:len(template_header)] == template_header
    assert [ws.title for ws in template.worksheets][-1] in ("Instructions", "说明")
    assert template.worksheets[0].data_validations.dataValidation  # kind/source/stage lists
    # The same file again: every row is a duplicate of itself, refused naming its owner.
    job = run(dept.sales, SimpleUploadedFile("export.xlsx", content))
    assert job.rows_seen == 1 and job.rows_rejected == 1
    assert "业务员" in issues(job)[0][3] or dept.sales.name in issues(job)[0][3]
    # Deleted in the meantime, the export brings the customer back as it was.
    original = Customer.objects.get()
    Customer.objects.all().delete()
    job = run(dept.sales, SimpleUploadedFile("export.xlsx", content))
    assert job.rows_created == 1, issues(job)
    again = Customer.objects.get()
    for field in ("name", "credit_code", "phone", "region", "stage", "kind", "source",
                  "owner_id"):
        assert getattr(again, field) == getattr(original, field), field


def test_headers_are_matched_in_english_too_and_unknown_or_missing_ones_reported(dept):
    header = ["Name", "Unified social credit code", "Colour"]
    job = run(dept.sales, xlsx([["英文表头公司", credit_code(), "red"]],
                               customer_header=header), sheets=["customers"])
    assert issues(job) == [("客户", 1, "Colour", "Unknown column; it was ignored.")]
    assert job.rows_created == 1
    job = run(dept.sales, xlsx([["x", "y"]], customer_header=["地区", "电话"]),
              sheets=["customers"])
    assert issues(job) == [("客户", 1, "Name", "This column is missing.")]
    assert job.rows_created == 0


# --- pages and API ------------------------------------------------------------------------------
def test_upload_page_runs_the_job_and_its_page_shows_progress_and_report(
        as_user, dept, django_capture_on_commit_callbacks):
    client = as_user(dept.sales)
    html = client.get(reverse("customers:customer_list")).content.decode()
    assert reverse("customers:customer_import") in html
    page = client.get(reverse("customers:customer_import"))
    assert page.status_code == 200 and reverse("customers:customer_import_template") in (
        page.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:customer_import"), {
            "file": xlsx([customer_row(), customer_row(phone="123")]),
            "mode": "keep_valid", "sheets": ["customers"]})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:job",
                                                                          args=[job.pk])
    fragment = client.get(reverse("imports:job", args=[job.pk]), {"fragment": "status"},
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment["HX-Refresh"] == "true"
    assert "100%" in fragment.content.decode() and "hx-trigger" not in fragment.content.decode()
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "import-issues" in page and reverse("imports:issues_xlsx", args=[job.pk]) in page
    report = load_workbook(io.BytesIO(b"".join(client.get(
        reverse("imports:issues_xlsx", args=[job.pk])).streaming_content))).active
    assert [c.value for c in report[2]][:3] == ["客户", 3, "电话"]
    assert job.pk and reverse("imports:job", args=[job.pk]) in client.get(
        reverse("imports:list")).content.decode()


def test_a_running_job_polls_its_status_fragment(as_user, dept):
    job = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                   status="running", progress=40, rows_seen=400)
    html = as_user(dept.sales).get(reverse("imports:job", args=[job.pk]),
                                   {"fragment": "status"}).content.decode()
    assert 'hx-trigger="every 1s"' in html and "40%" in html


def test_someone_elses_import_is_404_but_an_administrator_sees_it(as_user, client, dept):
    job = ImportJob.objects.create(kind="customers", created_by=dept.sales.user,
                                   status="done", started_at=timezone.now())
    for url in (reverse("imports:job", args=[job.pk]),
                reverse("imports:issues_xlsx", args=[job.pk]),
                f"/api/v1/imports/{job.pk}", f"/api/v1/imports/{job.pk}/issues"):
        assert as_user(dept.lead).get(url).status_code == 404, url
        assert as_user(dept.admin).get(url).status_code == 200, url


def test_api_upload_answers_202_and_the_job_can_be_followed(
        as_user, dept, django_capture_on_commit_callbacks):
    client = as_user(dept.sales)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/customers/import", {
            "file": xlsx([customer_row(), customer_row(code="bad")]), "mode": "keep_valid",
            "sheets": "customers"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["sheets"] == ["customers"]
    job = client.get(f"/api/v1/imports/{body['id']}").json()
    assert (job["status"], job["rows_created"], job["rows_rejected"], job["progress"]) == (
        "done", 1, 1, 100)
    page = client.get(f"/api/v1/imports/{body['id']}/issues").json()
    assert page["count"] == 1 and page["items"][0]["row"] == 3
    assert page["items"][0]["column"] == "统一社会信用代码"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"hello, not a workbook", "not an Excel workbook")])
def test_api_refuses_what_is_not_an_xlsx_naming_the_file(as_user, dept, content, message):
    response = as_user(dept.sales).post("/api/v1/customers/import", {
        "file": SimpleUploadedFile("x.xlsx", content), "mode": "keep_valid"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert message in response.json()["detail"] or response.json()["detail"]
    assert not ImportJob.objects.exists() and not ImportIssue.objects.exists()


def test_api_refuses_a_file_over_the_limit(as_user, dept, settings):
    settings.BIZDEPT_IMPORT_MAX_BYTES = 100
    response = as_user(dept.sales).post("/api/v1/customers/import", {
        "file": xlsx([customer_row()])})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["file"]
