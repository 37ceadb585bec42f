"""Writes for the rewards app.

``ledger``: the points ledger, the only code that changes an advocate's points.
``catalog``: the reward catalog, redemptions and their fulfilment (spends and refunds go
through the ledger).
"""
