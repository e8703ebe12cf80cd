from bizdept.sales.tests.contract_factories import signed_contract
from bizdept.sales import services
import datetime

def test_admin_pages(client, dept, admin_employee):
    from bizdept.approvals.demo import ensure_default_policies
    ensure_default_policies()
    c = signed_contract(dept.sales)
    services.payment_record(contract=c, by=dept.finance.user, received_on=datetime.date.today(), amount="10")
    from django.contrib.auth import get_user_model
    u = get_user_model().objects.create_superuser("root", "r@x.cn", "x")
    client.force_login(u)
    for m in ("contract", "contractamendment", "paymentplan", "payment"):
        r = client.get(f"/admin/sales/{m}/")
        assert r.status_code == 200, m
    r = client.get(f"/admin/sales/contract/{c.pk}/change/")
    assert r.status_code == 200
