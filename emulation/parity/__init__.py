"""``polystore parity``: the live local stack compared with the topology, kind by kind."""
