"""The contract's filter semantics: IDs and codes match exactly, names match a substring,
both case-insensitive."""


def iexact(qs, field: str, value):
    return qs.filter(**{f"{field}__iexact": value}) if value not in (None, "") else qs


def icontains(qs, field: str, value):
    return qs.filter(**{f"{field}__icontains": value}) if value not in (None, "") else qs
