"""The whole backend on one machine: ``bash scripts/local.sh`` (or ``python -m local``).

The stack's own functions (from its built zips, each in its own process with its own
environment) behind local stand-ins of API Gateway WebSocket + ``@connections``, Lambda's
invokes and schedule, DynamoDB/SSM/SQS (moto), a token issuer, and Translate, Polly and
Transcribe engines. What runs is read from the Pulumi program under mocks (``local.stack``).
"""
