"""Data in motion between stores: the stream-to-search handler, its local poller, reindex.

``sync.stream_to_search`` is what runs in the Lambda (stdlib + botocore only); the
other modules (poller, checkpoints, status, redrive, reindex) run locally or as a one-off
task and may use the rest of the project.
"""
