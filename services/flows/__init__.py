"""Hand-written write flows, one module per system (``register(app, ctx, publisher)``).

Reads are generated from access patterns (``services.routes``); what a seed describes
as a write with an invariant — a balance that never goes negative, stock that is never
oversold, an email registered once — is written here, once per system.
"""
