"""The DynamoDB table: its key scheme, the update builder, messages, counters, leases."""
