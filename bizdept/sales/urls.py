from django.urls import path

from bizdept.imports import views as import_views

from . import views

app_name = "sales"
urlpatterns = [
    # --- products (SAL-1) ---
    path("products/", views.ProductListPage.as_view(), name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/import/", import_views.upload, {"kind": "products",
                                                   "template_url": "sales:product_import_template",
                                                   "back_url": "sales:product_list"},
         name="product_import"),
    path("products/import/template.xlsx", import_views.template,
         {"kind": "products", "filename": "products-template"},
         name="product_import_template"),
    path("products/categories/", views.CategoryListPage.as_view(), name="category_list"),
    path("products/categories/new/", views.category_create, name="category_create"),
    path("products/categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("products/<int:pk>/", views.ProductDetailPage.as_view(), name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/deactivate/", views.product_deactivate, name="product_deactivate"),
    path("products/<int:pk>/activate/", views.product_activate, name="product_activate"),
    # --- contract number register (SAL-4) ---
    path("contract-numbers/", views.ContractNumberListPage.as_view(), name="number_list"),
    path("contract-numbers/mine/", views.MyContractNumbersPage.as_view(), name="number_mine"),
    path("contract-numbers/issue/", views.number_issue, name="number_issue"),
    path("contract-numbers/<int:pk>/", views.ContractNumberDetailPage.as_view(),
         name="number_detail"),
    path("contract-numbers/<int:pk>/void/", views.number_void, name="number_void"),
    path("contract-numbers/<int:pk>/return/", views.number_return, name="number_return"),
    # --- opportunities (SAL-2), contracts (SAL-5), receivables (SAL-6), expenses (SAL-7) ---
]
