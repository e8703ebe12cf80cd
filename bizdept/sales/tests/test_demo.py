"""The sales demo: a believable catalogue and a year of contract numbers, gapless; the
scale builder's products."""

from django.db.models import Count
from django.utils import timezone

from bizdept.org import demo as org_demo
from bizdept.org.demo import DemoContext
from bizdept.sales import demo
from bizdept.sales.models import ContractNumber, Product, ProductCategory


def test_demo_catalogue_and_register(db):
    ctx = DemoContext.new()
    org_demo.build_demo(ctx)
    demo.build_demo(ctx)
    assert ProductCategory.objects.count() == 5
    assert Product.objects.count() == 25
    assert Product.objects.filter(is_active=False).count() == 1
    for product in Product.objects.all():
        assert 0 < product.standard_cost < product.list_price, product.code
    assert set(ProductCategory.objects.annotate(n=Count("products"))
               .values_list("n", flat=True)) == {5}
    numbers = list(ContractNumber.objects.order_by("seq"))
    year = timezone.localdate().year
    assert len(numbers) > 50
    assert [n.seq for n in numbers] == list(range(1, len(numbers) + 1))
    assert all(n.year == year for n in numbers)
    issued_at = [n.issued_at for n in numbers]
    assert issued_at == sorted(issued_at) and issued_at[-1] <= timezone.now()
    statuses = {n.status for n in numbers}
    assert statuses == {"issued", "voided", "returned"}
    assert all(n.reason and n.closed_at >= n.issued_at for n in numbers if n.status != "issued")
    assert sum(n.status == "issued" for n in numbers) > 0.8 * len(numbers)


def test_scale_products(db):
    ctx = DemoContext.new()
    demo.build_scale(ctx, "S")
    assert Product.objects.count() == demo.SCALE["S"]
    assert not Product.objects.filter(list_price__lt=0).exists()
    assert len(set(Product.objects.values_list("code", flat=True))) == demo.SCALE["S"]
