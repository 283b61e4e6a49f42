"""Masking of personal identifiers for display (DESIGN §4.7).

Masked by default everywhere; the unmasked value is shown only through a reveal that is
permission-checked and written to the access log (see `shequ.audit.services.record_access`).
"""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """``310101199001011234`` → ``310101********1234``: area code and last four kept."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; other lengths keep their first and last quarter."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    keep = max(1, len(digits) // 4)
    return digits[:keep] + "*" * (len(digits) - 2 * keep) + digits[-keep:]


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张**``: for lists shown to people who need only to tell rows apart."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
