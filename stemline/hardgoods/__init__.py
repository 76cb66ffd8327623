"""Hard goods: non-floral supplies (vases, foam, ribbon, wrap) sold by the unit."""
