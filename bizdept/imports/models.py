"""Excel import jobs (CUS-12), generic: every kind of record imports through them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: import only if every row is right")
    KEEP_VALID = "keep_valid", _("Keep the valid rows, report the others")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def import_upload_to(job, filename: str) -> str:
    """Uploads are kept under MEDIA_ROOT/imports/ by a random name, never the client's."""
    return f"imports/{secrets.token_hex(16)}.xlsx"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job is its creator's; administrators see every job."""
        from bizdept.org.choices import Capability
        from bizdept.org.scope import capabilities_of

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if Capability.ADMINISTER in capabilities_of(user):
            return self
        return self.filter(created_by=user)


class ImportJob(models.Model):
    """One uploaded file being imported in the background, its progress and totals."""

    kind = models.CharField(_("kind"), max_length=30)
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    mode = models.CharField(_("mode"), max_length=20, choices=ImportMode.choices,
                            default=ImportMode.KEEP_VALID)
    sheets = models.CharField(_("sheets"), max_length=100, blank=True,
                              help_text=_("Which sheets to import, comma-separated keys."))
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices,
                              default=ImportStatus.QUEUED, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="import_jobs", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_total = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_seen = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    failure = models.CharField(_("why it failed"), max_length=500, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"],
                                name="importjob_creator_created")]

    def __str__(self):
        return f"{self.filename or self.kind} · {self.get_status_display()}"

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)


class ImportIssue(models.Model):
    """Why one row (or a header) of an import was not taken: sheet, row, column, message."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues",
                            verbose_name=_("import"))
    sheet = models.CharField(_("sheet"), max_length=100)
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    message = models.CharField(_("message"), max_length=500)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")

    def __str__(self):
        return f"{self.sheet}!{self.row} {self.column}: {self.message}"
