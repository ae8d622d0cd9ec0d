"""infra: the Pulumi program and its components, built from the topology model."""
