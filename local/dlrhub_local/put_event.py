"""python -m dlrhub_local.put_event MESSAGE_ID [EVENT_TYPE] --endpoint URL: one AWS End User
Messaging SMS delivery event on a bus by hand, as the local stack's "try" lines show.

The event is what the simulator sends (dlrhub_local.simulators.awseum); the local stack's
event router hands it to the events function.
"""

from __future__ import annotations

import argparse
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from dlrhub_local.simulators.awseum import put_event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlrhub_local.put_event", description=__doc__)
    parser.add_argument("message_id", help="the messageId SendTextMessage returned")
    parser.add_argument("event_type", nargs="?", default="TEXT_DELIVERED", help="e.g. TEXT_DELIVERED, TEXT_BLOCKED")
    parser.add_argument("--endpoint", required=True, help="EventBridge endpoint (the local stack's moto server)")
    args = parser.parse_args(argv)
    events = boto3.client(
        "events",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # moto server takes any
    )
    try:
        taken = put_event(events, args.message_id, args.event_type)
    except EndpointConnectionError:
        print(f"put_event: nothing answers at {args.endpoint}: is the local stack running (its banner prints the URL)?")
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"put_event: the bus refused the event: {error}")
        return 2
    print(f"{args.event_type} for {args.message_id}: {'put on the bus' if taken else 'refused'}")
    return 0 if taken else 1


if __name__ == "__main__":
    sys.exit(main())
