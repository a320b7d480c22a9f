"""AWS state on loopback: moto's server, with the stack's tables, parameters and queues created in it."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
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
    """moto's ThreadedMotoServer for DynamoDB, SSM, SQS, SNS and CloudWatch, seeded from the stack.

    With ``journal`` (a file in ``--state DIR``), every request moto serves is appended to it
    (moto's recorder) and, at the next start, replayed before anything else: tables, sessions,
    connections and parameters survive a restart. Without it, state lives for the run only.
    """

    def __init__(self, stack: StackView, region: str, journal: Path | None = None) -> None:
        self.stack = stack
        self.region = region
        self.journal = journal
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None
        self.replayed = 0

    def start(self) -> AwsState:
        """Start the server, replay the journal if any, and create what the stack declares and is missing."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        if self.journal is not None:
            self._replay_and_record(self.journal)
        dynamodb = self.client("dynamodb")
        existing = set(dynamodb.list_tables()["TableNames"])
        create_tables(dynamodb, [t for t in self.stack.tables() if t["name"] not in existing])
        ssm = self.client("ssm")
        parameters = [p for p in self.stack.parameters() if not self._parameter_exists(ssm, p["name"])]
        create_parameters(ssm, parameters)
        sqs = self.client("sqs")
        for queue in self.stack.queues():
            sqs.create_queue(QueueName=queue)
        return self

    @staticmethod
    def _parameter_exists(ssm: Any, name: str) -> bool:
        try:
            ssm.get_parameter(Name=name)
        except ssm.exceptions.ParameterNotFound:
            return False
        return True

    def _replay_and_record(self, journal: Path) -> None:
        from moto.moto_api import recorder

        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.touch()
        recorder._location = str(journal)  # moto reads the path from the environment at import only
        self.replayed = sum(1 for line in journal.read_text().splitlines() if line.strip())
        if self.replayed:
            # The recorded URLs name the previous run's port: replay against this one.
            recorder.replay_recording(target_host=self.endpoint)
        recorder.start_recording()

    def client(self, service: str) -> Any:
        """A boto3 client of the local server."""
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing")

    def stop(self) -> None:
        """Stop the server (its port is free afterwards)."""
        if self.journal is not None:
            from moto.moto_api import recorder

            recorder.stop_recording()
        if self._server is not None:
            self._server.stop()
            self._server = None
