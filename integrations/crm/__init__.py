"""CRM connectors: Salesforce and HubSpot, both ways.

``base`` is what a provider module (``salesforce``, ``hubspot``) implements: normalized
records in, a referral and the account's advocacy out, and the errors the sync acts on.
The sync itself (cursors, runs, per-record errors) is ``integrations.crm.sync``.
"""
