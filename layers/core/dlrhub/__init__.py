"""DLR Hub core: status model, provider modules, store, configuration."""
