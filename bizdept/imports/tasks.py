"""Background tasks of the kernel (Django's Tasks API through the django-tasks backport;
the database backend's worker, ``bizdept db_worker``, runs them)."""

from django_tasks import task


@task()
def import_run(job_id: int) -> None:
    """Run one Excel import job (CUS-12); its outcome is recorded on the job itself."""
    from .services import run_import

    run_import(job_id)
