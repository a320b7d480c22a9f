"""Lambda REQUEST authorizer of the WebSocket API's $connect route (Cognito JWT, fails closed)."""
