"""Lambda runtime plumbing: settings from the environment, metrics, tracing, AWS clients."""
