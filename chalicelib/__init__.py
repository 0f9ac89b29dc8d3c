"""Guidance contact centre backend: edges (channels/), domain modules, adapters (store, senders)."""
