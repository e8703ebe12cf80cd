from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Excel imports (CUS-12) for every kind of record: jobs, their reports, the engine."""

    name = "bizdept.imports"
    label = "imports"
    verbose_name = "Excel imports"
