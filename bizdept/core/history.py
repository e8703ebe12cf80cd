"""The History tab (ORG-5): who changed what, when, before and after.

Built from django-simple-history's rows with a constant number of queries: the history
rows (with their user), the many-to-many rows of all of them at once, and one lookup per
related model to show names instead of ids.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.utils import get_m2m_reverse_field_name

from .models import employee_or_none

KIND_LABELS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}


@dataclass
class Change:
    field: str  # the field's label, in the user's language
    old: str
    new: str
    name: str = ""  # the field's name, for code that filters changes


@dataclass
class Entry:
    when: object
    who: str
    kind: str
    changes: list[Change] = field(default_factory=list)


def history_entries(obj, *, limit: int = 100) -> list[Entry]:
    """Newest first, at most ``limit`` entries."""
    model = obj.__class__
    records = list(
        obj.history.select_related("history_user__employee")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    tracked = [f for f in model._meta.concrete_fields
               if f.name != model._meta.pk.name and _is_tracked(records, f)]
    m2m = _m2m_values(model, records)
    names = _names(tracked, m2m, records)
    entries = []
    for index, record in enumerate(records[:limit]):
        entry = Entry(when=record.history_date, who=_who(record),
                      kind=str(KIND_LABELS.get(record.history_type, record.history_type)))
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is not None and record.history_type == "~":
            for f in tracked:
                old, new = getattr(previous, f.attname), getattr(record, f.attname)
                if old != new:
                    entry.changes.append(Change(capfirst(f.verbose_name), _show(f, old, names),
                                                _show(f, new, names), f.name))
            for f, values in m2m.items():
                old, new = values.get(previous.pk, set()), values.get(record.pk, set())
                if old != new:
                    entry.changes.append(Change(capfirst(f.verbose_name),
                                                _show_many(f, old, names),
                                                _show_many(f, new, names), f.name))
        entries.append(entry)
    return entries


def _is_tracked(records, f) -> bool:
    return not records or hasattr(records[0], f.attname)


def _m2m_values(model, records) -> dict:
    """{m2m field: {history id: set of related ids}} in one query per field."""
    if not records:
        return {}
    result = {}
    historical = type(records[0])
    throughs = {rel.related_model.__name__: rel.related_model
                for rel in historical._meta.related_objects}
    for f in getattr(historical, "_history_m2m_fields", []):
        through = throughs[f"{historical.__name__}_{f.name}"]  # simple-history's naming
        target = get_m2m_reverse_field_name(f)
        values = defaultdict(set)
        rows = through.objects.filter(history__in=[r.pk for r in records])
        for history_id, related_id in rows.values_list("history_id", f"{target}_id"):
            values[history_id].add(related_id)
        result[f] = values
    return result


def _names(fields, m2m, records) -> dict:
    """{(related model, pk): str} for every related id seen, one query per model."""
    wanted = defaultdict(set)
    for f in fields:
        if f.is_relation and f.many_to_one:
            wanted[f.related_model] |= {getattr(r, f.attname) for r in records} - {None}
    for f, values in m2m.items():
        for ids in values.values():
            wanted[f.related_model] |= ids
    names = {}
    for related_model, ids in wanted.items():
        if ids:
            for item in related_model._default_manager.filter(pk__in=ids):
                names[(related_model, item.pk)] = str(item)
    return names


def _who(record) -> str:
    user = record.history_user
    if user is None:
        return str(_("System"))
    employee = employee_or_none(user)
    return employee.name if employee else user.get_username()


def _show(f, value, names) -> str:
    if value is None or value == "":
        return "—"
    if f.is_relation:
        return names.get((f.related_model, value), str(value))
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value,
                           "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "Y-m-d")
    return str(value)


def _show_many(f, ids, names) -> str:
    return ", ".join(sorted(names.get((f.related_model, i), str(i)) for i in ids)) or "—"
