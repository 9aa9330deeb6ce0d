"""One module per function (named like its folder in functions/): what the handler does."""
