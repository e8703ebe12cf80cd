"""The duplicate check (CUS-5) measured in-process: what every customer create pays
before it writes, against all the customers and contacts of the department.

``selectors.duplicate_of`` looks up the credit code, the normalized name, then the phones
among customers and among contacts (at most one query each); a brand-new customer, the
common case, pays for every lookup. The checks are a seeded mix of
existing credit codes, names, customer phones, contact phones and keys that match
nothing, each verified (a check that finds the wrong thing fails the bench). Every
lookup's plan is read with EXPLAIN QUERY PLAN (SQLite): a plan that scans the customers
or contacts table is named in the notes.

One more row times the whole ``services.customer_create`` refusal: identity validation,
the check, and the message naming the owner.
"""

from __future__ import annotations

import random
from collections import defaultdict
from time import perf_counter

from .report import Row, percentile

SEED = 20240611
# kind → weight in the mix; "new" matches nothing and runs every lookup.
MIX = {"new": 6, "credit_code": 1, "name": 1, "customer_phone": 1, "contact_phone": 1}
LABELS = {
    "new": "no match (new keys)",
    "credit_code": "existing credit code",
    "name": "existing name",
    "customer_phone": "existing customer phone",
    "contact_phone": "existing contact phone",
}
# What the check answers for each kind: ``matched_on`` of duplicate_of, or None.
MATCHED_ON = {"new": None, "credit_code": "credit_code", "name": "name",
              "customer_phone": "phone", "contact_phone": "phone"}
BIG_TABLES = ("customers_customer", "customers_contact")


def _new_code(rng: random.Random, division: str) -> str:
    from bizdept.customers.demo import credit_code

    # The scale data numbers its organization codes 00000001…; "B" + 7 digits is none.
    return credit_code(division, f"B{rng.randrange(10**7):07d}")


def make_checks(n: int, seed: int = SEED) -> list[tuple[str, dict, int | None]]:
    """``n`` checks ``(kind, duplicate_of kwargs, pk of the customer it must find)``,
    drawn from the database with a fixed seed."""
    from bizdept.core.validators import normalize_company_name
    from bizdept.customers.models import Contact, Customer

    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    pks = list(Customer.objects.values_list("pk", flat=True))
    picked = rng.sample(pks, min(len(pks), sum(k != "new" for k in kinds)))
    customers = Customer.objects.in_bulk(picked)
    contact_of = {}
    for contact in (Contact.objects.filter(customer_id__in=picked)
                    .exclude(mobile="", phone="").order_by("customer_id", "pk")):
        contact_of.setdefault(contact.customer_id, contact)
    divisions = [c.credit_code[2:8] for c in customers.values() if c.credit_code] or ["110101"]

    checks, pick = [], iter(picked)
    for i, kind in enumerate(kinds):
        new = {"credit_code": _new_code(rng, rng.choice(divisions)),
               "name_key": normalize_company_name(f"基准新客户{seed}{i}号有限公司"),
               "phones": [f"+86137{rng.randrange(10**8):08d}"]}
        if kind == "new":
            checks.append((kind, new, None))
            continue
        customer = customers[next(pick)]
        if kind == "credit_code" and customer.credit_code:
            checks.append((kind, {**new, "credit_code": customer.credit_code}, customer.pk))
        elif kind == "name":
            checks.append((kind, {**new, "name_key": customer.name_key}, customer.pk))
        elif kind == "customer_phone" and customer.phone:
            checks.append((kind, {**new, "phones": [customer.phone]}, customer.pk))
        elif kind == "contact_phone" and customer.pk in contact_of:
            contact = contact_of[customer.pk]
            checks.append((kind, {**new, "phones": [contact.mobile or contact.phone]},
                           customer.pk))
        else:  # this customer lacks that key: check its name instead
            checks.append(("name", {**new, "name_key": customer.name_key}, customer.pk))
    return checks


def _verify(kind: str, found, expected_pk: int | None) -> None:
    want = MATCHED_ON[kind]
    got = None if found is None else found[1]
    if got != want or (found is not None and found[0].pk != expected_pk):
        raise RuntimeError(f"duplicate check of kind {kind!r} answered {found!r}; "
                           f"expected {want!r} on customer {expected_pk}")


