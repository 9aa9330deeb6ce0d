"""The local stack: the SAM template's HTTP API, functions and table on 127.0.0.1."""
