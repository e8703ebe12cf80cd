"""SAL-1: products imported from Excel through the generic import — the code is the key
(a known code updates its product), the services' rules row by row, both modes, the
pages, and a constant number of queries per batch."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from bizdept.imports import services as imports
from bizdept.imports.models import ImportJob
from bizdept.sales.models import Product

from .factories import make_category, make_product

HEADER = ["编码", "名称", "类别", "单位", "标准售价", "标准成本", "启用", "备注"]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "产品"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(employee, content: bytes, *, mode="keep_valid", batch_size=None) -> ImportJob:
    from django.core.files.base import ContentFile

    if employee.user.language != "en":
        employee.user.language = "en"
        employee.user.save(update_fields=["language"])
    job = ImportJob.objects.create(kind="products", mode=mode, created_by=employee.user,
                                   sheets="products", filename="products.xlsx")
    job.file.save("upload.xlsx", ContentFile(content))
    imports.run_import(job.pk, **({"batch_size": batch_size} if batch_size else {}))
    job.refresh_from_db()
    return job


def issues(job):
    return list(job.issues.order_by("pk").values_list("row", "column", "message"))


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def catalogue(dept):
    return make_category(dept.director, name="变频器"), make_category(dept.director, name="仪表")


def test_new_codes_are_created_and_known_codes_updated(dept, catalogue):
    drives, meters = catalogue
    old = make_product(dept.director, code="VFD-075", category=drives, price="4000", cost="3000")
    job = run(dept.director, xlsx([
        ["vfd-075", "通用变频器 7.5kW", "变频器", "台", 4680, 3120, "是", ""],
        ["PT-100", "压力变送器", "仪表", "台", "1860.5", 1020, "", "新品"],
        ["PT-200", "差压变送器", " 仪表 ", "台", 2300.4999999999998, 1500, "否", ""],
    ]))
    assert (job.status, job.rows_created, job.rows_rejected) == ("done", 3, 0), issues(job)
    old.refresh_from_db()
    assert (old.name, old.list_price, old.standard_cost) == ("通用变频器 7.5kW", 4680, 3120)
    assert Product.objects.get(code="PT-100").list_price == pytest.approx(1860.5)
    pt200 = Product.objects.get(code="PT-200")
    assert (str(pt200.list_price), pt200.is_active, pt200.category) == ("2300.50", False, meters)
    assert old.history.count() == 2 and old.history.first().history_user == dept.director.user
    assert pt200.history.first().history_type == "+"


def test_wrong_rows_are_reported_by_row_column_and_message(dept, catalogue):
    make_product(dept.director, code="DUP")
    job = run(dept.director, xlsx([
        ["", "无编码", "仪表", "台", 1, 1, "", ""],
        ["A-1", "负价", "仪表", "台", -5, 1, "", ""],
        ["A-2", "三位小数", "仪表", "台", "1.234", 1, "", ""],
        ["A-3", "无类别", "不存在", "台", 1, 1, "", ""],
        ["A-4", "启用不明", "仪表", "台", 1, 1, "也许", ""],
        ["A-5", "正确", "仪表", "台", 1, 1, "", ""],
        ["a-5", "同码", "仪表", "台", 1, 1, "", ""],
    ]))
    assert (job.rows_created, job.rows_rejected) == (1, 6)
    found = issues(job)
    assert [(row, column) for row, column, _m in found] == [
        (2, "编码"), (3, "标准售价"), (4, "标准售价"), (5, "类别"), (6, "启用"), (8, "编码")]
    assert "negative" in found[1][2] and "2 decimal" in found[2][2]
    assert "Row 7" in found[5][2]


def test_all_or_nothing_writes_nothing_when_a_row_is_wrong(dept, catalogue):
    job = run(dept.director, xlsx([["A-1", "好", "仪表", "台", 1, 1, "", ""],
                                   ["A-2", "坏", "仪表", "台", "x", 1, "", ""]]),
              mode="all_or_nothing")
    assert job.rows_created == 0 and job.rows_rejected == 1
    assert not Product.objects.exists()
    job = run(dept.director, xlsx([["A-1", "好", "仪表", "台", 1, 1, "", ""]]),
              mode="all_or_nothing")
    assert job.rows_created == 1 and Product.objects.count() == 1


def test_only_catalogue_keepers_may_import(dept, catalogue):
    job = run(dept.sales, xlsx([["A-1", "好", "仪表", "台", 1, 1, "", ""]]))
    assert job.status == "failed" and not Product.objects.exists()


def test_missing_required_columns_are_reported(dept, catalogue):
    job = run(dept.director, xlsx([["A-1", "好"]], header=["Code", "Name"]))
    assert job.rows_created == 0
    assert {column for _row, column, _m in issues(job)} >= {"Category", "List price"}


def test_queries_per_batch_do_not_grow_with_the_rows(dept, catalogue):
    def cost(n, start):
        rows = [[f"Q-{start + i}", "产品", "仪表", "台", 10, 5, "", ""] for i in range(n)]
        make_product(dept.director, code=f"Q-{start}")  # one update among the inserts
        content = xlsx(rows)
        with CaptureQueriesContext(connection) as ctx:
            job = run(dept.director, content, batch_size=50)
        assert job.rows_created == n, issues(job)
        return len(ctx)

    small, large = cost(50, 0), cost(500, 1000)
    assert large - small <= 9 * 14, (small, large)  # a fixed number per extra batch
    per_batch = (large - small) / 9
    assert per_batch <= 14, per_batch


def test_export_then_import_again_changes_nothing_but_updates(as_user, dept, catalogue):
    make_product(dept.director, code="A-1", category=catalogue[0], price="10", cost="5")
    make_product(dept.director, code="B-1", category=catalogue[1], price="20", cost="8")
    export = as_user(dept.director).get(reverse("sales:product_list"), {"export": "xlsx"})
    content = b"".join(export.streaming_content) if export.streaming else export.content
    sheet = load_workbook(io.BytesIO(content)).active
    assert len([c.value for c in sheet[1]]) == 9  # the template's 8, then the margin
    job = run(dept.director, content)
    assert (job.rows_created, job.rows_rejected) == (2, 0), issues(job)
    assert Product.objects.count() == 2


def test_upload_page_and_template(as_user, dept, django_capture_on_commit_callbacks):
    client = as_user(dept.director)
    page = client.get(reverse("sales:product_import"))
    assert page.status_code == 200
    template = client.get(reverse("sales:product_import_template"))
    assert template.status_code == 200
    content = b"".join(template.streaming_content)
    titles = [c.value for c in load_workbook(io.BytesIO(content)).worksheets[0][1]]
    assert len(titles) == 8  # the margin column is export-only
    make_category(dept.director, name="仪表")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.xlsx", xlsx([["A-1", "好", "仪表", "台", 1, 1, "", ""]]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sales:product_import"),
                               {"file": upload, "mode": "keep_valid", "sheets": ["products"]})
    assert response.status_code == 302
    job = ImportJob.objects.get(kind="products")
    job_page = client.get(reverse("imports:job", args=[job.pk]))
    assert job_page.status_code == 200 and Product.objects.filter(code="A-1").exists()
