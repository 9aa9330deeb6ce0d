"""Pure rules: the status model, reports, registration, statistics, input parsing, time. No I/O."""
