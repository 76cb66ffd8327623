"""Forms of the Vendor Portal."""

import re

from django import forms

from stemline.inventory.models import AWB_MAX_LENGTH
from stemline.purchasing.services import MAX_BOXES_PER_LINE


class ShipForm(forms.Form):
    awb = forms.CharField(label="AWB", max_length=AWB_MAX_LENGTH)
    house_awb = forms.CharField(label="House AWB", max_length=AWB_MAX_LENGTH, required=False)
    ship_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    boxes = forms.IntegerField(
        min_value=1,
        max_value=MAX_BOXES_PER_LINE,
        required=False,
        help_text="Fewer than the line's boxes splits it; the rest stays to ship later.",
    )
    box_codes = forms.CharField(
        label="Box codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per box, separated by commas or new lines; empty to have them made.",
    )
    lot_number = forms.CharField(max_length=20, required=False)

    ERROR_FIELDS = {
        "awb": "awb",
        "houseAWB": "house_awb",
        "shipDate": "ship_date",
        "boxCodes": "box_codes",
        "boxes": "boxes",
        "poItemId": None,
    }

    def clean_box_codes(self) -> list[str]:
        codes = [c for c in re.split(r"[,\s]+", self.cleaned_data.get("box_codes") or "") if c]
        if len(codes) > MAX_BOXES_PER_LINE:
            raise forms.ValidationError(f"At most {MAX_BOXES_PER_LINE} box codes.")
        long = [c for c in codes if len(c) > 30]
        if long:
            raise forms.ValidationError(f"A box code has at most 30 characters: {long[0]}")
        return codes

    def clean(self):
        data = super().clean()
        codes, boxes = data.get("box_codes"), data.get("boxes")
        if codes and boxes is not None and boxes != len(codes):
            self.add_error("box_codes", f"{len(codes)} box codes for {boxes} boxes.")
        if not codes and boxes is None and "boxes" not in self.errors:
            self.add_error("boxes", "Give the boxes shipped or their codes.")
        return data


class OfferForm(forms.Form):
    """One offer typed in: a company product in a pack, boxes, cost and shipping window."""

    product = forms.ModelChoiceField(queryset=None)
    box_type = forms.ModelChoiceField(queryset=None)
    unit_type = forms.ChoiceField(choices=[("Stem", "Stem"), ("Bunch", "Bunch")])
    bunches = forms.IntegerField(min_value=1, max_value=100_000, label="Bunches a box")
    stems_bunch = forms.IntegerField(min_value=1, max_value=100_000, label="Stems a bunch")
    boxes = forms.IntegerField(min_value=1, max_value=10_000)
    unit_cost = forms.DecimalField(
        min_value=0, max_digits=10, decimal_places=3, help_text="Per stem or bunch (unit type)."
    )
    available_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    available_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    ERROR_FIELDS = {"line 0.boxes": "boxes", "line 0.availableTo": "available_to"}

    def __init__(self, *args, company, **kwargs):
        from stemline.catalog.models import BoxType, Product

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(
            company=company, active=True
        ).order_by("description")
        self.fields["box_type"].queryset = BoxType.objects.filter(
            company=company, active=True
        ).order_by("code")

    def clean(self):
        data = super().clean()
        start, end = data.get("available_from"), data.get("available_to")
        if start and end and end < start:
            self.add_error("available_to", "Must not be before Available from.")
        return data


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Availability file (CSV)",
        help_text="Columns: product (your buyer's product code or name), boxType, unitType, "
        "bunches, stemsBunch, boxes, unitCost, availableFrom, availableTo.",
    )
    mode = forms.ChoiceField(
        choices=[
            ("add", "Add to what I offer"),
            ("replace", "Replace what I offer (never below what is sold)"),
        ],
        initial="add",
        widget=forms.RadioSelect,
    )

    MAX_SIZE = 900 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError("The file is over 900 KB; split it.")
        return upload
