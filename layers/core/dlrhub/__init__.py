"""DLR Hub core, one folder a layer: domain, runtime, providers, table, adapters, services (docs/architecture.md)."""
