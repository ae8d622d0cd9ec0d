"""policy: policy-as-code rules over the Pulumi graph and the topology."""
