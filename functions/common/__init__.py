"""Code shared by every Lambda function: settings, replies, table schema, observability."""
