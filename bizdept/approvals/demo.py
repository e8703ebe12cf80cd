"""Default approval policies (SAL-3) for the document types the next apps will register.

Policies are data: they may exist before the app that owns the document type does. The
demo (and ``build_scale``) create them when the type has no active policy yet; nothing is
seeded by migration, so a real installation starts with an empty list in /admin/.
"""

from decimal import Decimal

from django.db import transaction

from .models import ApprovalPolicy
from .services import approval_policy_create

LEAD, MANAGER, DIRECTOR = "lead", "manager", "director"


def _role(name, code, min_amount="0", days=2, escalate=1):
    return {"name": name, "approver_kind": "role", "role_code": code,
            "min_amount": Decimal(min_amount), "deadline_days": days,
            "escalate_after_days": escalate}


def _head(name, days=2, escalate=1):
    return {"name": name, "approver_kind": "direct_head", "deadline_days": days,
            "escalate_after_days": escalate}


DEFAULT_POLICIES = [
    ("sales.opportunity", "商机审批 (负责人审批)", [_head("负责人审批", days=1)]),
    ("sales.contract", "合同签订前审批", [
        _role("业务所长", LEAD),
        _role("分管经理", MANAGER, "100000"),
        _role("部门总监", DIRECTOR, "1000000"),
    ]),
    ("sales.contract_amendment", "合同变更审批", [  # SAL-5: same steps as the contract
        _role("业务所长", LEAD),
        _role("分管经理", MANAGER, "100000"),
        _role("部门总监", DIRECTOR, "1000000"),
    ]),
    ("sales.discount", "折扣审批", [
        _role("业务所长", LEAD),
        _role("分管经理", MANAGER, "50000"),
        _role("部门总监", DIRECTOR, "200000"),
    ]),
    ("sales.expense", "费用审批", [_head("直属上级"), _role("部门总监", DIRECTOR, "20000")]),
    ("targets.plan", "目标计划审批", [_role("部门总监", DIRECTOR, days=3)]),
    ("appraisal.cycle", "考核结果审批", [_role("部门总监", DIRECTOR, days=3)]),
    ("incentives.bonus_plan", "奖金方案审批", [_role("财务复核", "finance", days=2),
                                             _role("人事", "hr", days=2)]),
    ("incentives.bonus_run", "奖金核算审批", [_role("财务复核", "finance", days=2),
                                           _role("部门总监", DIRECTOR, days=2)]),
    ("people.resignation", "辞职审批", [_head("直属上级"), _role("人事", "hr")]),
]


@transaction.atomic
def ensure_default_policies() -> int:
    """Create the default policy of every type that has no active one; returns how many."""
    have = set(ApprovalPolicy.objects.filter(active=True).values_list("document_type",
                                                                       flat=True))
    created = 0
    for document_type, name, steps in DEFAULT_POLICIES:
        if document_type not in have:
            approval_policy_create(document_type=document_type, name=name, steps=steps)
            created += 1
    return created


def build_demo(ctx) -> None:
    ensure_default_policies()


def build_scale(ctx, size: str) -> None:
    """The scale departments need no approvals of their own: nothing to build."""
