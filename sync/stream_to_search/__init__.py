"""The DynamoDB-stream → search-index Lambda handler and what it needs at run time.

Only the standard library and botocore (the Lambda runtime's) are imported here, so the
package can be zipped as it is; the link's transform comes as JSON made from the topology.
"""
