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
