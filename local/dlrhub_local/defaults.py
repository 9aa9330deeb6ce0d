"""What the local stack sets apart from the deployed defaults, so that things happen soon."""

#: The Infin8linx monitor reports 5-minute windows a minute after they end (deployed: 60 and 60 minutes).
MONITOR_WINDOW, MONITOR_LAG = 5, 1
