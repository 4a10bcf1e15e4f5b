"""Letter-linter rule `offer_terms` (issue 19): an offer letter prints exactly the `offers` row.

The figures are recomputed from the row with the offer rules (`plan_instalments`,
`settlement_amount`): the row must add up (instalments to the balance, the settlement to balance
x (1 - waived) half-up), the letter's fields must equal them, and the rendered letter must carry
each of them. A letter with no open offer on record is held too.
"""

from __future__ import annotations

from decimal import Decimal

from pipelines.lib.collections.offers import TEMPLATES, plan_instalments, settlement_amount


def _finding(span: str):
    from pipelines.lib.collections.linter import Finding

    return Finding("offer_terms", span)


def offer_amount_texts(row: dict) -> list[str]:
    """The amounts an offer letter may print besides the debt's own."""
    if row.get("offer_terms") is None:
        return []
    return [row["offer_balance_text"], row.get("offer_settlement_amount_text"),
            *(s["amount_text"] for s in row.get("offer_schedule") or [])]


def _expected(offer: dict) -> tuple[list[str], str | None]:
    balance = Decimal(offer["balance_at_offer"])
    if offer["type"] == "settlement":
        amount = settlement_amount(balance, Decimal(offer["waived_share"]))
        return [f"{amount:,.2f}"], f"{amount:,.2f}"
    return [f"{a:,.2f}" for a in plan_instalments(balance, offer["instalments"])], None


def offer_terms(row: dict):
    """Before rendering: the offer exists, adds up, and the letter's fields state it."""
    if row.get("template") not in TEMPLATES:
        return None
    offer = row.get("offer_terms")
    if offer is None:
        return _finding("no open offer on record for the account")
    amounts, settlement = _expected(offer)
    stored = [offer["instalment_amount"]] * (offer["instalments"] - 1) \
        + [offer["last_instalment_amount"]]
    if [f"{Decimal(a):,.2f}" for a in stored] != amounts:
        return _finding(f"offer {offer['offer_id']} amounts do not add up to its balance")
    if offer["type"] == "settlement" and f"{offer['settlement_amount']:,.2f}" != settlement:
        return _finding(f"offer {offer['offer_id']} settlement is not balance x (1 - waived)")
    printed = [s["amount_text"] for s in row.get("offer_schedule") or []]
    if printed != amounts:
        return _finding(f"schedule {printed} is not {amounts}")
    if row.get("offer_settlement_amount_text") != settlement:
        return _finding(f"settlement {row.get('offer_settlement_amount_text')!r} is not "
                        f"{settlement!r}")
    if row.get("offer_balance_text") != f"{Decimal(offer['balance_at_offer']):,.2f}":
        return _finding("balance at offer differs from the offer")
    return None


def offer_terms_printed(row: dict, rendered, channel: str):
    """After rendering: every figure of the offer is in the letter."""
    if row.get("template") not in TEMPLATES or row.get("offer_terms") is None:
        return None
    for text in [*offer_amount_texts(row), row["offer_valid_until_text"]]:
        if text and text not in rendered.body:
            return _finding(f"{text} not printed")
    return None
