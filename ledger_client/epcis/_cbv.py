"""CBV vocabulary values: one bare form for the three spellings EPCIS data uses."""

from __future__ import annotations

__all__ = ["bare", "CBV_PREFIXES", "urn_form"]

# vocabulary -> (EPCIS 1.2 URN prefix, CBV 2.0 web URI prefix)
CBV_PREFIXES: dict[str, tuple[str, str]] = {
    "bizstep": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    "disp": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    "btt": ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    "sdt": ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    "er": ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
}


def bare(value: str | None, vocabulary: str) -> str | None:
    """Return the bare CBV term (``shipping``) for any of its spellings; others unchanged."""
    if value is None:
        return None
    for prefix in CBV_PREFIXES[vocabulary]:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def urn_form(value: str, vocabulary: str) -> str:
    """Return the EPCIS 1.2 URN spelling of a CBV term; URIs pass through unchanged."""
    term = bare(value, vocabulary)
    assert term is not None
    if ":" in term or "/" in term:
        return term
    return CBV_PREFIXES[vocabulary][0] + term