class _Recorder:
    """A ``connection.execute_wrapper`` keeping each statement with its parameters: the
    plan of a partial index depends on the parameter values, so EXPLAIN needs both."""

    def __init__(self):
        self.statements: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def query_plans(statements) -> list[tuple[str, list[str]]]:
    """EXPLAIN QUERY PLAN of each SELECT: ``(table the query reads first, plan lines)``.
    Empty on other databases."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return []
    plans = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"') if " FROM " in sql else ""
            plans.append((table, [row[3] for row in cursor.fetchall()]))
    return plans


def scans(plans) -> list[str]:
    """Plan lines that read a whole big table (or a whole index of it)."""
    return [line for _table, lines in plans for line in lines
            if line.startswith("SCAN") and any(t in line for t in BIG_TABLES)]


def measure(checks, warmup: int = 20) -> dict:
    """Per kind: timings (ms) of every check, its query count and the plans of its
    queries. Queries and plans come from one extra, untimed check per kind."""
    from django.db import connection

    from bizdept.customers import selectors

    for _kind, kwargs, _pk in checks[:warmup]:
        selectors.duplicate_of(**kwargs)
    timings = defaultdict(list)
    for kind, kwargs, expected in checks:
        start = perf_counter()
        found = selectors.duplicate_of(**kwargs)
        timings[kind].append((perf_counter() - start) * 1000)
        _verify(kind, found, expected)

    queries, plans = {}, {}
    for kind in timings:
        _kind, kwargs, _expected = next(c for c in checks if c[0] == kind)
        recorder = _Recorder()
        with connection.execute_wrapper(recorder):
            selectors.duplicate_of(**kwargs)
        queries[kind] = len(recorder.statements)
        plans[kind] = query_plans(recorder.statements)
    return {"timings": dict(timings), "queries": queries, "plans": plans}


def _plan_note(plans) -> str:
    found = scans(plans)
    if found:
        return "SCANS: " + "; ".join(sorted(set(found)))
    if not plans:
        return "plans not checked (not SQLite)"
    return "every lookup an index search"


def duplicate_rows(size: str, checks: int = 500, refusals: int = 100,
                   seed: int = SEED) -> list[Row]:
    """One row per kind of check, one for the whole mix, one for a refused create."""
    sample = make_checks(checks, seed)
    m = measure(sample)
    rows = []
    for kind in MIX:
        if kind not in m["timings"]:
            continue
        times = m["timings"][kind]
        rows.append(Row(
            name=f"duplicate check, {LABELS[kind]}, size {size}",
            median_ms=percentile(times, 50), p95_ms=percentile(times, 95),
            queries=m["queries"][kind],
            notes=f"{len(times)} checks; {_plan_note(m['plans'][kind])}",
        ))
    every = [t for times in m["timings"].values() for t in times]
    share = len(m["timings"].get("new", [])) / len(every)
    low, high = min(m["queries"].values()), max(m["queries"].values())
    all_plans = [p for plans in m["plans"].values() for p in plans]
    rows.append(Row(
        name=f"duplicate check, mix, size {size}",
        median_ms=percentile(every, 50), p95_ms=percentile(every, 95),
        notes=(f"{len(every)} checks, {share:.0%} new keys, seed {seed}; "
               f"{low if low == high else f'{low}-{high}'} queries each; "
               f"{_plan_note(all_plans)}"),
    ))
    if refusals:
        rows.append(refusal_row(size, refusals, seed))
    return rows


def refusal_cases(n: int, seed: int = SEED) -> list[tuple[str, dict]]:
    """``services.customer_create`` arguments that must be refused, typed the way people
    type them: another legal form and full-width brackets for a name, lower case for a
    credit code, a national number with spaces for a phone."""
    from bizdept.customers.models import Customer

    rng = random.Random(seed + 1)
    pks = list(Customer.objects.values_list("pk", flat=True))
    customers = Customer.objects.in_bulk(rng.sample(pks, min(len(pks), n)))
    cases = []
    for i, customer in enumerate(customers.values()):
        kind = ("name", "credit_code", "phone")[i % 3]
        fresh = f"基准拒绝{seed}{i}号有限公司"
        if kind == "name":
            name = customer.name.replace("有限公司", "（有限责任公司）")
            cases.append((kind, {"name": name}))
        elif kind == "credit_code" and customer.credit_code:
            cases.append((kind, {"name": fresh, "credit_code": customer.credit_code.lower()}))
        elif kind == "phone" and customer.phone.startswith("+861"):
            national = customer.phone[3:]
            cases.append((kind, {"name": fresh,
                                 "phone": f"{national[:3]} {national[3:7]} {national[7:]}"}))
        else:
            cases.append(("name", {"name": customer.name}))
    return cases


def refusal_row(size: str, n: int = 100, seed: int = SEED, username: str = "sales",
                warmup: int = 5) -> Row:
    """A salesperson creating a customer that already exists: refused with 409."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bizdept.customers import services

    user = get_user_model().objects.get(username=username)
    cases = refusal_cases(n, seed)

    def refuse(kind, kwargs):
        try:
            services.customer_create(by=user, **kwargs)
        except services.DuplicateCustomer as exc:
            if kind not in exc.errors:
                raise RuntimeError(f"refused on {list(exc.errors)}, expected {kind!r}") from exc
            return
        raise RuntimeError(f"customer_create accepted a duplicate ({kind}): {kwargs!r}")

    for kind, kwargs in cases[:warmup]:
        user = get_user_model().objects.get(username=username)
        refuse(kind, kwargs)
    timings = []
    for kind, kwargs in cases:
        user = get_user_model().objects.get(username=username)  # cold, as in a request
        start = perf_counter()
        refuse(kind, kwargs)
        timings.append((perf_counter() - start) * 1000)
    user = get_user_model().objects.get(username=username)
    recorder = _Recorder()
    kind, kwargs = next(c for c in cases if c[0] == "phone")  # the longest path
    with connection.execute_wrapper(recorder):
        refuse(kind, kwargs)
    selects = [s for s in recorder.statements if s[0].lstrip().upper().startswith("SELECT")]
    return Row(
        name=f"customer create refused as duplicate, size {size}",
        median_ms=percentile(timings, 50), p95_ms=percentile(timings, 95),
        queries=len(selects),
        notes=(f"{len(timings)} refusals by {username} (name, credit code, phone typed "
               f"differently); queries counted on a phone match; cold user"),
    )
