"""Forms of Setup > Integrations: connecting a marketplace and tuning its channel."""

from django import forms

from stemline.core.limits import INT_MAX

from .models import MAX_BATCH, Marketplace


class ConnectForm(forms.Form):
    marketplace = forms.ChoiceField(choices=Marketplace.choices, initial=Marketplace.DWF)
    customer = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="The customer that represents the marketplace; leave empty to create one.",
    )
    endpoint = forms.URLField(
        label="Feed endpoint",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Where Stemline pushes the inventory feed (the marketplace gives it); can be "
        "added later.",
    )
    location = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    name = forms.CharField(max_length=100, required=False, help_text="Default: the marketplace.")

    ERROR_FIELDS = {
        "marketplace": "marketplace",
        "customerId": "customer",
        "endpoint": "endpoint",
        "locationId": "location",
        "carrierId": "marketplace",
        "vendorId": "marketplace",
    }

    def __init__(self, *args, customers=(), locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", "A new customer named after the marketplace")]
        self.fields["customer"].choices += list(customers)
        if locations:
            self.fields["location"].choices = [("", "The default location")] + list(locations)
        else:
            del self.fields["location"]


class ChannelForm(forms.Form):
    sells_on_hand = forms.BooleanField(label="Sells on-hand boxes", required=False)
    sells_future = forms.BooleanField(label="Sells future boxes", required=False)
    sells_units = forms.BooleanField(
        label="Sells bunches and stems", required=False, help_text="Units of opened boxes."
    )
    sells_availability = forms.BooleanField(
        label="Sells growers' availability",
        required=False,
        help_text="Growers' offers (origin 3), at the company's markup.",
    )
    sells_hard_goods = forms.BooleanField(
        label="Sells hard goods",
        required=False,
        help_text="When the company offers hard goods to channels (Setup > Hard goods).",
    )
    price_level = forms.ChoiceField(
        choices=[("A", "Price A"), ("B", "Price B")],
        help_text="The channel's customer's price level: shown in the feed and charged alike.",
    )
    markup = forms.DecimalField(
        label="Markup on A for price B (%)", min_value=0, max_value=1000, decimal_places=2
    )
    line_cap = forms.IntegerField(
        label="Cap per line (boxes)",
        min_value=1,
        max_value=INT_MAX,
        required=False,
        help_text="Empty: no cap.",
    )
    buffer = forms.IntegerField(
        label="Buffer per line (boxes)",
        min_value=0,
        max_value=INT_MAX,
        help_text="Boxes of each line kept back from this marketplace.",
    )
    fee_rate = forms.DecimalField(
        label="Transaction fee rate", min_value=0, max_value=0.9999, decimal_places=4
    )
    snapshot_every = forms.IntegerField(
        label="Full snapshot every (seconds)", min_value=10, max_value=86400
    )
    deltas_per_message = forms.IntegerField(
        label="Changes per message",
        min_value=1,
        max_value=MAX_BATCH,
        required=False,
        help_text="1 (or empty): one message per change. More: the changes waiting are sent "
        "together (inventory.batch), for a marketplace whose receiver takes them.",
    )
    checkout_on_add = forms.BooleanField(label="Check out on every line added", required=False)
    max_share_of_line = forms.IntegerField(
        label="Most of a line held at once (%)",
        min_value=1,
        max_value=100,
        required=False,
        help_text="Hoarding limit of this marketplace's customer; empty: the company's.",
    )
    max_share_of_market = forms.IntegerField(
        label="Most of the open market held at once (%)",
        min_value=1,
        max_value=100,
        required=False,
        help_text="Empty: the company's; 100: no limit.",
    )
    active = forms.BooleanField(label="Active (unticked: paused)", required=False)
    endpoint = forms.URLField(
        label="Feed endpoint", required=False, max_length=500, assume_scheme="https"
    )

    ERROR_FIELDS = {
        "sells": "sells_on_hand",
        "priceLevel": "price_level",
        "markup": "markup",
        "lineCap": "line_cap",
        "buffer": "buffer",
        "feeRate": "fee_rate",
        "snapshotEvery": "snapshot_every",
        "deltasPerMessage": "deltas_per_message",
        "maxShareOfLine": "max_share_of_line",
        "maxShareOfMarket": "max_share_of_market",
        "endpoint": "endpoint",
    }
