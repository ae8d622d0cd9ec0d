"""CrossGuard entry point: ``pulumi preview --policy-pack policy/``.

``PolicyPack(...)`` starts the analyzer's gRPC server and blocks, so it is built here only;
the policies themselves come from :func:`policy.crossguard.policies`.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.crossguard import policies

if __name__ == "__main__":
    PolicyPack(
        name="polystore-data-tier",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=policies(),  # type: ignore[arg-type]
    )
