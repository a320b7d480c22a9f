"""AWS state on loopback: moto's server, with the stack's tables, parameters and queues created in it."""

from __future__ import annotations

import logging
import socket
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local.stack import StackView, create_parameters, create_tables

# Credentials moto accepts; nothing here ever reaches AWS.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class AwsState:
    """moto's ThreadedMotoServer for DynamoDB, SSM, SQS, SNS and CloudWatch, seeded from the stack."""

    def __init__(self, stack: StackView, region: str) -> None:
        self.stack = stack
        self.region = region
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None

    def start(self) -> AwsState:
        """Start the server and create what the stack declares."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        create_tables(self.client("dynamodb"), self.stack.tables())
        create_parameters(self.client("ssm"), self.stack.parameters())
        sqs = self.client("sqs")
        for queue in self.stack.queues():
            sqs.create_queue(QueueName=queue)
        return self

    def client(self, service: str) -> Any:
        """A boto3 client of the local server."""
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing")

    def stop(self) -> None:
        """Stop the server (its port is free afterwards)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
