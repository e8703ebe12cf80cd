"""The History tab (ORG-5): who changed what, when, before and after."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

KIND_LABELS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: object
    who: str
    kind: str
    changes: list[Change] = field(default_factory=list)


def history_entries(obj, *, limit: int = 200) -> list[Entry]:
    """Newest first. A constant number of queries: the history rows, then one lookup per
    related model to show names instead of ids."""
    records = list(obj.history.select_related("history_user").order_by("-history_date",
                                                                        "-history_id")[:limit + 1])
    model = obj.__class__
    fk_names = _related_names(model, records)
    entries = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        entry = Entry(when=record.history_date, who=_who(record),
                      kind=str(KIND_LABELS.get(record.history_type, record.history_type)))
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                entry.changes.append(Change(
                    field=_label(model, change.field),
                    old=_show(model, change.field, change.old, fk_names),
                    new=_show(model, change.field, change.new, fk_names),
                ))
        entries.append(entry)
    return entries


def _who(record) -> str:
    user = record.history_user
    if user is None:
        return str(_("System"))
    employee = getattr(user, "employee", None) if hasattr(user, "employee") else None
    return employee.name if employee else user.get_username()


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _related_names(model, records) -> dict:
    """{(field, pk): str} for every foreign key value seen in the records."""
    wanted: dict = {}
    for f in model._meta.concrete_fields:
        if f.is_relation and f.many_to_one:
            ids = {getattr(r, f.attname) for r in records} - {None}
            if ids:
                wanted[f] = ids
    names = {}
    for f, ids in wanted.items():
        for obj in f.related_model._default_manager.filter(pk__in=ids):
            names[(f.name, obj.pk)] = str(obj)
    return names


def _show(model, name, value, fk_names) -> str:
    if value is None or value == "":
        return "—"
    try:
        f = model._meta.get_field(name)
    except Exception:
        return str(value)
    if f.is_relation and f.many_to_one:
        return fk_names.get((f.name, value), str(value))
    if f.many_to_many:
        return ", ".join(str(v) for v in value) or "—"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    return str(value)
