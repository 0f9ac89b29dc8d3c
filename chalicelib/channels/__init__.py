"""The edge: provider and HTTP payloads in, plain domain objects out; answers rendered back."""
