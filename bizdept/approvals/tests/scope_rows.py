"""SAL-3 rows of the scope matrix: an approval request is seen by the requester and the
heads above them (sales records), plus whoever is involved in it. Here every request's only
approver is the administrator, who sees everything anyway, so the involvement adds nobody
and the matrix checks the scope rule alone."""

from django.urls import reverse

from bizdept.approvals import services
from bizdept.approvals.models import ApprovalPolicy
from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.org.scope import Domain

from .factories import TEST_TYPE, document, register_test_type


def _request(dept, owner):
    register_test_type()
    if not ApprovalPolicy.objects.filter(document_type=TEST_TYPE, active=True).exists():
        services.approval_policy_create(document_type=TEST_TYPE, name="矩阵", steps=[
            {"name": "Admin", "approver_kind": "employee", "employee": dept.admin}])
    return services.approval_submit(document=document(owner), by=owner.user)


ROWS = [
    ScopeRow("approval request page", Domain.SALES, _request,
             lambda r: reverse("approvals:request_detail", args=[r.pk])),
    ScopeRow("approval request API", Domain.SALES, _request,
             lambda r: f"/api/v1/approvals/requests/{r.pk}"),
]
