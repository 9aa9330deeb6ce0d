"""What the local stack sets apart from the deployed defaults, so that things happen soon; its ports."""

#: The Infin8linx monitor reports 5-minute windows a minute after they end (deployed: 60 and 60 minutes).
MONITOR_WINDOW, MONITOR_LAG = 5, 1
#: The HTTP API's port when ``--port`` is not given.
PORT = 3000


def ports_sentence(port: int | str = PORT) -> str:
    """The one sentence about the stack's ports: the banner prints it, the README has it for the default port."""
    return (
        f"The HTTP API listens on 127.0.0.1:{port} (--port); the other servers take free ports at random"
        " (--dynamodb-port and --aws-port fix two), all on 127.0.0.1 but DynamoDB Local, which listens on"
        " every interface."
    )
