"""Routes of the company's web application."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import (
    auth,
    availability,
    company,
    documents,
    main,
    order_entry,
    people,
    purchasing,
    receivables,
    sales,
    setup,
    tokens,
)

urlpatterns = [
    path("", main.home, name="home"),
    path("favicon.ico", main.favicon, name="favicon"),
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path(
        "password/change/",
        auth.RevokingPasswordChangeView.as_view(
            template_name="web/simple_form.html",
            extra_context={"heading": "Change password", "submit": "Change password"},
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="web/simple_form.html",
            extra_context={"heading": "Password changed", "intro": "Your new password is set."},
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth.ThrottledPasswordResetView.as_view(
            template_name="web/simple_form.html",
            email_template_name="web/email/password_reset_email.txt",
            subject_template_name="web/email/password_reset_subject.txt",
            extra_context={
                "heading": "Reset your password",
                "intro": "Enter your e-mail address; we send you a link to choose a new password.",
                "submit": "Send the link",
            },
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="web/simple_form.html",
            extra_context={
                "heading": "Check your e-mail",
                "intro": "If the address belongs to a user, a link to reset the password is on "
                "its way.",
            },
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.RevokingPasswordResetConfirmView.as_view(
            template_name="web/simple_form.html",
            extra_context={"heading": "Choose a new password", "submit": "Set the password"},
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/simple_form.html",
            extra_context={
                "heading": "Password set",
                "intro": "Your new password is set.",
                "link": (reverse_lazy("login"), "Sign in"),
            },
        ),
        name="password_reset_complete",
    ),
    path("profile/", main.profile, name="profile"),
    path("profile/api-keys/<int:token_id>/revoke/", main.api_key_revoke, name="api_key_revoke"),
    # Setup
    path("setup/", setup.setup_home, name="setup_home"),
    path("setup/settings/tokens/", tokens.token_list, name="tokens"),
    path("setup/settings/tokens/new/", tokens.token_new, name="token_new"),
    path("setup/settings/tokens/parties/", tokens.token_parties, name="token_parties"),
    path("setup/settings/tokens/<int:token_id>/", tokens.token_detail, name="token_detail"),
    path("setup/settings/tokens/<int:token_id>/reset/", tokens.token_reset, name="token_reset"),
    path("setup/settings/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("setup/customers/", setup.customer_list, name="customers"),
    path("setup/customers/export.xlsx", setup.customer_export, name="customers_export"),
    path("setup/customers/new/", setup.customer_edit, name="customer_new"),
    path("setup/customers/<int:customer_id>/", setup.customer_edit, name="customer_edit"),
    path(
        "setup/customers/<int:customer_id>/ship-tos/new/",
        setup.ship_to_edit,
        name="ship_to_new",
    ),
    path(
        "setup/customers/<int:customer_id>/ship-tos/<int:ship_to_id>/",
        setup.ship_to_edit,
        name="ship_to_edit",
    ),
    path(
        "setup/customers/<int:customer_id>/ship-tos/<int:ship_to_id>/remove/",
        setup.ship_to_remove,
        name="ship_to_remove",
    ),
    path("setup/charges/", setup.additional_charge_list, name="additional_charges"),
    path("setup/charges/new/", setup.additional_charge_edit, name="additional_charge_new"),
    path(
        "setup/charges/<int:charge_id>/",
        setup.additional_charge_edit,
        name="additional_charge_edit",
    ),
    path("setup/carriers/", setup.carrier_list, name="carriers"),
    path("setup/carriers/export.xlsx", setup.carrier_export, name="carriers_export"),
    path("setup/carriers/new/", setup.carrier_new, name="carrier_new"),
    path("setup/carriers/<int:carrier_id>/", setup.carrier_edit, name="carrier_edit"),
    path("setup/vendors/", setup.vendor_list, name="vendors"),
    path("setup/vendors/new/", setup.vendor_new, name="vendor_new"),
    path("setup/vendors/<int:vendor_id>/", setup.vendor_detail, name="vendor_detail"),
    path("setup/vendors/<int:vendor_id>/edit/", setup.vendor_edit, name="vendor_edit"),
    path("setup/vendors/<int:vendor_id>/active/", setup.vendor_active, name="vendor_active"),
    path("setup/products/", setup.product_list, name="products"),
    path("setup/products/new/", setup.product_edit, name="product_new"),
    path("setup/products/<int:product_id>/", setup.product_edit, name="product_edit"),
    path("setup/box-types/", setup.box_type_list, name="box_types"),
    path("setup/box-types/new/", setup.box_type_edit, name="box_type_new"),
    path("setup/box-types/<int:box_type_id>/", setup.box_type_edit, name="box_type_edit"),
    path("setup/locations/", setup.location_list, name="locations"),
    path("setup/locations/new/", setup.location_edit, name="location_new"),
    path("setup/locations/<int:location_id>/", setup.location_edit, name="location_edit"),
    path("setup/users/", people.user_list, name="users"),
    path("setup/users/new/", people.user_new, name="user_new"),
    path("setup/users/<int:user_id>/", people.user_edit, name="user_edit"),
    path("setup/users/<int:user_id>/send-link/", people.user_send_link, name="user_send_link"),
    # Sales
    path("sales/inventory/", sales.inventory_page, name="sales_inventory"),
    path("sales/inventory/<int:line_id>/open/", sales.open_box, name="sales_open_box"),
    path("sales/orders/", sales.orders, name="sales_orders"),
    path("sales/orders/confirm/", sales.confirm_orders, name="sales_orders_confirm"),
    path("sales/invoices/", documents.invoice_list, name="sales_invoices"),
    path("sales/invoices/<int:invoice_id>/", documents.invoice_detail, name="sales_invoice"),
    path("sales/invoices/<int:invoice_id>/pdf/", documents.invoice_pdf, name="sales_invoice_pdf"),
    path(
        "sales/invoices/<int:invoice_id>/<slug:action>/",
        documents.invoice_action,
        name="sales_invoice_action",
    ),
    path("sales/prebooks/", documents.prebook_list, name="sales_prebooks"),
    path("sales/prebooks/<int:prebook_id>/", documents.prebook_detail, name="sales_prebook"),
    path(
        "sales/prebooks/<int:prebook_id>/<slug:action>/",
        documents.prebook_action,
        name="sales_prebook_action",
    ),
    path("sales/orders/new/", order_entry.order_new, name="order_entry"),
    path("sales/orders/new/customers/", order_entry.customer_search, name="order_customers"),
    path("sales/orders/new/<int:web_order_id>/", order_entry.order_build, name="order_build"),
    path(
        "sales/orders/new/<int:web_order_id>/<slug:action>/",
        order_entry.order_action,
        name="order_action",
    ),
    path("setup/company/", company.company_settings, name="company_settings"),
    path(
        "setup/availability/",
        availability.availability_settings,
        name="availability_settings",
    ),
    path("setup/company/logo/", company.company_logo, name="company_logo"),
    # Purchasing
    path("purchasing/orders/", purchasing.purchase_orders, name="purchase_orders"),
    path("purchasing/orders/<int:po_id>/", purchasing.purchase_order, name="purchase_order"),
    path("purchasing/awbs/", purchasing.awbs, name="purchasing_awbs"),
    path("purchasing/awbs/<int:awb_id>/", purchasing.awb_detail, name="purchasing_awb"),
    path(
        "purchasing/awbs/<int:awb_id>/receive/",
        purchasing.awb_receive,
        name="purchasing_awb_receive",
    ),
    # Receivables (issue 13): Admin and Accounting.
    path("receivables/", receivables.aging, name="receivables_aging"),
    path("receivables/customers/<int:pk>/", receivables.account, name="receivables_account"),
    path(
        "receivables/customers/<int:pk>/payment/",
        receivables.payment_new,
        name="receivables_payment_new",
    ),
    path(
        "receivables/customers/<int:pk>/statement.pdf",
        receivables.statement_pdf,
        name="receivables_statement",
    ),
    path(
        "receivables/payments/<int:pk>/apply/",
        receivables.payment_apply,
        name="receivables_payment_apply",
    ),
    path(
        "receivables/payments/<int:pk>/void/",
        receivables.payment_void,
        name="receivables_payment_void",
    ),
    path(
        "receivables/invoices/<int:invoice_pk>/credit/",
        receivables.credit_new,
        name="receivables_credit_new",
    ),
    path("receivables/credits/", receivables.credits, name="receivables_credits"),
    path("receivables/credits/<int:pk>/", receivables.credit, name="receivables_credit"),
    path(
        "receivables/credits/<int:pk>/action/",
        receivables.credit_action,
        name="receivables_credit_action",
    ),
    path("receivables/statements.pdf", receivables.statement_pdf, name="receivables_statements"),
    path(
        "receivables/statements/send/",
        receivables.statements_send,
        name="receivables_statements_send",
    ),
    path("receivables/export/", receivables.accounting_export, name="receivables_export"),
]
