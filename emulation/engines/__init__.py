"""Engine processes of the embedded runtime, and what runs inside them."""
