"""The one NinjaAPI: /api/v1/, each app mounts its router here."""

from ninja import NinjaAPI, Swagger

from bizdept.appraisal.api import router as appraisal_router
from bizdept.approvals.api import router as approvals_router
from bizdept.core.api import AUTH, install_error_handlers
from bizdept.customers.api import router as customers_router
from bizdept.imports.api import router as imports_router
from bizdept.org.api import router as org_router
from bizdept.reports.api import router as reports_router
from bizdept.sales.api import router as sales_router
from bizdept.targets.api import router as targets_router

api = NinjaAPI(
    title="bizdept API",
    version="1.0.0",
    description="The business department's records. Authenticate with the session cookie "
    "(plus the CSRF token on writes) or with a personal token: `Authorization: Bearer bd_…`.",
    auth=AUTH,
    urls_namespace="api-1.0.0",
    docs_url="/docs",
    # Swagger UI from ninja's own static files (no CDN); no validatorUrl, or the page would
    # load a badge from validator.swagger.io and send it the schema's address.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
    docs_decorator=None,
)
install_error_handlers(api)
api.add_router("/", org_router)
# Before customers: "/customers/import" must not be read as "/customers/{customer_id}".
api.add_router("/", imports_router)  # Excel imports (CUS-12)
api.add_router("/", customers_router)
api.add_router("/", sales_router)  # products, contract numbers (SAL)
api.add_router("/", approvals_router)  # the approval engine (SAL-3)
api.add_router("/", targets_router)  # target plans, tracking, rankings (TGT)
api.add_router("/", appraisal_router)  # scorecard templates (PER-2)
api.add_router("/", "bizdept.kpi.api.router")  # KPI inputs: market sizes, planned mix (PER-1)
api.add_router("/", "bizdept.incentives.api.router")  # bonus plans, runs, awards (INC)
api.add_router("/", reports_router)  # role dashboards (RPT-1)
