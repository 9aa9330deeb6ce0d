"""Other services the hub calls: Secrets Manager (accounts), EventBridge (the bus), Lambda, HTTP."""
