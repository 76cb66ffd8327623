"""Forms of the sales desk (order entry, invoices and prebooks) and of Setup > Company. They
check the shape of what was typed; the services decide what is allowed."""

from decimal import Decimal
from zoneinfo import available_timezones

from django import forms

from stemline.core.files import MAX_FILE_BYTES
from stemline.parties.models import Carrier

MAX_LOGO_BYTES = 2 * 1024 * 1024


def zone_choices() -> list[tuple[str, str]]:
    # Area/City names only (America/New_York), UTC first: the legacy aliases (EST5EDT,
    # US/Eastern) name the same zones twice.
    names = sorted(
        n
        for n in available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/"))
    )
    return [("UTC", "UTC"), *((n, n.replace("_", " ")) for n in names)]


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=200)
    address = forms.CharField(max_length=200, required=False, label="Address")
    address_2 = forms.CharField(max_length=200, required=False, label="Address (line 2)")
    city = forms.CharField(max_length=50, required=False)
    state = forms.CharField(max_length=50, required=False)
    zipcode = forms.CharField(max_length=10, required=False, label="ZIP code")
    country = forms.CharField(max_length=50, required=False)
    phone = forms.CharField(max_length=30, required=False)
    email = forms.EmailField(required=False, label="E-mail")
    time_zone = forms.ChoiceField(
        choices=zone_choices,
        help_text="Every time and every 'today' (on hand or future, default ship dates) follows it.",
    )
    currency = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": "Three letters, such as USD."},
    )
    fee_percent = forms.DecimalField(
        label="Transaction fee (%)",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=2,
        help_text="Charged on orders that come through the API; staff orders carry none.",
    )
    auto_confirm = forms.BooleanField(
        required=False, label="Confirm API orders upon checkout (no sales rep confirmation)"
    )
    default_terms = forms.CharField(
        max_length=30,
        required=False,
        label="Default payment terms",
        help_text='For customers without terms of their own: "Net 30", "Net 15", "COD", "Prepaid".',
    )
    logo = forms.FileField(
        required=False,
        help_text="PNG or JPEG, at most 2 MB; printed on the invoice PDF.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload and upload.size > min(MAX_LOGO_BYTES, MAX_FILE_BYTES):
            raise forms.ValidationError("The logo is larger than 2 MB.")
        return upload


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, strip=True)


class EmailForm(forms.Form):
    to = forms.CharField(
        max_length=400, label="Send to", help_text="One or more addresses, separated by ';'."
    )

    def clean_to(self):
        field = forms.EmailField()
        found = [
            p.strip() for p in self.cleaned_data["to"].replace(",", ";").split(";") if p.strip()
        ]
        if not found:
            raise forms.ValidationError("Enter an e-mail address.")
        return [field.clean(p) for p in found[:10]]


class DocumentHeaderForm(forms.Form):
    """The header fields a sales rep may change while the document allows it."""

    ship_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    carrier = forms.ModelChoiceField(queryset=Carrier.objects.none(), required=False)
    customer_po = forms.CharField(max_length=20, required=False, label="Customer PO")
    notes = forms.CharField(max_length=200, required=False, label="Notes")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.filter(company=company, active=True)
        self.fields["carrier"].label_from_instance = lambda carrier: carrier.name
